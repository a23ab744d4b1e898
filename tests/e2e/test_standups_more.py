"""Standups where an answer was lost, doubled or misread (each found by review): an edit's
focus areas, an answer after the digest, a typed blocker's severity raised, a user group
Slack could not read at 9:00, a bulleted or unfinished severity line."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, OutboxMessage, Risk, Standup
from tests.support.e2e import ANSWER, opened, posts, submit, text_of
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]
QUIET = {"current_blockers": "", "new_risks": ""}  # an answer that files nothing


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text()
        .replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
        .replace(
            'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
            'workdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    # Friday 2025-10-31, 09:05 in New York: day 3.
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    return server


def _field(view: dict[str, Any], block_id: str) -> Any:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return block["element"].get("initial_value")


def test_editing_an_answer_with_no_focus_areas_does_not_add_yesterdays(team: Server) -> None:
    """Ana planned "memory eviction" on Thursday; on Friday she answers with Focus areas
    left empty. She opens /standup again to fix a number: the form shows Thursday's plan
    in *Focus areas* as if it were today's answer, and pressing Update (changing only
    the number) posts "Focus areas: memory eviction" in Friday's answer."""
    team.clock.at = datetime(2025, 10, 30, 13, 5, tzinfo=UTC)  # Thursday, day 2
    thursday = {**ANSWER, **QUIET, "focus_areas": "memory eviction"}
    assert submit(team, "U0ANA", metadata={"day": "2025-10-30"}, **thursday).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # Friday, day 3
    friday = {**ANSWER, **QUIET, "focus_areas": ""}
    assert submit(team, "U0ANA", **friday).text == ""
    slash(team.url, "/standup", user_id="U0ANA")
    view = opened(team)[-1]
    assert view["submit"]["text"] == "Update"  # an edit of Friday's answer
    assert _field(view, "focus_areas") in (None, ""), _field(view, "focus_areas")


def _day_message_now(server: Server, day: str) -> str:
    """What the day's standup message in the team channel shows now: its post, then each
    update of it, the last one winning."""
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == f"standup-day:{day}")).one()
    ts = str(row.result["ts"])
    updates = [c for c in server.slack.calls_to("chat.update") if c.args.get("ts") == ts]
    if updates:
        return text_of(updates[-1])
    [first] = [p for p in posts(server) if p.args.get("channel") == row.channel]
    return text_of(first)


def test_an_answer_after_the_digest_is_not_left_listed_as_missing(team: Server) -> None:
    """At 09:30 the digest says "Answered 1 of 3 · Missing: Ben, Cat". Ben answers at
    10:00: his answer is posted in the thread right under that message, App Home says
    "2 of 3" and tomorrow's report counts him, but the day's message keeps saying Ben is
    missing for good (nothing updates it after the digest)."""
    assert submit(team, "U0ANA", **{**ANSWER, **QUIET}).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert "Missing: <@U0BEN>, <@U0CAT>" in _day_message_now(team, "2025-10-31")
    team.clock.at = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # 10:00 New York
    assert submit(team, "U0BEN", **{**ANSWER, **QUIET}).text == ""
    shown = _day_message_now(team, "2025-10-31")
    missing = next(x for x in shown.splitlines() if x.startswith("Missing:"))
    assert (missing, "*Answered 2 of 3*" in shown) == ("Missing: <@U0CAT>", True), shown


def test_raising_a_typed_blockers_severity_in_an_edit_raises_the_blocker(team: Server) -> None:
    """Ana's answer says "P2: CI runners are slow" (filed as B-001 P2). An hour later the
    runners are down and she edits her standup to "P0: CI runners are slow": her post in
    the thread now says P0, but B-001 stays P2 — its message, /blocker list, the reports and
    its escalation all still treat it as P2, and nothing tells her the change was dropped."""
    answer = {**ANSWER, **QUIET, "current_blockers": "P2: CI runners are slow"}
    assert submit(team, "U0ANA", **answer).text == ""
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    edited = {**answer, "current_blockers": "P0: CI runners are slow"}
    assert submit(team, "U0ANA", **edited).text == ""
    team.runtime.sender.drain()
    [update] = [c for c in team.slack.calls_to("chat.update") if "Standup from" in text_of(c)]
    assert "Current blockers: P0 CI runners are slow" in text_of(update)
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert rows == [("P0", "CI runners are slow")], rows


