"""Blockers and risks through Slack, where they fell short (each found by review): a
refused resolve form, risks typed in a standup, a reopening with a reason, steps after a
reopening, a blocker linked to a risk."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Event, Risk
from tests.support.e2e import (
    ANSWER,
    T0,
    at,
    click,
    opened,
    posts,
    risk_values,
    submit,
    text_of,
    view_submit,
)
from tests.support.server import Server
from tests.support.slack import slash

NO_TEXT = {"current_blockers": "", "new_risks": ""}


def _note(text: str) -> dict[str, object]:
    return {"values": {"note": {"value": {"type": "plain_text_input", "value": text}}}}


def test_the_resolve_forms_refusal_names_who_resolved_it_readably(server: Server) -> None:
    """Ana opens B-001's Resolve form; meanwhile the tech lead resolves it with
    `/blocker resolve`. Ana's submission is refused under the note field with "B-001 was
    already resolved by <@U0TECHLEAD>." — a modal's field error is plain text, so Slack
    shows the raw `<@U0TECHLEAD>` instead of a name."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0ANA")
    click(server, "blocker_resolve", "1", user="U0ANA")
    assert opened(server)[-1]["callback_id"] == "blocker_resolve"
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0TECHLEAD")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."

    late = view_submit(
        server, "blocker_resolve", "U0ANA", _note("bumped the timeout"), {"blocker": 1}
    )
    error = late.json()["errors"]["note"]
    assert "already resolved" in error
    # Plain text: no mrkdwn mention syntax the user would see raw.
    assert "<@" not in error, error


def test_a_risk_typed_in_the_standup_is_kept_in_its_history(server: Server) -> None:
    """README: "Every change of a blocker or risk is kept with who and when (`event`)". A
    risk added with the /risk form gets its "created" event (and the tracker's update log a
    row "R-001 created"); one typed in the standup's *New risks* gets none: its history
    starts at nothing."""
    at(server, T0)
    ok = submit(
        server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": "LRU rewrite may slip"}
    )
    assert (ok.status_code, ok.text) == (200, "")
    with server.runtime.db.session() as s:
        [risk] = s.exec(select(Risk)).all()
        events = [
            (e.action, e.actor) for e in s.exec(select(Event).where(Event.subject == "risk")).all()
        ]
    assert risk.description == "LRU rewrite may slip"
    assert events == [("created", "U0ANA")]


def test_a_risk_typed_in_the_standup_is_announced_like_one_from_the_form(server: Server) -> None:
    """A risk from the /risk form is announced in the team channel ("New risk R-001 …");
    the same risk typed in the standup is added to the register silently (the blocker typed
    next to it is posted to #critical-blockers)."""
    at(server, T0)
    answer = {
        **ANSWER,
        "current_blockers": "P1: Swarm Coordination deadlocks",
        "new_risks": "LRU rewrite may slip",
    }
    ok = submit(server, "U0ANA", **answer)
    assert (ok.status_code, ok.text) == (200, "")
    server.runtime.sender.drain()
    # The blocker typed beside it is posted; the risk is not.
    assert any(text_of(p).startswith("B-001 P1") for p in posts(server))
    announced = [
        p for p in posts(server) if p.args.get("text", "").startswith(":clipboard: New risk")
    ]
    assert len(announced) == 1, [text_of(p)[:80] for p in posts(server)]
    assert "R-001" in text_of(announced[0]) and "LRU rewrite may slip" in text_of(announced[0])


def test_a_risk_raised_again_in_the_standup_after_it_was_resolved_is_recorded(
    server: Server,
) -> None:
    """Ana raised "LRU rewrite may slip" in a standup; it was marked Resolved. Days later it
    is back and she types it again in her standup: nothing is recorded and nothing says so
    (the standup skips any risk of hers with the same text, resolved or not; a blocker is
    skipped only while one like it is open)."""
    at(server, T0)
    first = submit(
        server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": "LRU rewrite may slip"}
    )
    assert (first.status_code, first.text) == (200, "")
    with server.runtime.db.session() as s:
        [risk] = s.exec(select(Risk)).all()
    resolved = risk_values(description="LRU rewrite may slip", status="Resolved")
    assert view_submit(server, "risk", "U0ANA", resolved, {"risk": risk.id}).text == ""

    at(server, T0 + timedelta(days=3))  # Monday 2025-11-03, day 6
    again = submit(
        server,
        "U0ANA",
        metadata={"day": "2025-11-03"},
        **{**ANSWER, "current_blockers": "", "new_risks": "LRU rewrite may slip"},
    )
    assert (again.status_code, again.text) == (200, "")
    with server.runtime.db.session() as s:
        statuses = sorted(r.status for r in s.exec(select(Risk)).all())
    # Either a new open risk, or the old one reopened: not silently nothing.
    assert statuses != ["Resolved"], statuses


