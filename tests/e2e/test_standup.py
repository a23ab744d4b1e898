"""Standups end to end: /standup → views.open → view_submission → the thread reply; edits;
field errors; skip and away; the prompt, reminder and digest jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, Risk, Standup
from tests.support.e2e import (
    ANSWER,
    T0,
    at,
    blocks_text,
    home_opened,
    opened,
    posts,
    submit,
    text_of,
)
from tests.support.limits import slack_limits
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server
from tests.support.slack import post_signed, slash

PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]


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


def test_standup_opens_the_template_as_a_modal(team: Server) -> None:
    resp = slash(team.url, "/standup", user_id="U0ANA")
    assert resp.status_code == 200 and resp.text == ""
    [view] = opened(team)
    assert team.slack.calls_to("views.open")[0].args["trigger_id"] == "1.2.3"
    assert view["callback_id"] == "standup"
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == [
        "Standup — Day 3 of 14, 2025-10-31",
        "Yesterday's progress",
        "Today's plan",
        "Blockers & risks",
        "Action items",
    ]
    inputs = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs == {
        "tests_fixed": "number_input",
        "components_improved": "multi_static_select",
        "notes": "plain_text_input",
        "target_tests": "number_input",
        "focus_areas": "plain_text_input",
        "risk_items": "plain_text_input",
        "current_blockers": "plain_text_input",
        "blocker_severity": "static_select",
        "new_risks": "plain_text_input",
        "help_needed": "plain_text_input",
        "action_items": "plain_text_input",
    }
    snapshot = view["blocks"][1]["fields"]
    assert [f["text"] for f in snapshot] == [
        "*Tests passing*\nno test results yet",
        "*Pass rate*\nn/a",
        "*Production readiness*\n71.55 %",
        "*Health*\nCritical (plan 75.29 %)",
    ]
    components = next(b for b in view["blocks"] if b.get("block_id") == "components_improved")
    assert len(components["element"]["options"]) == 17


def test_answer_posts_in_the_day_thread_and_an_edit_updates_it(team: Server) -> None:
    resp = submit(team, "U0ANA", **ANSWER)
    assert (resp.status_code, resp.text) == (200, "")
    team.runtime.sender.drain()
    [day] = [p for p in posts(team) if text_of(p).startswith("Standup — Day")]
    [reply] = [p for p in posts(team) if "Standup from" in text_of(p)]
    assert day.args["channel"] == "#phase4-production-readiness"
    assert text_of(day).startswith("Standup — Day 3 of 14, 2025-10-31")
    assert reply.args["thread_ts"]
    body = text_of(reply)
    assert "*Standup from <@U0ANA>* (Day 3 of 14)" in body
    assert "• Tests fixed: 12" in body
    assert "• Components improved: Swarm Coordination" in body
    assert (
        "• Current blockers: P0 Swarm Coordination deadlocks under partition; P2 CI runners" in body
    )
    assert "• Pair on eviction — &lt;@U0BEN&gt;, due tomorrow" in body or (
        "• Pair on eviction — <@U0BEN>, due tomorrow" in body
    )
    with team.runtime.db.session() as s:
        blockers = s.exec(select(Blocker).order_by(Blocker.id)).all()
        risks = s.exec(select(Risk)).all()
    assert [(b.severity, b.component, b.description) for b in blockers] == [
        ("P0", "Swarm Coordination", "Swarm Coordination deadlocks under partition"),
        ("P2", "General", "CI runners are slow"),
    ]
    assert [r.description for r in risks] == ["LRU rewrite may slip"]
    # The blockers typed in the standup are filed like any other, in #critical-blockers.
    filed = [p for p in posts(team) if p.args.get("channel") == "#critical-blockers"]
    assert [text_of(p).split(":")[0] for p in filed] == [
        "B-001 P0 · Swarm Coordination",
        "B-002 P2 · General",
    ]

    # /standup again the same day: the modal holds the answer; submitting edits the post.
    slash(team.url, "/standup", user_id="U0ANA")
    view = opened(team)[-1]
    fixed = next(b for b in view["blocks"] if b.get("block_id") == "tests_fixed")
    assert fixed["element"]["initial_value"] == "12"
    assert view["submit"]["text"] == "Update"
    submit(team, "U0ANA", **{**ANSWER, "tests_fixed": "15"})
    team.runtime.sender.drain()
    [update] = team.slack.calls_to("chat.update")
    assert update.args["ts"] == _sent_ts(team, "standup:U0ANA:2025-10-31")
    assert "• Tests fixed: 15" in text_of(update) and "edited" in text_of(update)
    assert len([p for p in posts(team) if "Standup from" in text_of(p)]) == 1  # no new post
    with team.runtime.db.session() as s:
        assert len(s.exec(select(Blocker)).all()) == 2  # the same blockers, not twice


def _sent_ts(server: Server, key: str) -> str:
    from storage.models import OutboxMessage

    with server.runtime.db.session() as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
    return str(row.result["ts"])


def test_invalid_answers_get_field_errors_and_nothing_is_stored(team: Server) -> None:
    resp = submit(
        team,
        "U0ANA",
        **{
            **ANSWER,
            "tests_fixed": "twelve",
            "action_items": "just do it",
            "current_blockers": "P7: nope",
        },
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "response_action": "errors",
        "errors": {
            "tests_fixed": "Give a whole number of tests, e.g. 12.",
            "current_blockers": '"P7: nope": severity must be P0, P1 or P2, e.g. "P1: flaky login '
            'test".',
            "action_items": 'Line 1 needs three parts: item | owner | due, e.g. "Fix flaky swarm '
            'test | @dana | 2025-11-03".',
        },
    }
    with team.runtime.db.session() as s:
        assert s.exec(select(Standup)).all() == []
        assert s.exec(select(Blocker)).all() == []
    team.runtime.sender.drain()
    assert posts(team) == []


@pytest.mark.parametrize(
    "line",
    ["P2P sync drops messages after reconnect", "P95 latency over budget on orchestration"],
)
def test_a_blocker_line_starting_with_p_and_digits_is_a_blocker_as_typed(
    team: Server, line: str
) -> None:
    """ "P2P sync …" filed a P2 blocker "P sync …", and "P95 latency …" was refused as a
    severity: a severity is P0-P2 as a word of its own (found by review)."""
    at(team, T0)
    resp = submit(team, "U0ANA", **{**ANSWER, "current_blockers": line, "blocker_severity": "P1"})
    assert resp.status_code == 200 and resp.text == "", resp.text
    with team.runtime.db.session() as s:
        assert [(b.severity, b.description) for b in s.exec(select(Blocker))] == [("P1", line)]


@pytest.mark.parametrize("due", ["2025-02-30", "2025-13-45"])
def test_an_action_item_due_on_a_day_there_is_not_is_a_field_error(team: Server, due: str) -> None:
    """The field asks for "a date (2025-11-03)", but took "2025-02-30" and posted it as the
    item's due date (found by review)."""
    at(team, T0)
    resp = submit(team, "U0ANA", **{**ANSWER, "action_items": f"Pair on eviction | @ben | {due}"})
    assert resp.json() == {
        "response_action": "errors",
        "errors": {
            "action_items": f'Line 1: due "{due}" is not a date; give one as 2025-11-03, '
            '"day 9", "today", "tomorrow", "EOD" or "EOW".'
        },
    }
    with team.runtime.db.session() as s:
        assert s.exec(select(Standup)).all() == []