def test_a_blocker_typed_in_an_edit_is_filed(team: Server) -> None:
    """An edit files the lines its answer did not have: the answer was read after the edit
    was stored over it, so an edit filed none (found with the severity above)."""
    assert submit(team, "U0ANA", **{**ANSWER, **QUIET}).text == ""
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    edited = {**ANSWER, **QUIET, "current_blockers": "P1: staging is down"}
    assert submit(team, "U0ANA", **edited).text == ""
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert rows == [("P1", "staging is down")], rows


def _as_the_release_before_kept(
    team: Server, blocker: tuple[str, str], risk: str | None = None
) -> None:
    """Ana's one answer, its blocker and risk, rewritten as the release before bullets were
    read kept them: `blocker` (severity, text as typed, bullet and all), `risk` as typed."""
    with team.runtime.db.session() as s:
        [row] = s.exec(select(Standup)).all()
        row.answers = {**row.answers, "current_blockers": [list(blocker)]}
        if risk is not None:
            row.answers = {**row.answers, "new_risks": [risk]}
        for filed in s.exec(select(Blocker)).all():
            filed.severity, filed.description = blocker
            s.add(filed)
        for raised in s.exec(select(Risk)).all():
            raised.description = risk or raised.description
            s.add(raised)
        s.add(row)
        s.commit()


def test_an_answer_kept_before_bullets_were_read_files_nothing_again_when_edited(
    team: Server,
) -> None:
    """Ana answered before an upgrade that reads a list's bullets: her "- P1: staging is
    down" and "- vendor may slip" were kept, and filed, with their dashes. After the
    upgrade she edits the answer's notes only: the same lines now read "staging is down"
    (P1) and "vendor may slip", which her answer did not hold, so a second blocker and a
    second risk were filed and announced for what she had not changed (found by review)."""
    typed = {"current_blockers": "- P1: staging is down", "new_risks": "- vendor may slip"}
    assert submit(team, "U0ANA", **{**ANSWER, **typed}).text == ""
    _as_the_release_before_kept(team, ("P1", "- P1: staging is down"), "- vendor may slip")
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    assert submit(team, "U0ANA", **{**ANSWER, **typed, "notes": "pairing with Ben"}).text == ""
    with team.runtime.db.session() as s:
        blockers = [b.description for b in s.exec(select(Blocker))]
        risks = [r.description for r in s.exec(select(Risk))]
    assert (blockers, risks) == (["- P1: staging is down"], ["- vendor may slip"])


def test_raising_the_severity_of_a_blocker_kept_before_bullets_were_read_raises_it(
    team: Server,
) -> None:
    """Ana's "- P1: staging is down" was kept and filed (B-001, P1) with its dash by the
    release before (found by review). After the upgrade staging is worse and she edits the line to
    "- P0: staging is down": as for any answer, B-001 should become P0. Instead a second
    blocker "staging is down" is filed and announced at P0, and B-001 stays open at P1."""
    typed = {**ANSWER, **QUIET, "current_blockers": "- P1: staging is down"}
    assert submit(team, "U0ANA", **typed).text == ""
    _as_the_release_before_kept(team, ("P1", "- P1: staging is down"))
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    edited = {**typed, "current_blockers": "- P0: staging is down"}
    assert submit(team, "U0ANA", **edited).text == ""
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert len(rows) == 1 and rows[0][0] == "P0", rows


def test_a_kept_line_whose_severity_reads_otherwise_now_leaves_its_blocker_as_it_was(
    team: Server,
) -> None:
    """The release before kept Ana's "- P0: prod is down" at the form's default P2 (the
    dash hid the severity) and filed B-001 at P2. After the upgrade she edits only her
    notes: the line now reads P0, her post in the thread says P0, but it counts as filed,
    so B-001 stays P2 (found by review; an edit to P0 raises a blocker's severity)."""
    typed = {**ANSWER, **QUIET, "current_blockers": "- P0: prod is down"}
    assert submit(team, "U0ANA", **typed).text == ""
    _as_the_release_before_kept(team, ("P2", "- P0: prod is down"))
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    assert submit(team, "U0ANA", **{**typed, "notes": "pairing with Ben"}).text == ""
    with team.runtime.db.session() as s:
        [row] = s.exec(select(Standup)).all()
        answered = row.answers["current_blockers"]
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert answered == [["P0", "prod is down"]], answered
    assert [severity for severity, _ in rows] == ["P0"], rows


