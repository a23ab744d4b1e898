"""`/tests quarantine`: a period typed in hours lasts that many hours, and who may quarantine
is answered before the input is judged (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import clock as bot_clock
from bot.blocks.common import local_time
from tests.e2e.test_quarantine import SWARM, api, ask
from tests.support.e2e import post_report
from tests.support.server import Server

NEW_YORK = ZoneInfo("America/New_York")
# Saturday 1 November 2025, 10:00 EDT; New York falls back at 02:00 on Sunday 2 November.
SAT_TEN = datetime(2025, 11, 1, 14, 0, tzinfo=UTC)


def test_a_quarantine_typed_in_hours_lasts_that_many_hours_across_the_dst_change(
    server: Server,
) -> None:
    """The QA lead types `/tests quarantine test_leader_election for 48h` at 10:00 on
    Saturday 1 Nov (New York; the clocks fall back that night). The bot answers "until
    Mon 03 Nov 10:00" and the test stays in quarantine 49 hours: 48h was read as "2
    calendar days" (jobs/quarantine.py `ends`: any whole number of days, however typed).
    Hours typed are hours (the module's own rule, "anything else that many hours", and
    36h is honoured as 36 hours): it should end 48 hours later, Mon 03 Nov 09:00 on the
    team's clock, and say so."""
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="aaa111")
    server.clock.at = SAT_TEN
    answer = ask(server, "quarantine test_leader_election for 48h")
    due = SAT_TEN + timedelta(hours=48)
    assert answer == (
        f"Quarantined `{SWARM}::test_leader_election` until {local_time(due, NEW_YORK)}: its "
        "failures are reported apart and never alert."
    )
    # And it is out after 48 hours, as asked.
    server.clock.at = due
    assert bot_clock.run_job(server.runtime, "quarantine-expiry") == (
        "quarantine-expiry: 1 tests released"
    )
    assert api(server, "/api/v1/quarantine").json()["tests"] == []


def test_someone_without_the_permission_is_refused_before_their_input_is_judged(
    server: Server,
) -> None:
    """A developer (no quarantine permission) types `/tests quarantine
    test_leader_election for 400d`. The bot answers "A quarantine lasts between 1h and
    365d" — coaching them to fix input they may not use at all; they fix it and only then
    are told "Only the tech lead, the QA lead or an admin can quarantine tests". The
    refusal (who may) should come first, as it does for well-formed input and for
    `/tests unquarantine` (bot/listeners/commands/tests.py `_quarantine`: the period,
    reason and storable checks run before `permissions.require_role`)."""
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="aaa111")
    for text in (
        "quarantine test_leader_election for 400d",
        "quarantine test_leader_election for soon",
        "quarantine test_leader_election because " + "x" * 600,
    ):
        said = ask(server, text, user="U0DEV")
        assert "can quarantine tests" in said, (text, said)
    assert api(server, "/api/v1/quarantine").json()["tests"] == []