def test_a_blocker_or_risk_line_longer_than_its_form_holds_is_a_field_error(
    team: Server,
) -> None:
    """A line of "New risks" becomes a risk as typed: one longer than the risk form holds
    (2,000) made a risk no one could edit or close (its form refused its own text)."""
    long = "LRU rewrite may slip: " + "the eviction path touches every cache. " * 60
    assert 2000 < len(long.strip()) < 2900
    resp = submit(team, "U0ANA", **{**ANSWER, "new_risks": long, "current_blockers": long})
    assert resp.json()["errors"] == {
        "current_blockers": "Each line becomes a blocker: keep each under 2000 characters "
        f"(one is {len(long.strip())}).",
        "new_risks": "Each line becomes a risk: keep each under 2000 characters "
        f"(one is {len(long.strip())}).",
    }
    with team.runtime.db.session() as s:
        assert (s.exec(select(Standup)).all(), s.exec(select(Risk)).all()) == ([], [])


def test_skip_and_away(team: Server) -> None:
    body = slash(team.url, "/standup", "skip dentist", user_id="U0BEN").json()
    assert body == {
        "response_type": "ephemeral",
        "text": ":palm_tree: Marked away for 2025-10-31; no prompts or reminders today.",
    }
    body = slash(team.url, "/standup", "away 2025-11-03 day 7 conference", user_id="U0CAT").json()
    assert body["text"].startswith(":palm_tree: Away 2025-11-03 to 2025-11-04")
    bad = slash(team.url, "/standup", "away someday later", user_id="U0CAT").json()
    assert bad == {
        "response_type": "ephemeral",
        "text": '"someday" is not a day; use 2025-11-03, "today", "tomorrow" or "day 9".',
    }
    backwards = slash(team.url, "/standup", "away 2025-11-05 2025-11-03", user_id="U0CAT")
    assert backwards.json()["text"] == (
        "The absence ends (2025-11-03) before it starts (2025-11-05)."
    )