def test_a_user_group_slack_could_not_read_at_9_does_not_lose_the_days_prompts(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """participants = ["S0TEAM"] (a user group, as the sprint file allows). Slack is down at
    09:00 (answering 503): the prompt job reads the group as nobody, sends 0 prompts and
    takes the day's slot, so when Slack is back and the clock looks again at 09:05 nothing
    is retried: Ana and Ben are never prompted that day, and the 09:30 digest says
    "Answered 0 of 0". (A team channel that cannot be read makes the job fail and be tried
    again, as the README promises for "Slack down at 9:00".)"""
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', 'participants = ["S0TEAM"]')
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.slack.usergroups = {"S0TEAM": ["U0ANA", "U0BEN"]}
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Friday 09:00 New York
    server.slack.outage("503")
    try:
        first = bot_clock.scheduled(server.runtime, "standup-prompt")
    except Exception as exc:  # a failed run is tried again by the clock (`catch_up`)
        first = repr(exc)
    server.slack.recover()
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # the clock's next look
    bot_clock.catch_up(server.runtime, started=False)
    server.runtime.sender.drain()
    dms = sorted(p.args["channel"] for p in posts(server) if p.args["channel"].startswith("U"))
    assert dms == ["U0ANA", "U0BEN"], (first, dms)


@pytest.mark.parametrize(
    "line", ["- P0: Swarm Coordination deadlocks", "• P0 Swarm Coordination deadlocks"]
)
def test_a_bulleted_p0_line_is_filed_as_a_p0_blocker(team: Server, line: str) -> None:
    """People write their blockers as a list. "- P0: Swarm Coordination deadlocks" is filed
    as a *P1* blocker (the form's default severity) described "- P0: Swarm Coordination
    deadlocks": a P0 announced, escalated and reported as a P1, with nothing said."""
    resp = submit(
        team, "U0ANA", **{**ANSWER, **QUIET, "current_blockers": line, "blocker_severity": "P1"}
    )
    assert (resp.status_code, resp.text) == (200, "")
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert rows == [("P0", "Swarm Coordination deadlocks")], rows


@pytest.mark.parametrize("line", ["P0:", "P1 -"])
def test_a_severity_with_no_blocker_text_is_not_filed_as_a_blocker(team: Server, line: str) -> None:
    """ "P0:" alone (a line started and not finished) files and announces a P0 blocker
    whose whole description is ":" in #critical-blockers, climbing the escalation path to
    the executives. A line with a severity and no text should be a field error."""
    resp = submit(team, "U0ANA", **{**ANSWER, **QUIET, "current_blockers": line})
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
    assert rows == [], rows
    assert resp.json()["errors"].keys() == {"current_blockers"}


@pytest.mark.parametrize("bullet", ["-", "•", "*"])
def test_an_empty_bullet_at_the_end_of_a_list_files_no_blocker(team: Server, bullet: str) -> None:
    """A list left with an empty bullet ("- P0: deadlock in swarm init", then "-" on its
    own line) filed a second blocker described "-", announced and escalated (found by
    review). A line without a letter or a digit is no item, in blockers and in risks."""
    typed = f"- P0: deadlock in swarm init\n{bullet}"
    resp = submit(
        team,
        "U0ANA",
        **{**ANSWER, "current_blockers": typed, "new_risks": f"- vendor late\n{bullet}"},
    )
    assert (resp.status_code, resp.text) == (200, "")
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.description) for b in s.exec(select(Blocker))]
        risks = [r.description for r in s.exec(select(Risk))]
    assert rows == [("P0", "deadlock in swarm init")], rows
    assert risks == ["vendor late"], risks


