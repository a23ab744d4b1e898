"""/sprint and its report, review (with the lessons modal) and sign-off; the App Home
dashboard on app_home_opened. Signed requests in, Web API calls out to the fake Slack."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs import reports
from storage import queries
from tests.support.e2e import (
    at,
    blocks_text,
    click,
    home_opened,
    opened,
    post_report,
    posts,
    responses,
    text_of,
    view_submit,
)
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

DAY2 = datetime(2025, 10, 30, 20, 0, tzinfo=UTC)
DAY3 = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # 10:00 in New York


def status_posts(server: Server) -> list[Any]:
    server.runtime.sender.drain()
    return [p for p in posts(server) if p.args.get("channel") == "#sprint-status"]


def wait_status_posts(server: Server, count: int) -> list[Any]:
    """Status-channel posts queued after an ack (Bolt runs the rest in a worker thread):
    all of them, once every listener has finished, so a late extra post is among them."""
    listeners_done()
    sent = status_posts(server)
    assert len(sent) >= count, f"{len(sent)} of {count} posts"
    return sent


def two_days(server: Server) -> None:
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, DAY2)
    post_report(server, "pytest-xunit1-run2.xml", run="d2", at="2025-10-30T20:00:00Z")
    at(server, DAY3)


def test_sprint_shows_day_health_burndown_and_blockers(server: Server) -> None:
    two_days(server)
    slash(server.url, "/blocker", "P0 Swarm Coordination: consensus broken", user_id="U0DEV")
    started = time.monotonic()
    resp = slash(server.url, "/sprint", user_id="U0DEV")
    assert time.monotonic() - started < 3
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    text = blocks_text(body["blocks"])
    assert body["text"].startswith("Phase 4 Production Readiness — Day 3 of 14: readiness")
    assert "*Plan today / target*\n81.39 % / 85 %" in text
    assert "*Tests passing*\n7/13 (53.85 %, target 87 %)" in text
    # Day 1 ended with 0 failing of 13, now 5 fail; the plan's line for 13 tests is 0.
    # 13 known at 87 %: 12 must pass, so the one failing target is 1.
    assert "*Burn-down*: 5 failing now (plan for today 0, target 1) · 0 fixed this sprint" in text
    assert "regressions introduced 5, open 5 · new failures open 0" in text
    assert "*B-001* P0 · Swarm Coordination — consensus broken" in text


def test_sprint_report_is_for_admins_and_posts_now(server: Server) -> None:
    two_days(server)
    refused = slash(server.url, "/sprint", "report", user_id="U0DEV")
    assert refused.json()["response_type"] == "ephemeral"
    assert refused.json()["text"].startswith("Only sprint admins can post the report on demand")
    assert status_posts(server) == []

    ok = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD")
    assert ok.json()["text"] == "Posting today's daily report in #sprint-status…"
    [report] = wait_status_posts(server, 1)
    assert text_of(report).startswith("Daily report — Day 3 of 14, 2025-10-31")
    assert "Posted on request with `/sprint report`." in text_of(report)
    # The 9:00 job later that day does not post a second one; a second request does.
    from bot import clock

    assert clock.run_job(server.runtime, "daily-report") == "daily-report: already posted today"
    slash(server.url, "/sprint", "report", user_id="U0TECHLEAD")
    assert len(wait_status_posts(server, 2)) == 2


def test_review_draft_and_lessons_modal(server: Server) -> None:
    two_days(server)
    slash(server.url, "/blocker", "P1 Memory Management: leak in cache", user_id="U0DEV")
    at(server, datetime(2025, 10, 31, 17, 30, tzinfo=UTC))
    slash(server.url, "/blocker", "resolve B-001 freed the cache on shutdown", user_id="U0DEV")
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.json()["text"].startswith("Posting the sprint review draft in #sprint-status")
    [review] = wait_status_posts(server, 1)
    text = text_of(review)
    assert text.startswith("Sprint review draft — Phase 4 Production Readiness")
    assert ":x: Production Readiness: target 85 %, achieved" in text
    assert ":x: Zero Regressions Introduced: target 0, achieved 5" in text
    assert "*Regressions introduced during the sprint (5)*" in text
    assert "`tests.swarm.test_coordination::test_leader_election` (still failing)" in text
    assert "*Blockers resolved (1)*" in text and "(resolved in 3.5 h)" in text
    assert "_What went well_\n• _none yet_" in text
    [actions] = [b for b in review.args["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["action_id"] == "lesson_add"

    click(server, "lesson_add", "lesson", user="U0QALEAD")
    [form] = opened(server)
    assert form["callback_id"] == "lesson"
    assert [b["block_id"] for b in form["blocks"]] == ["kind", "text"]

    def values(kind: str, text: str) -> dict[str, Any]:
        return {
            "values": {
                "kind": {"value": {"type": "static_select", "selected_option": {"value": kind}}},
                "text": {"value": {"type": "plain_text_input", "value": text}},
            }
        }

    bad = view_submit(server, "lesson", "U0QALEAD", values("went_well", "   "))
    assert bad.json() == {"response_action": "errors", "errors": {"text": "Write the lesson."}}
    bad = view_submit(server, "lesson", "U0QALEAD", values("bogus", "x"))
    assert bad.json()["errors"] == {"kind": "Choose what kind of lesson this is."}
    ok = view_submit(server, "lesson", "U0QALEAD", values("went_well", "Shards kept CI fast"))
    assert ok.text == ""
    server.runtime.sender.drain()
    [update] = status_updates(server)
    assert update.args["ts"] == sent_ts(server, "sprint-review:")
    assert "_What went well_\n• Shards kept CI fast — <@U0QALEAD>" in text_of(update)


def test_a_lesson_shows_in_every_review_draft_of_the_sprint(server: Server) -> None:
    """`/sprint review` posted twice: a lesson added from the first draft's button went to
    the newest draft only, and the message clicked never showed it (found by review). Every
    draft of the sprint shows the lessons; an older one keeps its own figures."""
    two_days(server)
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    wait_status_posts(server, 1)
    server.runtime.sender.drain()
    first = sent_ts(server, "sprint-review:")
    at(server, datetime(2025, 10, 31, 18, tzinfo=UTC))
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    wait_status_posts(server, 2)
    server.runtime.sender.drain()
    second = sent_ts(server, "sprint-review:")
    assert first != second
    click(server, "lesson_add", "lesson", user="U0QALEAD")
    ok = view_submit(
        server,
        "lesson",
        "U0QALEAD",
        {
            "values": {
                "kind": {
                    "value": {"type": "static_select", "selected_option": {"value": "went_well"}}
                },
                "text": {"value": {"type": "plain_text_input", "value": "Shards kept CI fast"}},
            }
        },
    )
    assert ok.text == ""
    server.runtime.sender.drain()
    updated = {c.args["ts"]: text_of(c) for c in status_updates(server)}
    assert sorted(updated) == sorted([first, second])
    for text in updated.values():
        assert "_What went well_\n• Shards kept CI fast — <@U0QALEAD>" in text


def test_signoff_buttons_for_the_named_roles(server: Server) -> None:
    two_days(server)
    resp = slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    assert resp.json()["text"] == (
        "Posting the sign-off request for Week 1 checkpoint: 78% production ready in "
        "#sprint-status."
    )
    [request] = wait_status_posts(server, 1)
    text = text_of(request)
    assert text.startswith("Sign-off: Week 1 checkpoint: 78% production ready")
    assert "(day 7) — " in text and "criteria met" in text
    [actions] = [b for b in request.args["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Sign off as Tech Lead",
        "Sign off as QA Lead",
        "Sign off as Product Owner",
    ]
    tech = actions["elements"][0]
    channel, posted_ts = "CSPRINTSTATUS", sent_ts(server, "signoff:")

    # Someone else cannot sign for the tech lead; nothing changes.
    click(server, tech["action_id"], tech["value"], user="U0DEV", channel=channel, ts=posted_ts)
    [refusal] = responses(server, 1)
    assert refusal.args["text"].startswith("Only the Tech Lead can sign off as Tech Lead")
    assert server.slack.calls_to("chat.update") == []

    click(
        server, tech["action_id"], tech["value"], user="U0TECHLEAD", channel=channel, ts=posted_ts
    )
    server.runtime.sender.drain()
    [update] = server.slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (channel, posted_ts)
    updated = text_of(update)
    assert ":white_check_mark: Tech Lead <@U0TECHLEAD>" in updated
    [actions] = [b for b in update.args["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Sign off as QA Lead",
        "Sign off as Product Owner",
    ]
    # A second sign-off for the same role is refused.
    click(
        server, tech["action_id"], tech["value"], user="U0TECHLEAD", channel=channel, ts=posted_ts
    )
    refusals = responses(server, 2)
    assert refusals[-1].args["text"] == (
        "Tech Lead has already signed off Week 1 checkpoint: 78% production ready."
    )


def status_updates(server: Server) -> list[Any]:
    return [c for c in server.slack.calls_to("chat.update") if c.args["channel"] == "CSPRINTSTATUS"]


def sent_ts(server: Server, key_prefix: str) -> str:
    """The ts Slack gave the newest delivered message whose outbox key starts so."""
    with server.runtime.db.session() as s:
        row = queries.latest_message(session=s, key_prefix=key_prefix, sent_only=True)
        assert row is not None
        return str(row.result["ts"])


def test_sprint_bad_input_says_how_and_posts_nothing(server: Server) -> None:
    for text, answer in (
        ("launch", 'Unknown option "launch". Usage: `/sprint` shows'),
        ("report now", '`/sprint report` takes nothing after it, not "now". Usage:'),
        ("signoff 9", 'No milestone with sign-offs on day "9"; milestones: day 7, 14. Try'),
        ("signoff soon", 'No milestone with sign-offs on day "soon"'),
    ):
        resp = slash(server.url, "/sprint", text, user_id="U0TECHLEAD")
        assert resp.json()["response_type"] == "ephemeral"
        assert resp.json()["text"].startswith(answer), resp.json()["text"]
    assert status_posts(server) == []
    # A named milestone: day 14's sign-offs, security included.
    slash(server.url, "/sprint", "signoff day 14", user_id="U0DEV")
    [request] = wait_status_posts(server, 1)
    [actions] = [b for b in request.args["blocks"] if b["type"] == "actions"]
    assert actions["elements"][-1]["text"]["text"] == "Sign off as Security"


class HomesHandled(threading.Event):
    """Stands in for the outbox worker's wake-up event and counts the App Home events
    handled to the end: a poke (after the commit) from a thread that queued a Home view."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._queued = threading.local()
        self._lock = threading.Lock()

    def queuing(self, publish: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            done = publish(*args, **kwargs)
            self._queued.home = True
            return done

        return run

    def set(self) -> None:
        if getattr(self._queued, "home", False):
            self._queued.home = False
            with self._lock:
                self.count += 1
        super().set()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.count < count:
            assert time.monotonic() < deadline, f"{self.count} of {count} Home events handled"
            time.sleep(0.02)


def test_app_home_is_the_live_dashboard(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    handled = HomesHandled()
    monkeypatch.setattr(server.runtime.worker, "_wake", handled)
    monkeypatch.setattr(reports, "publish_home", handled.queuing(reports.publish_home))
    two_days(server)
    slash(server.url, "/blocker", "P0 Swarm Coordination: consensus broken", user_id="U0DEV")
    from bot import clock

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    clock.run_job(server.runtime, "daily-report")  # its chart becomes the Home's image
    at(server, DAY3)
    home_opened(server, "U0DEV", "1761919200.000100")
    home_opened(server, "U0DEV", "1761919200.000100")  # Slack's retry of the same event
    handled.wait_for(2)  # both queued what they would (after the ack, in the background)
    server.runtime.sender.drain()
    [call] = server.slack.calls_to("views.publish")
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert call.args["user_id"] == "U0DEV" and view["type"] == "home"
    assert len(view["blocks"]) <= 100
    text = blocks_text(view["blocks"])
    assert view["blocks"][0]["text"]["text"] == "Phase 4 Production Readiness — Day 3 of 14"
    assert "*Breakdown by group*" in text and "Core Infrastructure (25)" in text
    assert "*Burn-down*: 5 failing now" in text
    assert "*B-001* P0 · Swarm Coordination" in text
    assert "*Last CI run* `d2`" in text and "7 passed, 5 failed, 1 skipped" in text
    [image] = [b for b in view["blocks"] if b["type"] == "image"]
    assert image["slack_file"]["id"].startswith("F")
    assert "*Today's standups*" in text

    # The next morning's report refreshes the Home of who opened it this week, without
    # their opening it again.
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))
    assert clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    published = server.slack.calls_to("views.publish")
    assert len(published) == 2
    view = published[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert published[-1].args["user_id"] == "U0DEV"
    assert view["blocks"][0]["text"]["text"] == "Phase 4 Production Readiness — Day 4 of 14"
    # Its chart is this morning's, drawn beside the same numbers: the refresh was queued
    # before the morning's chart was uploaded, and showed yesterday's until the user opened
    # Home again (found by review).
    uploads = server.slack.calls_to("files.completeUploadExternal")
    newest = json.loads(uploads[-1].args["files"])[0]["id"]
    [image] = [b for b in view["blocks"] if b["type"] == "image"]
    assert image["slack_file"]["id"] == newest
    assert len(uploads) == 2


def test_the_morning_report_computes_the_figures_once_for_every_home_it_refreshes(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 9:00 job refreshes the Home of everyone who opened it this week. It computed the
    sprint's figures again for each of them (~0.3 s each at 20k tests, SQLite's write lock
    held meanwhile: 20 people kept a morning's standups waiting seconds). They are computed
    once, and every Home refreshed shows the report's numbers."""
    from bot import clock
    from jobs import figures

    handled = HomesHandled()
    monkeypatch.setattr(server.runtime.worker, "_wake", handled)
    monkeypatch.setattr(reports, "publish_home", handled.queuing(reports.publish_home))
    two_days(server)
    users = ["U0DEV", "U0QALEAD", "U0TECHLEAD"]
    for n, user in enumerate(users):
        home_opened(server, user, f"1761919200.00010{n}")
    handled.wait_for(len(users))
    server.runtime.sender.drain()
    opened = len(server.slack.calls_to("views.publish"))

    job = threading.current_thread()
    computed: list[datetime] = []
    compute = figures.compute

    def counted(**kw: Any) -> figures.Figures:
        if threading.current_thread() is job:  # (not the ready state's refresher)
            computed.append(kw["at"])
        return compute(**kw)

    monkeypatch.setattr(figures, "compute", counted)
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))
    assert clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    assert len(computed) == 1, computed

    server.runtime.sender.drain()
    [report] = [c for c in status_posts(server) if "Day 4 of 14" in json.dumps(c.args)]
    failing = re.search(r"(\d+) failing now", blocks_text(report.args["blocks"]))
    assert failing is not None
    refreshed = server.slack.calls_to("views.publish")[opened:]
    assert sorted(c.args["user_id"] for c in refreshed) == sorted(users)
    for call in refreshed:
        view = call.args["view"]
        view = json.loads(view) if isinstance(view, str) else view
        text = blocks_text(view["blocks"])
        assert view["blocks"][0]["text"]["text"] == "Phase 4 Production Readiness — Day 4 of 14"
        assert f"*Burn-down*: {failing.group(1)} failing now" in text