def test_prompt_reminder_and_digest_reach_exactly_the_right_people_once(team: Server) -> None:
    runtime = team.runtime
    slash(team.url, "/standup", "skip", user_id="U0CAT")
    team.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    assert bot_clock.run_job(runtime, "standup-prompt") == "standup-prompt: 2 prompts sent"
    assert bot_clock.run_job(runtime, "standup-prompt") == "standup-prompt: 0 prompts sent"
    prompts = [p for p in posts(team) if p.args["channel"].startswith("U")]
    assert sorted(p.args["channel"] for p in prompts) == ["U0ANA", "U0BEN"]
    button = prompts[0].args["blocks"][-1]["elements"][0]
    assert (button["text"]["text"], button["action_id"]) == ("Open standup", "standup_open")

    submit(team, "U0ANA", **ANSWER)
    team.clock.at = datetime(2025, 10, 31, 13, 25, tzinfo=UTC)
    assert bot_clock.run_job(runtime, "standup-reminder") == "standup-reminder: 1 reminders sent"
    assert bot_clock.run_job(runtime, "standup-reminder") == "standup-reminder: 0 reminders sent"
    reminders = [p for p in posts(team) if "still open" in text_of(p)]
    assert [r.args["channel"] for r in reminders] == ["U0BEN"]

    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert bot_clock.run_job(runtime, "standup-digest") == "standup-digest: 0 digest posted"
    [digest] = team.slack.calls_to("chat.update")
    assert digest.args["ts"] == _sent_ts(team, "standup-day:2025-10-31")
    text = text_of(digest)
    assert "*Answered 1 of 2*" in text
    assert "Missing: <@U0BEN>" in text and "Away: <@U0CAT>" in text
    assert ":no_entry: <@U0ANA> P0: Swarm Coordination deadlocks under partition" in text
    assert "<@U0ANA> needs help: someone who knows the hooks system" in text


def test_no_prompts_on_a_weekend(team: Server) -> None:
    team.clock.at = datetime(2025, 11, 1, 13, 0, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-prompt") == "standup-prompt: 0 prompts sent"
    assert posts(team) == []


def test_participants_can_be_the_team_channel(make_server: Callable[..., Server]) -> None:
    """The team channel's people, not its apps: a GitHub or Jira app in the channel was
    prompted and, every morning, listed as missing its standup."""
    server = make_server()  # the example: participants = "team"
    server.slack.team_members = ["UBOT", "U0X", "U0GITHUB", "U0Y"]
    server.slack.bots = {"UBOT", "U0GITHUB"}
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    assert bot_clock.run_job(server.runtime, "standup-prompt").endswith(": 2 prompts sent")
    assert server.slack.calls_to("conversations.members")[0].args["channel"] == "C0TEAM"
    server.runtime.sender.drain()
    dms = sorted(c.args["channel"] for c in posts(server) if c.args["channel"].startswith("U"))
    assert dms == ["U0X", "U0Y"]
    # Whether someone is an app is asked once a process: the next job asks Slack nothing.
    asked = len(server.slack.calls_to("users.info"))
    assert bot_clock.run_job(server.runtime, "standup-reminder").endswith(": 2 reminders sent")
    assert len(server.slack.calls_to("users.info")) == asked


def test_open_standup_button_opens_the_modal(team: Server) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ANA"},
        "api_app_id": "A1",
        "team": {"id": "T1"},
        "trigger_id": "7.8.9",
        "container": {"type": "message"},
        "channel": {"id": "D0ANA"},
        "actions": [
            {
                "action_id": "standup_open",
                "value": "open",
                "type": "button",
                "block_id": "b",
                "action_ts": "1",
            }
        ],
    }
    assert post_signed(team.url, urlencode({"payload": json.dumps(payload)})).status_code == 200
    opened(team)
    assert team.slack.calls_to("views.open")[0].args["trigger_id"] == "7.8.9"