def test_reopen_with_a_reason_is_not_told_the_code_is_no_blocker_id(server: Server) -> None:
    """`/blocker resolve B-001 what fixed it` takes a note after the code; `/blocker reopen
    B-001 it came back` answered '"B-001 it came back" is not a blocker id; they look like
    B-007.' — the user typed a valid code, and nothing was reopened."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    slash(server.url, "/blocker", "resolve B-001 fixed it", user_id="U0DEV")
    answer = slash(server.url, "/blocker", "reopen B-001 it came back", user_id="U0DEV").json()
    assert answer["text"] == ":leftwards_arrow_with_hook: B-001 reopened."
    server.runtime.sender.drain()
    notes = [p.args["text"] for p in posts(server) if "reopened by" in text_of(p)]
    assert notes == [":leftwards_arrow_with_hook: *B-001* reopened by <@U0DEV>: it came back"]


def test_a_reopened_blockers_steps_do_not_say_they_came_after_minutes(server: Server) -> None:
    """B-001 (P1) is resolved an hour after its report, at step 1, and reopened 30 h after
    it. Five minutes later the escalation job fires steps 2 and 3 at once (their `after`,
    8h and 24h, counts from the report) and each says it was reached "after 5m": the tech
    lead reads "reached escalation step 2 — Technical lead review after 5m", a step the
    sprint file puts at 8 h."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()  # (step 1 went; one still waiting is taken back, due again)
    at(server, T0 + timedelta(hours=1))
    slash(server.url, "/blocker", "resolve B-001 fixed it", user_id="U0DEV")
    at(server, T0 + timedelta(hours=30))
    assert (
        "reopened" in slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV").json()["text"]
    )
    at(server, T0 + timedelta(hours=30, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation") == (
        "blocker-escalation: 2 steps fired"
    )
    server.runtime.sender.drain()
    [lead] = [
        p
        for p in posts(server)
        if "Technical lead review" in text_of(p) and p.args.get("thread_ts")
    ]
    text = lead.args["text"]
    assert "after 5m" not in text and "after 30h5m" in text, text


def test_a_blocker_linked_to_a_risk_shows_the_link_somewhere(server: Server) -> None:
    """`/blocker link B-001 R-001` answers ":link: B-001 is linked to R-001." and stores it,
    but no surface ever shows it: not the blocker's message (not updated), not `/blocker
    list`, not `/risk list` — the team cannot see which risk a blocker realised."""
    at(server, T0)
    assert view_submit(server, "risk", "U0PM", risk_values()).text == ""
    slash(server.url, "/blocker", "P1 Unit Tests: new failures after fix", user_id="U0DEV")
    server.runtime.sender.drain()
    updates_before = len(server.slack.calls_to("chat.update"))
    linked = slash(server.url, "/blocker", "link B-001 R-001", user_id="U0DEV").json()
    assert linked["text"] == ":link: B-001 is linked to R-001."
    server.runtime.sender.drain()
    updates = [text_of(c) for c in server.slack.calls_to("chat.update")[updates_before:]]
    blocker_list = slash(server.url, "/blocker", "list", user_id="U0DEV").json()["text"]
    risk_list = slash(server.url, "/risk", "list", user_id="U0DEV").json()["text"]
    shown = any("R-001" in u for u in updates) or "R-001" in blocker_list or "B-001" in risk_list
    assert shown, (updates, blocker_list, risk_list)


def test_relinking_a_blocker_to_its_earlier_risk_updates_its_message(server: Server) -> None:
    """B-001 linked to R-001, then (a slip) R-002, then back to R-001: `/blocker list` said
    "risk R-001", but the blocker's message in #blockers still showed R-002 — the third
    link's update reused the first one's outbox key and was dropped (found by review)."""
    at(server, T0)
    assert view_submit(server, "risk", "U0PM", risk_values()).text == ""
    second = risk_values(description="second")
    assert view_submit(server, "risk", "U0PM", second, view_id="V3").text == ""
    slash(server.url, "/blocker", "P1 Unit Tests: new failures after fix", user_id="U0DEV")
    for risk in ("R-001", "R-002", "R-001"):
        answer = slash(server.url, "/blocker", f"link B-001 {risk}", user_id="U0DEV").json()
        assert answer["text"] == f":link: B-001 is linked to {risk}."
        server.runtime.sender.drain()
    listed = slash(server.url, "/blocker", "list", user_id="U0DEV").json()["text"]
    assert "risk R-001" in listed
    shown = [text_of(c) for c in server.slack.calls_to("chat.update") if "B-001" in text_of(c)]
    assert shown, "no update of the blocker's message"
    last = shown[-1]
    assert "R-001" in last and "R-002" not in last, last
