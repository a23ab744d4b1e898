"""`sprintbot job run standup-prompt --at <a past day>` (README: "`sprintbot job run
standup-prompt --at 2025-10-31T09:00-04:00` runs one by hand") DMs every participant, days
later, "Time for today's standup — Day 3 of 14 (2025-10-31)": a standup nobody can answer
any more (its form opens today's; the clock's own advice says a day's prompts ask about
that day only and are not to be backfilled). Refused, saying so (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import cli
from tests.support.e2e import text_of
from tests.support.server import EXAMPLE, Clock, Server, cli_env

MONDAY = datetime(2025, 11, 3, 15, 0, tzinfo=UTC)  # Mon 10:00 EST, day 6


def _dms(server: Server) -> list[str]:
    return [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if str(c.args.get("channel", "")).startswith("U")
    ]


@pytest.mark.usefixtures("quick_pace")
def test_a_standup_prompt_run_for_a_past_day_does_not_ask_for_todays_standup_of_that_day(
    server: Server,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    clock.at = MONDAY
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.setattr(cli, "utcnow", lambda: MONDAY)  # the real time is Monday
    rc = cli.main(["job", "run", "standup-prompt", "--at", "2025-10-31T09:00-04:00"])
    assert rc == 2
    assert capsys.readouterr().err.endswith(
        "standup-prompt asks about the day it runs on: 2025-10-31 is past (today is "
        "2025-11-03 in America/New_York); run it as of today, without --at\n"
    )
    server.runtime.sender.drain()
    dms = _dms(server)
    # On Monday, nobody is told that Friday's standup is "today's".
    stale = [t for t in dms if "today's" in t and "2025-10-31" in t]
    assert not stale, (rc, stale)


@pytest.mark.usefixtures("quick_pace")
def test_a_standup_reminder_run_for_a_past_day_does_not_say_that_days_standup_is_open(
    server: Server,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    clock.at = MONDAY
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.setattr(cli, "utcnow", lambda: MONDAY)
    rc = cli.main(["job", "run", "standup-reminder", "--at", "2025-10-31T09:25-04:00"])
    assert rc == 2 and "is past" in capsys.readouterr().err
    server.runtime.sender.drain()
    # Friday's standup can no longer be answered on Monday (its button opens Monday's).
    stale = [t for t in _dms(server) if "2025-10-31 is still open" in t]
    assert not stale, (rc, stale)