def _options(view: dict[str, Any], block_id: str) -> list[str] | None:
    block = next((b for b in view["blocks"] if b.get("block_id") == block_id), None)
    return None if block is None else [o["value"] for o in block["element"]["options"]]


def test_standup_resolves_only_blockers_the_user_may_resolve_as_the_button_does(
    team: Server,
) -> None:
    """Issue 12, fault 5: the standup's "Blockers resolved" listed every open blocker and
    resolved it with no permission check, no audit event and no update of its message."""
    from storage.models import Event

    slash(team.url, "/blocker", "P1 Unit Tests: flaky login fixture", user_id="U0BEN")
    slash(team.url, "/blocker", "P2 E2E Tests: browser pool exhausted", user_id="U0ANA")
    team.runtime.sender.drain()

    # Ana is offered her own blocker only; the tech lead (who may resolve any) both.
    slash(team.url, "/standup", user_id="U0ANA")
    assert _options(opened(team)[-1], "blockers_resolved") == ["2"]
    slash(team.url, "/standup", user_id="U0TECHLEAD")
    assert _options(opened(team, 2)[-1], "blockers_resolved") == ["1", "2"]
    slash(team.url, "/standup", user_id="U0CAT")
    [none] = [b for b in opened(team, 3)[-1]["blocks"] if "Blockers resolved" in json.dumps(b)]
    assert none["type"] == "context" and "none open that you may resolve" in json.dumps(none)

    # A forged choice of Ben's blocker is refused inline, and nothing of the answer is kept.
    refused = submit(team, "U0ANA", **{**ANSWER, "blockers_resolved": ["1", "2"]})
    assert refused.json() == {
        "response_action": "errors",
        "errors": {
            "blockers_resolved": "Only B-001's owner, its reporter, the tech lead or an admin "
            "can resolve it."
        },
    }
    with team.runtime.db.session() as s:
        assert s.exec(select(Standup)).all() == []
        assert [b.resolved_at for b in s.exec(select(Blocker).order_by(Blocker.id))] == [
            None,
            None,
        ]

    # Her own is resolved exactly as its Resolve button would: audited, noted in its thread,
    # its message in #critical-blockers updated.
    ok = submit(team, "U0ANA", **{**ANSWER, "current_blockers": "", "blockers_resolved": ["2"]})
    assert (ok.status_code, ok.text) == (200, "")
    team.runtime.sender.drain()
    with team.runtime.db.session() as s:
        ben, ana = s.exec(select(Blocker).order_by(Blocker.id)).all()
        resolved = s.exec(select(Event).where(Event.action == "resolved")).all()
    assert ben.resolved_at is None
    assert (ana.resolved_by, ana.resolution) == ("U0ANA", "marked resolved in the Day 3 standup")
    assert [(e.subject_id, e.actor, e.detail.get("via")) for e in resolved] == [
        (2, "U0ANA", "standup")
    ]
    blocker_ts = _sent_ts(team, "blocker:2")
    [update] = [c for c in team.slack.calls_to("chat.update") if c.args.get("ts") == blocker_ts]
    assert "~browser pool exhausted~" in text_of(update)
    assert not any(b["type"] == "actions" for b in update.args["blocks"])
    [note] = [p for p in posts(team) if "resolved by" in text_of(p)]
    assert note.args["thread_ts"] == blocker_ts
    assert note.args["text"].startswith(":white_check_mark: *B-002* resolved by <@U0ANA>")
    [reply] = [p for p in posts(team) if "Standup from" in text_of(p)]
    assert "B-002" in text_of(reply)

    # An edit the same day keeps listing it, and resolves nothing twice.
    submit(team, "U0ANA", **{**ANSWER, "current_blockers": "", "tests_fixed": "13"})
    team.runtime.sender.drain()
    with team.runtime.db.session() as s:
        assert s.exec(select(Standup)).one().answers["blockers_resolved"] == [2]
        assert len(s.exec(select(Event).where(Event.action == "resolved")).all()) == 1


