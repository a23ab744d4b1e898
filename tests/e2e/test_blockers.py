"""The blocker log end to end: filing by text and by form, the post and its buttons, each
escalation step once at its time, "Escalate now", permissions, resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlmodel import select

from bot import clock as bot_clock
from jobs import tracker
from storage.models import Blocker, Event
from tests.support import httpc
from tests.support.e2e import (
    T0,
    at,
    blocker_form_values,
    blocks_text,
    click,
    opened,
    posts,
    responses,
    state,
    text_of,
    view_submit,
)
from tests.support.server import INGEST_TOKEN, Server, together
from tests.support.slack import slash


def blocker_posts(server: Server) -> list[Any]:
    return [p for p in posts(server) if p.args.get("channel") == "#critical-blockers"]


def test_file_by_text_then_escalate_on_time_and_resolve(server: Server) -> None:
    at(server, T0)
    resp = slash(
        server.url, "/blocker", "P0 swarm coordination: deadlock under partition", user_id="U0DEV"
    )
    assert resp.json() == {
        "response_type": "ephemeral",
        "text": ":no_entry: B-001 filed in #critical-blockers (2025-10-31).",
    }
    server.runtime.sender.drain()
    [post] = blocker_posts(server)
    text = text_of(post)
    assert text.startswith("B-001 P0 · Swarm Coordination: deadlock under partition")
    assert "*Reported by*\n<@U0DEV>" in text_of(post)
    # Step 1 fired as it was filed, and the message says so from the start.
    assert "step 1 of 4: Daily standup discussion" in text
    buttons = [
        (e["text"]["text"], e["action_id"])
        for b in post.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == [
        ("Take ownership", "blocker_ack"),
        ("Escalate now", "blocker_escalate"),
        ("Resolve", "blocker_resolve"),
    ]
    # Step 1 ("after 0h") fires at once: in the thread and in the team channel.
    # (Two channels: each keeps its own order, so which comes first is not fixed.)
    steps = sorted(
        (p for p in posts(server) if "escalation step" in text_of(p)),
        key=lambda p: str(p.args.get("channel")),
    )
    assert [(p.args.get("channel"), bool(p.args.get("thread_ts"))) for p in steps] == [
        ("#phase4-production-readiness", False),
        ("CCRITICALBLOCKERS", True),
    ]
    assert "step 1 — *Daily standup discussion*" in text_of(steps[1])

    def escalation(hours: float) -> str:
        at(server, T0 + timedelta(hours=hours))
        return bot_clock.run_job(server.runtime, "blocker-escalation")

    assert escalation(7.9) == "blocker-escalation: 0 steps fired"
    assert escalation(8) == "blocker-escalation: 1 steps fired"
    assert escalation(8.5) == "blocker-escalation: 0 steps fired"
    lead = [p for p in posts(server) if "Technical lead review" in text_of(p)]
    assert len(lead) == 1 and "<@U0TECHLEAD>" in text_of(lead[0])
    assert escalation(49) == "blocker-escalation: 2 steps fired"
    execs = [p for p in posts(server) if "Executive decision" in text_of(p)]
    assert len(execs) == 1 and "<!subteam^S0EXECUTIVES>" in text_of(execs[0])
    assert escalation(60) == "blocker-escalation: 0 steps fired"
    update = server.slack.calls_to("chat.update")[-1]
    assert "step 4 of 4: Executive decision" in text_of(update)

    # Someone else may not resolve (the refusal says who may: at step 4 that includes the
    # executives); the reporter may, with a note.
    refused = slash(server.url, "/blocker", "resolve B-001 meh", user_id="U0OTHER").json()
    assert refused["text"] == (
        "Only B-001's owner, its reporter, the tech lead, an admin or the executives (its "
        "escalation has reached them) can resolve it."
    )
    no_note = slash(server.url, "/blocker", "resolve B-001", user_id="U0DEV").json()
    assert no_note["text"].startswith("Say how B-001 was resolved")
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    server.runtime.sender.drain()
    note = [p for p in posts(server) if "resolved by" in text_of(p)]
    assert note[0].args["text"] == (
        ":white_check_mark: *B-001* resolved by <@U0DEV> after 60h: split the lock"
    )
    final = server.slack.calls_to("chat.update")[-1]
    assert "~deadlock under partition~" in text_of(final)
    assert not any(b["type"] == "actions" for b in final.args["blocks"])
    with server.runtime.db.session() as s:
        events = [(e.action, e.actor) for e in s.exec(select(Event).order_by(Event.id)).all()]
    assert events == [
        ("created", "U0DEV"),
        ("escalated", "sprintbot"),
        ("escalated", "sprintbot"),
        ("escalated", "sprintbot"),
        ("escalated", "sprintbot"),
        ("resolved", "U0DEV"),
    ]
    again = slash(server.url, "/blocker", "resolve B-001 twice", user_id="U0DEV").json()
    assert again["text"] == "B-001 was already resolved by <@U0DEV>."


def test_form_buttons_and_list(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", user_id="U0DEV")
    [form] = opened(server)
    assert [b["block_id"] for b in form["blocks"]] == [
        "component",
        "description",
        "severity",
        "owner",
        "target",
    ]
    bad = view_submit(server, "blocker", "U0DEV", state(description=""))
    assert bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"component", "description", "severity"}
    values = {
        "values": {
            "component": {
                "value": {
                    "type": "static_select",
                    "selected_option": {"value": "Memory Management"},
                }
            },
            "description": {"value": {"type": "plain_text_input", "value": "OOM in eviction"}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P1"}}},
            "owner": {"value": {"type": "users_select", "selected_user": None}},
            "target": {"value": {"type": "plain_text_input", "value": "Day 4"}},
        }
    }
    assert view_submit(server, "blocker", "U0DEV", values).text == ""
    server.runtime.sender.drain()
    [post] = blocker_posts(server)
    assert "*Resolution target*\nDay 4" in text_of(post)

    assert click(server, "blocker_ack", "1", user="U0ANA").status_code == 200
    assert click(server, "blocker_escalate", "1", user="U0ANA").status_code == 200
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        b = s.exec(select(Blocker)).one()
    assert (b.owner, b.acknowledged_by, b.escalation_level) == ("U0ANA", "U0ANA", 2)
    lead = [p for p in posts(server) if "Technical lead review" in text_of(p)]
    assert "(escalated by <@U0ANA>)" in text_of(lead[0])

    listing = slash(server.url, "/blocker", "list", user_id="U0X").json()["text"]
    assert listing.startswith(
        "*1 open blocker*\n• *B-001* P1 · Memory Management — OOM in eviction (<@U0ANA>, "
    )

    # A stranger's Resolve click is refused privately; the owner gets the form.
    click(server, "blocker_resolve", "1", user="U0STRANGER")
    assert responses(server, 1)[-1].args["text"].startswith("Only B-001's owner")
    click(server, "blocker_resolve", "1", user="U0ANA")
    [_, resolve_form] = opened(server, 2)
    assert resolve_form["callback_id"] == "blocker_resolve"
    empty = view_submit(
        server,
        "blocker_resolve",
        "U0ANA",
        {"values": {"note": {"value": {"type": "plain_text_input", "value": ""}}}},
        {"blocker": 1},
    )
    assert empty.json()["errors"]["note"].startswith("Say how B-001 was resolved")
    ok = view_submit(
        server,
        "blocker_resolve",
        "U0ANA",
        {"values": {"note": {"value": {"type": "plain_text_input", "value": "raised the limit"}}}},
        {"blocker": 1},
    )
    assert ok.text == ""
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().resolution == "raised the limit"


def test_bad_blocker_commands(server: Server) -> None:
    cases = {
        "P5 Swarm Coordination: x": 'Severity "P5" is not one of P0, P1, P2.',
        "P0 Quantum Flux: x": 'No component called "Quantum Flux". Components: ',
        "just words": "File a blocker as `/blocker P0 Swarm Coordination: what is blocked`",
        "resolve B-999 note": "There is no blocker B-999. `/blocker list` shows them.",
        "resolve banana note": '"banana" is not a blocker id; they look like B-007.',
    }
    for text, expected in cases.items():
        body = slash(server.url, "/blocker", text, user_id="U0DEV").json()
        assert body["response_type"] == "ephemeral"
        assert body["text"].startswith(expected), (text, body["text"])
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).all() == []


def test_reassign_needs_permission_and_reopen(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", "P2 E2E Tests: browser pool exhausted", user_id="U0DEV")
    click(server, "blocker_ack", "1", user="U0ANA")  # unowned: anyone may take it
    click(server, "blocker_ack", "1", user="U0BEN")  # owned by Ana: Ben may not
    assert responses(server, 1)[-1].args["text"] == (
        "B-001 belongs to <@U0ANA>; only they, its reporter, the tech lead or an admin can "
        "reassign it."
    )
    click(server, "blocker_ack", "1", user="U0TECHLEAD")  # the tech lead may
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().owner == "U0TECHLEAD"
    slash(server.url, "/blocker", "resolve B-001 bigger pool", user_id="U0TECHLEAD")
    refused = slash(server.url, "/blocker", "reopen B-001", user_id="U0BEN").json()["text"]
    assert refused.startswith("Only B-001's owner")
    assert slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV").json()["text"] == (
        ":leftwards_arrow_with_hook: B-001 reopened."
    )
    with server.runtime.db.session() as s:
        b = s.exec(select(Blocker)).one()
        actions = [e.action for e in s.exec(select(Event).order_by(Event.id)).all()]
    assert b.resolved_at is None
    assert actions == [
        "created",
        "escalated",
        "acknowledged",
        "acknowledged",
        "resolved",
        "reopened",
    ]


def stored_blockers(server: Server) -> list[tuple[str, str]]:
    with server.runtime.db.session() as s:
        return [(b.code, b.description) for b in s.exec(select(Blocker).order_by(Blocker.id))]


def test_a_double_submitted_blocker_form_files_one_blocker(server: Server) -> None:
    """Issue 12, fault 9: the same blocker form submitted twice (one view id: a double
    click Slack delivers twice) filed two blockers."""
    at(server, T0)
    first = view_submit(server, "blocker", "U0DEV", blocker_form_values(), view_id="VDOUBLE")
    assert (first.status_code, first.text) == (200, "")
    again = view_submit(server, "blocker", "U0DEV", blocker_form_values(), view_id="VDOUBLE")
    assert again.status_code == 200
    answer = again.json()
    assert answer["response_action"] == "update"
    assert answer["view"]["blocks"][0]["text"]["text"] == (
        ":information_source: Already filed as B-001 in #critical-blockers; nothing new was filed."
    )
    server.runtime.sender.drain()
    assert stored_blockers(server) == [("B-001", "OOM in eviction")]
    assert len(blocker_posts(server)) == 1
    # Another form (another view id) with the same text is another blocker.
    view_submit(server, "blocker", "U0DEV", blocker_form_values(), view_id="VOTHER")
    assert [code for code, _ in stored_blockers(server)] == ["B-001", "B-002"]


def test_a_repeated_blocker_command_files_one_blocker(server: Server) -> None:
    """Issue 12, fault 9: `/blocker P0 …` sent again (a retry after Bolt's timeout) filed
    a second blocker."""
    at(server, T0)
    first = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    assert first.json()["text"].startswith(":no_entry: B-001 filed")
    at(server, T0 + timedelta(minutes=3))
    retry = slash(server.url, "/blocker", "p0  swarm coordination:  Deadlock ", user_id="U0DEV")
    assert retry.json() == {
        "response_type": "ephemeral",
        "text": ":information_source: Already filed as B-001 in #critical-blockers; nothing "
        "new was filed.",
    }
    server.runtime.sender.drain()
    assert len(blocker_posts(server)) == 1
    assert stored_blockers(server) == [("B-001", "deadlock")]
    # Someone else reporting the same is a blocker of theirs; once B-001 is resolved the
    # same command files anew.
    other = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0ANA")
    assert other.json()["text"].startswith(":no_entry: B-002 filed")
    slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV")
    anew = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    assert anew.json()["text"].startswith(":no_entry: B-003 filed")


def test_concurrent_duplicate_submissions_file_one_blocker(server: Server) -> None:
    """Issue 12, fault 9, raced: concurrent duplicates of a form and of a command; the
    unique request key lets one insert win and the others find it."""
    at(server, T0)
    forms = together(
        4,
        lambda: view_submit(server, "blocker", "U0DEV", blocker_form_values(), view_id="VRACE"),
    )
    assert sorted(r.status_code for r in forms) == [200] * 4
    assert sorted(bool(r.text) for r in forms) == [False, True, True, True]
    commands = together(
        4, lambda: slash(server.url, "/blocker", "P1 Unit Tests: shard 3 hangs", user_id="U0DEV")
    )
    server.runtime.sender.drain()
    # (On PostgreSQL the losers' inserts used up sequence values: the second code may skip.)
    [(_, form), (code, command)] = stored_blockers(server)
    assert (form, command) == ("OOM in eviction", "shard 3 hangs")
    texts = sorted(r.json()["text"] for r in commands)
    already = f":information_source: Already filed as {code} in #critical-blockers; nothing "
    assert texts[:3] == [already + "new was filed."] * 3
    assert texts[3].startswith(f":no_entry: {code} filed")
    assert len(blocker_posts(server)) == 2


def test_a_form_that_fails_unexpectedly_says_nothing_was_saved_and_stays_open(
    server: Server,
) -> None:
    """A submission whose listener fails (here a forged form: its blocker is not a number)
    is not answered with the empty 200 that closes a form as if saved: a notice goes on top
    of it, saying nothing was saved, and closing it leaves the form as it was."""
    slash(server.url, "/blocker", "P1 Memory Management: OOM in eviction", user_id="U0ANA")
    note = {"values": {"note": {"value": {"type": "plain_text_input", "value": "fixed"}}}}
    got = view_submit(server, "blocker_resolve", "U0ANA", note, {"blocker": "B-001; drop"})
    assert got.status_code == 200 and got.text != ""
    answer = got.json()
    assert answer["response_action"] == "push"
    assert "Nothing was saved" in blocks_text(answer["view"]["blocks"])
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().resolved_at is None


def test_a_double_clicked_escalate_now_fires_one_step(server: Server) -> None:
    """ "Escalate now" clicked twice on the same message (a double click, or two people who
    both saw it at step 1) is one step: it fired two, the swarm meeting paged 30 minutes
    after filing (a third click paged the executives). The second click is told why."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    [post] = blocker_posts(server)
    [buttons] = [b for b in post.args["blocks"] if b["type"] == "actions"]
    [escalate] = [e["value"] for e in buttons["elements"] if e["action_id"] == "blocker_escalate"]
    at(server, T0 + timedelta(minutes=30))
    for _ in range(2):  # the same message, still showing where it was
        assert click(server, "blocker_escalate", escalate, user="U0DEV").status_code == 200
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        level = s.exec(select(Blocker)).one().escalation_level
    swarm = [p for p in posts(server) if "Swarm coordination meeting" in text_of(p)]
    assert (level, len(swarm)) == (2, 0)
    [refused] = [r.args["text"] for r in responses(server, 1)]
    assert refused.startswith("B-001 was escalated meanwhile, to step 2 of 4")
    # The message now shows step 2: a click on it goes one further.
    updated = [c for c in server.slack.calls_to("chat.update") if "step 2 of 4" in text_of(c)]
    [buttons] = [b for b in updated[-1].args["blocks"] if b["type"] == "actions"]
    assert [e["value"] for e in buttons["elements"]][1] == "1@2"


AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
# The example sprint runs 2025-10-29 … 2025-11-11 (New York): ended by this instant.
AFTER_END = datetime(2025, 11, 13, 15, 0, tzinfo=UTC)


def sprint_json(server: Server, **query: str) -> dict[str, Any]:
    resp = httpc.get(f"{server.url}/api/v1/sprint?{urlencode(query)}", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_reopening_a_blocker_rewrites_the_past_and_the_ended_sprint(server: Server) -> None:
    """A blocker resolved within two hours and reopened days later: as of the day it was
    resolved the blocker log had no open blocker, and the ended sprint's final figures had
    none. Reopening (and resolving again) replaced the first resolution on its row, so
    every figure as of an earlier instant — `?at=`, a backfilled report, the ended sprint's
    final answer — showed it open all along."""
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    at(server, T0 + timedelta(hours=2))
    assert (
        slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()[
            "text"
        ]
        == ":white_check_mark: B-001 resolved."
    )
    three_hours_in = (T0 + timedelta(hours=3)).isoformat()
    at(server, AFTER_END)
    before = sprint_json(server, at=three_hours_in)
    final_before = sprint_json(server)
    assert before["blockers"]["open"] == 0
    assert final_before["blockers"]["open"] == 0

    # After the sprint, the lock bug comes back: reopened, and resolved again a day later.
    slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV")
    at(server, AFTER_END + timedelta(days=1))
    slash(server.url, "/blocker", "resolve B-001 for real now", user_id="U0DEV")

    after = sprint_json(server, at=three_hours_in)
    final_after = sprint_json(server)
    assert (after["blockers"]["open"], final_after["blockers"]["open"]) == (0, 0)


def test_past_figures_show_todays_escalation_level(server: Server) -> None:
    """`GET /api/v1/sprint?at=` an hour after filing shows the blocker at the step it
    reached two days later: `escalation_level` is read from the row as it is now."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    an_hour_in = (T0 + timedelta(hours=1)).isoformat()
    at(server, T0 + timedelta(hours=2))
    assert sprint_json(server, at=an_hour_in)["blockers"]["items"][0]["escalation_level"] == 1
    at(server, T0 + timedelta(hours=50))
    assert bot_clock.run_job(server.runtime, "blocker-escalation") == (
        "blocker-escalation: 3 steps fired"
    )
    [item] = sprint_json(server, at=an_hour_in)["blockers"]["items"]
    assert item["escalation_level"] == 1, item  # (it showed 4: the row's level today)


def test_a_forged_button_value_is_refused_not_a_crash(server: Server) -> None:
    """A click whose value is no row's id (forged: past any table's integer) was an error
    of the database's ("Sorry, something went wrong"; a 500 on PostgreSQL's integer)."""
    for value in ("9" * 25, "3000000000@1", "²"):
        assert click(server, "blocker_escalate", value, user="U0DEV").status_code == 200
    said = [r.args["text"] for r in responses(server, 3)]
    assert said == ["That button is not attached to anything sprintbot knows."] * 3


def test_a_blockers_typed_target_reads_as_typed_in_the_tracker(server: Server) -> None:
    """The blocker form's resolution target went into the tracker as Markdown: a live
    link from anyone's text, "init" in bold (found by review)."""
    at(server, T0)
    values = blocker_form_values("OOM in eviction")
    typed = "[re-run](https://evil.example) after __init__ <b>EOD</b>"
    values["values"]["target"] = {"value": {"type": "plain_text_input", "value": typed}}
    assert view_submit(server, "blocker", "U0DEV", values).text == ""
    with server.runtime.db.read() as session:
        md = tracker.tracker_markdown(session=session, sprint=server.runtime.sprint, now=T0)
    row = next(line for line in md.splitlines() if line.startswith("| B-001 "))
    assert r"\[re-run\](https://evil.example) after \_\_init\_\_ \<b\>EOD\</b\>" in row, row


def test_a_resolve_form_refused_names_people_as_slack_shows_them(server: Server) -> None:
    """A modal's field error is plain text, where Slack shows a mention as typed: the
    refusal names whoever it names as Slack does ("@Dana"), not as `<@U0DEV>`."""
    server.slack.names["U0DEV"] = "Dana"
    at(server, T0)
    filed = slash(server.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    assert filed.json()["text"].startswith(":no_entry: B-001 filed")
    # Someone's resolve form stays open while the reporter resolves it by command.
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."
    late = view_submit(
        server,
        "blocker_resolve",
        "U0TECHLEAD",
        {"values": {"note": {"value": {"type": "plain_text_input", "value": "fixed"}}}},
        {"blocker": 1},
    ).json()
    assert late == {
        "response_action": "errors",
        "errors": {"note": "B-001 was already resolved by @Dana."},
    }