@pytest.mark.parametrize("line", ["P0", "- P0", "[P2]"])
def test_a_severity_typed_alone_is_asked_for_what_is_blocked(team: Server, line: str) -> None:
    """ "P0" alone was told "severity must be P0, P1 or P2" — the user wrote P0 (found by
    review). It is the unfinished line: the form asks what is blocked after it."""
    resp = submit(team, "U0ANA", **{**ANSWER, **QUIET, "current_blockers": line})
    said = resp.json()["errors"]["current_blockers"]
    assert "say what is blocked after the severity" in said, said
    assert "must be P0, P1 or P2" not in said
    with team.runtime.db.session() as s:
        assert s.exec(select(Blocker)).all() == []


def test_away_today_after_the_digest_is_not_left_listed_as_missing(team: Server) -> None:
    """An answer or a skip after the 09:30 digest updates the day's message; `/standup away
    today today` — "no prompts, not counted missing", the reply says — left Ben listed as
    "Missing" for good while App Home and tomorrow's report count him away (found by
    review)."""
    assert submit(team, "U0ANA", **{**ANSWER, **QUIET}).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert "Missing: <@U0BEN>, <@U0CAT>" in _day_message_now(team, "2025-10-31")
    team.clock.at = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # 10:00 New York
    said = slash(team.url, "/standup", "away today today sick", user_id="U0BEN").json()
    assert "not counted missing" in str(said), said
    shown = _day_message_now(team, "2025-10-31")
    missing = next(x for x in shown.splitlines() if x.startswith("Missing:"))
    assert missing == "Missing: <@U0CAT>", shown


def test_an_answer_lost_with_a_refused_day_message_is_posted_when_edited(
    team: Server,
) -> None:
    """The day's message is queued again once Slack refused the first for good (the team
    channel private, the bot not invited yet), so answers after the fix are posted. Ana
    answered at 9:01, before the bot was invited: her reply failed with its parent. At
    9:10 she edits it: the edit was an update of her failed reply and failed too, however
    often she edited, while Ben's 9:05 answer was in the thread (found by review)."""
    team.clock.at = datetime(2025, 10, 31, 13, 1, tzinfo=UTC)
    team.slack.fail("chat.postMessage", error="not_in_channel")
    assert submit(team, "U0ANA", **{**ANSWER, **QUIET, "notes": "ana's first"}).text == ""
    team.runtime.sender.drain()
    team.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # invited at 9:03
    assert submit(team, "U0BEN", **{**ANSWER, **QUIET, "notes": "ben's"}).text == ""
    team.runtime.sender.drain()
    team.clock.at = datetime(2025, 10, 31, 13, 10, tzinfo=UTC)
    assert submit(team, "U0ANA", **{**ANSWER, **QUIET, "notes": "ana's edit"}).text == ""
    team.runtime.sender.drain()
    posted = [k for _, k in team.slack.posted_keys()]
    assert "standup:U0BEN:2025-10-31" in posted, posted
    anas = [p for p in posts(team) if "ana's edit" in text_of(p)]
    assert len(anas) == 1, posted
    assert anas[0].args.get("thread_ts"), anas[0].args  # under the day's message


def test_a_user_group_slack_refuses_for_good_does_not_stop_the_report_or_the_home(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """participants = ["S0GONE"], a user group deleted since (Slack answers
    no_such_subteam, as it will every time). Every daily job failed and was tried again
    every five minutes all day — the 9:00 report to #sprint-status never came — and the
    Home tab never opened: a refusal no retry can cure was handled as Slack being down.
    Slack being down is still tried again (the test above); a refusal reads the group as
    nobody, with a warning (`sprintbot doctor` names the group)."""
    from tests.support.e2e import home_opened
    from tests.support.listeners import listeners_done

    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', 'participants = ["S0GONE"]')
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.slack.fail("usergroups.users.list", error="no_such_subteam", times=50)
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Friday 09:00 New York
    said = bot_clock.scheduled(server.runtime, "daily-report")
    assert said == "daily-report: posted", said
    server.runtime.sender.drain()
    assert [p for p in posts(server) if "Daily report" in text_of(p)]
    home_opened(server, "U0ANA")
    listeners_done()
    server.runtime.sender.drain()
    assert server.slack.calls_to("views.publish")