def test_export_tracker(
    server: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from bot import cli

    two_days(server)
    slash(server.url, "/blocker", "P0 Swarm Coordination: consensus broken", user_id="U0DEV")
    resp = slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    assert resp.status_code == 200
    wait_status_posts(server, 1)
    ts = sent_ts(server, "signoff:")
    click(server, "signoff:qa_lead", "7:qa_lead", user="U0QALEAD", channel="CSPRINTSTATUS", ts=ts)
    for name, value in (
        ("DATABASE_URL", server.runtime.settings.DATABASE_URL),
        ("SPRINTBOT_CONFIG", str(EXAMPLE)),
    ):
        monkeypatch.setenv(name, value)
    out = tmp_path / "tracker.md"
    capsys.readouterr()
    code = cli.main(["export", "tracker", "--at", DAY3.isoformat(), "--out", str(out)])
    printed, err = capsys.readouterr()
    assert (code, printed) == (0, f"wrote the tracker to {out}\n"), err
    md = out.read_text(encoding="utf-8")
    assert "**Last Updated:** 2025-10-31 10:00 (America/New_York)" in md
    # Day 1 ended with every test passing, day 2 with five failing: the recorded values.
    # The plan runs from the measured baseline (day 1: 80 %, 0 of 13 failing).
    assert "| 1 | 2025-10-29 | 80 % (plan 80 %) | 13 / 13 | 0 (plan 0) | 0 | 0 | ✅ |" in md
    off_plan = "⚠️ readiness below plan, 5 failing over plan"
    day2 = "| 2 | 2025-10-30 | 67.17 % (plan 80.83 %) | 7 / 13 | 5 (plan 0) | 0 | 5 |"
    assert f"{day2} {off_plan} |" in md
    # Burn-down: 5 failing, target 1; 7 passing of the 12 the target needs (one test is
    # skipped): 5 to go, not the 4 over the target failing.
    assert f"| 2 | 5 | 0 | 0 | 0 | 5 | 5 | {off_plan} |" in md
    assert "| **Tests Fixed** | - | 0 fixed this sprint | - | - |" in md
    assert "| **Regressions Introduced** | - | 5 | 0 | 🔴 |" in md
    assert "| **Regressions Open** | - | 5 | 0 | 🔴 |" in md
    assert "| **Passing Tests** | 13 / 13 | 7 / 13 |" in md
    assert "| B-001 | P0 | Swarm Coordination | consensus broken |" in md
    assert "- [x] QA Lead approval (@U0QALEAD, 2025-10-31 10:00)" in md
    assert "- [ ] Tech Lead approval\n" in md
    assert "| 2025-10-31 10:00 | @U0DEV | B-001 created |" in md

    # To standard output by default; an unwritable path is one line and exit 1.
    assert cli.main(["export", "tracker", "--at", DAY3.isoformat()]) == 0
    assert capsys.readouterr().out == md
    code = cli.main(["export", "tracker", "--out", str(tmp_path / "no" / "such" / "t.md")])
    _, err = capsys.readouterr()
    assert code == 1 and err.endswith("cannot write (No such file or directory)\n")
    assert err.count("\n") == 1