def test_an_edited_standup_does_not_resolve_again_a_blocker_reopened_since(
    team: Server,
) -> None:
    """Ana resolves B-001 in her standup; the tech lead reopens it. Ana opens /standup to fix
    a number: the form came back with B-001 ticked (open again, so offered, and her answer
    had chosen it), and Update resolved it again, undoing the reopen without a word (found
    by review). An edit resolves only what it newly ticks, and the form ticks nothing open."""
    from storage.models import Event

    slash(team.url, "/blocker", "P1 E2E Tests: browser pool exhausted", user_id="U0ANA")
    answer = {**ANSWER, "current_blockers": "", "new_risks": ""}
    ok = submit(team, "U0ANA", **{**answer, "blockers_resolved": ["1"]})
    assert (ok.status_code, ok.text) == (200, "")
    reopened = slash(team.url, "/blocker", "reopen B-001", user_id="U0TECHLEAD").json()
    assert "reopened" in reopened["text"], reopened
    slash(team.url, "/standup", user_id="U0ANA")
    block = next(b for b in opened(team)[-1]["blocks"] if b.get("block_id") == "blockers_resolved")
    assert [o["value"] for o in block["element"]["options"]] == ["1"]
    assert not block["element"].get("initial_options"), block
    # A form opened before the reopen still sends it ticked: that resolves nothing again.
    for ticked in ([], ["1"]):
        resp = submit(team, "U0ANA", **{**answer, "tests_fixed": "13", "blockers_resolved": ticked})
        assert (resp.status_code, resp.text) == (200, "")
        with team.runtime.db.session() as s:
            b = s.exec(select(Blocker)).one()
            resolves = [e.actor for e in s.exec(select(Event).where(Event.action == "resolved"))]
        assert (b.resolved_at, resolves) == (None, ["U0ANA"]), (b.resolution, resolves)


def _published(server: Server) -> list[dict[str, Any]]:
    listeners_done()
    server.runtime.sender.drain()
    out = []
    for c in server.slack.calls_to("views.publish"):
        v = c.args["view"]
        out.append(json.loads(v) if isinstance(v, str) else v)
    return out


