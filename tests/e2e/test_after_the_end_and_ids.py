"""After a sprint ended, every surface speaks of it as it ended (the review, the tracker,
the outcome agree); ids typed by hand ("²", 20 digits) are refused clearly, never a crash."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from jobs.tracker import tracker_markdown
from tests.e2e.test_quarantine import api
from tests.e2e.test_sprint_command import wait_status_posts
from tests.support.e2e import at, post_report, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def resolved_on_day_2(server: Server) -> None:
    """Day 1's CI report and B-001, filed then and resolved on day 2."""
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    slash(server.url, "/blocker", "P1 Memory Management: leak in cache", user_id="U0DEV")
    at(server, datetime(2025, 10, 30, 14, tzinfo=UTC))
    slash(server.url, "/blocker", "resolve B-001 freed the cache", user_id="U0DEV")
    listeners_done()


def tracker_blockers(server: Server) -> tuple[list[str], list[str]]:
    """The rows of the tracker's "Open Blockers" and "Resolved Blockers" tables."""
    with server.runtime.db.session() as session:
        md = tracker_markdown(session=session, sprint=server.runtime.sprint, now=server.clock())
    lines = md.splitlines()
    start = lines.index("### Open Blockers")
    middle = lines.index("### Resolved Blockers")
    open_rows = [x for x in lines[start:middle] if x.startswith("| B-")]
    resolved_rows = [x for x in lines[middle : middle + 12] if x.startswith("| B-")]
    return open_rows, resolved_rows


def _blockers_across_the_end(server: Server) -> None:
    resolved_on_day_2(server)
    at(server, datetime(2025, 11, 10, 14, tzinfo=UTC))
    slash(server.url, "/blocker", "P1 Memory Management: second leak", user_id="U0DEV")
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))  # the sprint ended on 12 Nov 00:00
    slash(server.url, "/blocker", "resolve B-002 fixed later", user_id="U0DEV")
    listeners_done()


def test_review_after_the_end_counts_blockers_the_outcome_does_not(server: Server) -> None:
    """A blocker resolved after the sprint ended is the next sprint's business: the ended
    sprint's outcome (`GET /api/v1/sprints`) leaves it out, but `/sprint review` posted
    after the end counts it, so the two surfaces disagree on the same ended sprint."""
    _blockers_across_the_end(server)
    [listed] = api(server, "/api/v1/sprints").json()["sprints"]
    outcome = listed["outcome"]
    assert listed["status"] == "ended"
    assert outcome["blockers_resolved"] == 1
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    [review] = wait_status_posts(server, 1)
    text = text_of(review)
    shown = re.search(r"\*Blockers resolved \((\d+)\)\*", text)
    assert shown is not None, text
    assert int(shown[1]) == outcome["blockers_resolved"], text


def test_tracker_after_the_end_lists_a_blocker_both_open_and_resolved(server: Server) -> None:
    """`sprintbot export tracker` after the sprint ended: its figures (open blockers) are as
    of the end, but its resolved blockers as of now, so B-002 shows in both tables."""
    _blockers_across_the_end(server)
    open_rows, resolved_rows = tracker_blockers(server)
    in_both = {r.split("|")[1].strip() for r in open_rows} & {
        r.split("|")[1].strip() for r in resolved_rows
    }
    assert in_both == set(), "\n".join([*open_rows, "--", *resolved_rows])


def test_tests_show_with_a_huge_or_non_ascii_id_is_a_clear_refusal(server: Server) -> None:
    """`/tests show 99999999999999999999` or `/tests show ²` (a superscript two, which
    str.isdigit accepts): a clear "no test has the id" answer, as `GET /api/v1/tests/{id}`
    gives (400/404), not a failure of the command."""
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    answers = {}
    for verb, wanted in (
        ("show", "99999999999999999999"),
        ("show", "\u00b2"),
        ("quarantine", "99999999999999999999"),
        ("unquarantine", "\u00b2"),
    ):
        resp = slash(server.url, "/tests", f"{verb} {wanted}", user_id="U0QALEAD")
        assert resp.status_code == 200, resp.text
        answers[verb, wanted] = resp.json().get("text", "")
    failed = {k: v for k, v in answers.items() if "id" not in v or "went wrong" in v}
    assert failed == {}


def test_sprint_signoff_with_a_non_ascii_digit_is_a_clear_refusal(server: Server) -> None:
    """`/sprint signoff ²` (str.isdigit accepts a superscript two; int() does not): the
    "No milestone with sign-offs on day" refusal, not "something went wrong"."""
    resp = slash(server.url, "/sprint", "signoff \u00b2", user_id="U0QALEAD")
    assert resp.status_code == 200, resp.text
    assert resp.json()["text"].startswith("No milestone with sign-offs on day"), resp.json()


def test_review_after_the_end_says_the_sprint_ended_not_day_15_of_14(server: Server) -> None:
    """DESIGN: "every surface says when the sprint ended". `/sprint review` posted after
    the last day heads with "Day 15 of 14, 2025-11-12" — a day the sprint does not have,
    and a date that is neither its last day nor today — though its data carries
    `status_line` "Sprint ended on 2025-11-11" (what `/sprint` and the reports show)."""
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    [review] = wait_status_posts(server, 1)
    head = text_of(review).splitlines()[:3]
    assert not any("Day 15 of 14" in line for line in head), head
    assert any("Sprint ended on 2025-11-11" in line for line in head), head


def test_api_test_history_with_an_id_beyond_32_bits_is_404_not_500(server: Server) -> None:
    """`GET /api/v1/tests/{id}` accepts up to 18 digits, but the id column is a 32-bit
    INTEGER on PostgreSQL: `/api/v1/tests/3000000000` is a 500 there (SQLite: fine until
    2^63). Run with SPRINTBOT_TEST_DATABASE_URL set to a PostgreSQL database."""
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    resp = api(server, "/api/v1/tests/3000000000")
    assert resp.status_code == 404, resp.text
    resp = slash(server.url, "/tests", "show 3000000000", user_id="U0QALEAD")
    assert "No test has the id" in resp.json()["text"], resp.json()
