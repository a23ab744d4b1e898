"""Messages queued while Slack is down and made pointless before Slack comes back: a
standup reminder to someone who answered meanwhile, a blocker's next escalation steps after
it was resolved. They are taken back, not posted (found by review)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import clock as bot_clock
from tests.support.e2e import ANSWER, posts, submit
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server

pytestmark = pytest.mark.faults

PEOPLE = ["U0ANA", "U0BEN"]


def delivered(server: Server) -> list[dict[str, Any]]:
    """Messages Slack holds (what people see), in arrival order."""
    return list(server.slack.messages)


def shown(m: dict[str, Any]) -> str:
    return json.dumps([m.get("text"), m.get("blocks")])


@pytest.fixture
def team(
    make_server: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 New York
    return server


def test_reminder_queued_in_an_outage_is_not_posted_after_the_person_answered(
    team: Server,
) -> None:
    runtime = team.runtime
    assert bot_clock.run_job(runtime, "standup-prompt").endswith("2 prompts sent")
    assert {"U0ANA", "U0BEN"} <= {p.args["channel"] for p in posts(team)}
    submit(team, "U0ANA", **ANSWER)
    listeners_done()
    runtime.sender.drain()

    # 09:25: Slack's Web API is down; the reminder to U0BEN is queued, not delivered.
    team.slack.outage("503")
    team.clock.at = datetime(2025, 10, 31, 13, 25, tzinfo=UTC)
    assert bot_clock.run_job(runtime, "standup-reminder").endswith("1 reminders sent")
    assert not [m for m in delivered(team) if "still open" in shown(m)]

    # 09:27: U0BEN answers (the form was open from the 09:00 prompt; Slack takes the
    # submission and the bot answers it, only its Web API calls fail).
    team.clock.at = datetime(2025, 10, 31, 13, 27, tzinfo=UTC)
    assert submit(team, "U0BEN", **ANSWER).status_code == 200
    listeners_done()

    # 09:40: Slack is back; the outbox catches up.
    team.slack.recover()
    team.clock.at = datetime(2025, 10, 31, 13, 40, tzinfo=UTC)
    for _ in range(5):
        runtime.sender.drain()

    answers = [m for m in delivered(team) if m.get("thread_ts") and m["channel"] == "C0TEAM"]
    assert len(answers) == 2, "both standups should be in the day thread"
    reminders = [m for m in delivered(team) if "still open" in shown(m)]
    # DESIGN.md: the reminder DMs "those who have not answered". U0BEN had answered
    # before anything could be delivered; a reminder now tells them their standup is
    # still open when it is not.
    assert reminders == [], f"stale reminder posted: {[r['text'] for r in reminders]}"


def test_escalation_queued_in_an_outage_is_not_posted_for_a_blocker_resolved_meanwhile(
    make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from tests.support.e2e import T0, at
    from tests.support.slack import slash

    server = make_server()
    at(server, T0)
    resp = slash(server.url, "/blocker", "P1 swarm coordination: deadlock", user_id="U0DEV")
    assert "B-001 filed" in resp.json()["text"]
    server.runtime.sender.drain()  # the card and step 1 are in Slack

    # Slack's Web API goes down; 24 h after the report the clock fires steps 2 (tech
    # lead) and 3 (swarm meeting, in the team channel): queued, not delivered.
    server.slack.outage("503")
    at(server, T0 + timedelta(hours=24, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("2 steps fired")

    # The reporter resolves it (the slash command is answered in its HTTP reply).
    at(server, T0 + timedelta(hours=24, minutes=20))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."

    server.slack.recover()
    at(server, T0 + timedelta(hours=24, minutes=40))
    for _ in range(5):
        server.runtime.sender.drain()

    team_channel = [
        m["text"] for m in delivered(server) if m["channel"] == "C0TEAM" and not m.get("thread_ts")
    ]
    lead = [m["text"] for m in delivered(server) if "U0TECHLEAD" in shown(m)]
    # DESIGN.md: blockers "climb [[escalation]] until resolved". After the outage the team
    # channel is told to hold a swarm meeting about B-001 — resolved 20 minutes before —
    # and nothing in that channel says it was resolved; the tech lead is pinged for it too.
    assert not [t for t in team_channel if "Swarm coordination meeting" in t], team_channel
    assert lead == [], lead