def test_answer_after_a_skip_the_same_day_is_posted_in_the_day_thread(team: Server) -> None:
    """`/standup skip`, then the person answers after all: the answer must reach the day's
    thread. It is queued as an *edit* of a reply that was never posted, so the sender
    fails it (parent does not exist) and the team never sees the answer."""
    body = slash(team.url, "/standup", "skip maybe out", user_id="U0ANA").json()
    assert body["text"].startswith(":palm_tree: Marked away")
    resp = submit(team, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    assert (resp.status_code, resp.text) == (200, "")
    team.runtime.sender.drain()
    with team.runtime.db.session() as s:
        row = s.exec(select(Standup)).one()
        assert row.skipped is False  # stored as an answer
    shown = [p for p in posts(team) if "Standup from" in text_of(p)]
    shown += [c for c in team.slack.calls_to("chat.update") if "Standup from" in text_of(c)]
    assert len(shown) == 1, "the answer never reached Slack"


def test_home_of_someone_who_skipped_today_says_away_not_answered(team: Server) -> None:
    slash(team.url, "/standup", "skip dentist", user_id="U0BEN")
    home_opened(team, "U0BEN")
    [view] = _published(team)
    text = blocks_text(view["blocks"])
    line = next(x for x in text.splitlines() if "Today's standups" in x)
    # The counts say Ben is away (0 of 2); his own line must agree.
    assert "0 of 2" in line
    assert "you are away" in line, line


def test_monday_report_counts_fridays_standups_not_sundays(team: Server) -> None:
    """Workdays mon-fri: no standup is asked for on a Sunday, so Monday's daily report
    counts Friday's (it said "Standups yesterday: 0 of 3; missing" all three, for Sunday)."""
    submit(team, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": ""})  # Friday
    team.clock.at = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # Monday 09:00 New York (EST)
    assert bot_clock.run_job(team.runtime, "daily-report").endswith("posted")
    team.runtime.sender.drain()
    [report] = [p for p in posts(team) if p.args.get("channel") == "#sprint-status"]
    lines = [x for x in text_of(report).splitlines() if "Standups" in x]
    assert lines == ["Standups on Fri 2025-10-31: 1 of 3; missing <@U0BEN>, <@U0CAT>"]


def test_day_one_report_does_not_count_the_day_before_the_sprint(team: Server) -> None:
    team.clock.at = datetime(2025, 10, 29, 13, 0, tzinfo=UTC)  # Wed, day 1, 09:00 New York
    assert bot_clock.run_job(team.runtime, "daily-report").endswith("posted")
    team.runtime.sender.drain()
    [report] = [p for p in posts(team) if p.args.get("channel") == "#sprint-status"]
    text = text_of(report)
    assert "Standups yesterday" not in text, [x for x in text.splitlines() if "Standups" in x]


def test_a_non_decimal_digit_in_tests_fixed_gets_a_field_error_not_a_closed_form(
    team: Server,
) -> None:
    """ "²".isdigit() is True but int("²") raises: the submission fails, the error handler
    answers 200 with an empty body, and Slack closes the form as if it were saved."""
    resp = submit(team, "U0ANA", **{**ANSWER, "tests_fixed": "²"})
    assert resp.status_code == 200
    assert resp.text != "", "the form closed as if saved"
    assert resp.json()["response_action"] == "errors"


def test_update_of_yesterdays_answer_submitted_after_midnight_edits_that_answer(
    team: Server,
) -> None:
    """Ana opens /standup at 23:50 (Thursday, day 2) holding her day-2 answer and presses
    "Update" at 00:05: her day-2 post must be updated, not a new day-3 answer made."""
    team.clock.at = datetime(2025, 10, 30, 13, 0, tzinfo=UTC)  # Thu 09:00 NY, day 2
    submit(
        team,
        "U0ANA",
        metadata={"day": "2025-10-30"},
        **{**ANSWER, "current_blockers": "", "new_risks": ""},
    )
    team.clock.at = datetime(2025, 10, 31, 3, 50, tzinfo=UTC)  # Thu 23:50 NY
    slash(team.url, "/standup", user_id="U0ANA")
    view = opened(team)[-1]
    assert view["submit"]["text"] == "Update"
    meta = json.loads(view["private_metadata"])
    team.clock.at = datetime(2025, 10, 31, 4, 5, tzinfo=UTC)  # Fri 00:05 NY
    submit(
        team,
        "U0ANA",
        metadata=meta,
        **{**ANSWER, "current_blockers": "", "new_risks": "", "tests_fixed": "15"},
    )
    with team.runtime.db.session() as s:
        rows = {r.day.isoformat(): r.answers["tests_fixed"] for r in s.exec(select(Standup))}
    assert rows == {"2025-10-30": 15}, rows


def test_editing_a_standup_does_not_refile_a_blocker_resolved_since(team: Server) -> None:
    """Ana's answer files "P0: Swarm Coordination deadlocks" as B-001; it is resolved; she
    reopens /standup (the form pre-fills the same blocker line) to fix a number and presses
    Update: a new P0 B-002 is filed and announced in #critical-blockers, escalation and all."""
    answer = {**ANSWER, "current_blockers": "P0: Swarm Coordination deadlocks", "new_risks": ""}
    submit(team, "U0ANA", **answer)
    body = slash(
        team.url, "/blocker", "resolve B-001 fixed the partition handling", user_id="U0ANA"
    )
    assert "resolved" in body.json()["text"], body.text
    slash(team.url, "/standup", user_id="U0ANA")
    view = opened(team)[-1]
    prefilled = next(b for b in view["blocks"] if b.get("block_id") == "current_blockers")
    assert prefilled["element"]["initial_value"] == "P0: Swarm Coordination deadlocks"
    resp = submit(team, "U0ANA", **{**answer, "tests_fixed": "13"})
    assert (resp.status_code, resp.text) == (200, "")
    with team.runtime.db.session() as s:
        rows = [(b.severity, b.resolved_at is None) for b in s.exec(select(Blocker))]
    assert rows == [("P0", False)], rows  # observed: a second, open P0 blocker


def test_home_on_a_saturday_does_not_say_a_standup_is_due(team: Server) -> None:
    """Workdays mon-fri: no standup is prompted on Saturday, yet the Home tab says
    "Today's standups: 0 of 3; yours is still due"."""
    team.clock.at = datetime(2025, 11, 1, 15, 0, tzinfo=UTC)  # Saturday 11:00 New York
    home_opened(team, "U0ANA")
    [view] = _published(team)
    line = next(x for x in blocks_text(view["blocks"]).splitlines() if "Today's standups" in x)
    assert line == "*Today's standups*: none today", line


def test_an_answer_is_counted_when_the_person_marks_the_rest_of_today_away(team: Server) -> None:
    """`/standup skip` is refused once answered ("Skipping would hide it"), but
    `/standup away today tomorrow` after answering is accepted and does hide it: the digest
    says "Answered 0 of 2 … Away: Ana" with Ana's answer in its thread."""
    submit(team, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    slash(team.url, "/standup", "away today tomorrow leaving at noon", user_id="U0ANA")
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    team.runtime.sender.drain()
    [digest] = team.slack.calls_to("chat.update")
    text = text_of(digest)
    assert "*Answered 1 of 3*" in text, text.splitlines()[:4]


def test_the_digest_says_how_many_blockers_and_calls_for_help_it_leaves_out(
    team: Server,
) -> None:
    """A standup naming 25 blockers: the digest showed 20 and said nothing of the rest
    (found by review; calls for help the same). It says how many more there are and where
    they are."""
    typed = [f"P1: runner pool {i:02} exhausted" for i in range(25)]
    assert submit(team, "U0ANA", **{**ANSWER, "current_blockers": "\n".join(typed)}).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    team.runtime.sender.drain()
    [digest] = team.slack.calls_to("chat.update")
    text = text_of(digest)
    shown = [i for i in range(25) if f"runner pool {i:02} exhausted" in text]
    assert shown == list(range(20)), text
    assert "_+5 more blockers — each standup is in this message's thread_" in text, text
    assert slack_limits(digest.args) == []


def test_a_long_answer_is_posted_whole_not_cut_at_1500_characters(team: Server) -> None:
    """The form accepts 2,900 characters a field; the thread reply cuts each at 1,500 ("…")
    though the section (and further sections) could hold it: teammates never see the rest."""
    notes = " ".join(f"word{i:04d}" for i in range(220))  # 2,199 characters
    assert 1500 < len(notes) < 2900
    resp = submit(
        team, "U0ANA", **{**ANSWER, "notes": notes, "current_blockers": "", "new_risks": ""}
    )
    assert (resp.status_code, resp.text) == (200, "")
    team.runtime.sender.drain()
    [reply] = [p for p in posts(team) if "Standup from" in text_of(p)]
    assert "word0219" in text_of(reply), "the end of the notes is cut off"


def test_a_form_of_an_earlier_day_is_refused_on_top_of_the_form(team: Server) -> None:
    """A form left open since the day before yesterday is not stored under any day: a
    notice on top of it says so, and the form stays as typed underneath."""
    resp = submit(team, "U0ANA", metadata={"day": "2025-10-29"}, **ANSWER)
    answer = resp.json()
    assert answer["response_action"] == "push"
    notice = blocks_text(answer["view"]["blocks"])
    assert "This form was for 2025-10-29, which has passed" in notice
    assert "Nothing was saved" in notice
    with team.runtime.db.session() as s:
        assert s.exec(select(Standup)).all() == []


def test_a_blank_line_between_long_notes_never_makes_an_empty_section(server: Server) -> None:
    """1,457 characters of notes, escaped to two lines that each fill a section, with a
    blank line between: the blank line was a section of its own, with no text. Slack
    refuses that (invalid_blocks), and the answer was never posted (found by review)."""
    at(server, T0)
    notes = "<" * 720 + "a" * 10 + "\n\n" + "<" * 725
    assert submit(server, "U0DEV", notes=notes).text == ""
    server.runtime.sender.drain()
    reply = next(p for p in posts(server) if "Standup from" in p.args.get("text", ""))
    assert slack_limits(reply.args) == []
    assert "&lt;" * 725 in blocks_text(reply.args["blocks"])
