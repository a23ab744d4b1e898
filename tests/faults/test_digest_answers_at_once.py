"""Two people answer the standup at the same moment after the 09:30 digest, on PostgreSQL
(SQLite's one writer serialises them): each answer counts the day again, and each counted
without the other's, so the day's message kept "Answered 1 of 2" for whichever update
came last. The day's count is now taken by one writer at a time. (And the re-count was
keyed by the time alone: a second answer in the same instant was not counted at all.)"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text as sql

from bot import clock as bot_clock
from jobs import standups
from tests.e2e.test_people_digest_stale_after_edit import _day_message_now, team  # noqa: F401
from tests.support.e2e import ANSWER, submit
from tests.support.server import Server

pytestmark = pytest.mark.faults
QUIET = {**ANSWER, "current_blockers": "", "new_risks": "", "help_needed": ""}


def test_two_answers_in_the_same_instant_after_the_digest_are_both_counted(
    team: Server,  # noqa: F811
) -> None:
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)  # Fri 09:30 New York
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert submit(team, "U0ANA", **QUIET).text == ""
    assert submit(team, "U0BEN", **QUIET).text == ""
    shown = _day_message_now(team, "2025-10-31")
    assert "*Answered 2 of 2*" in shown, shown


def test_two_answers_at_once_after_the_digest_are_both_counted(team: Server) -> None:  # noqa: F811
    if team.runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once: PostgreSQL (SQLite has one)")
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)  # Fri 09:30 New York
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert "*Answered 0 of 2*" in _day_message_now(team, "2025-10-31")

    # Both answers wait at the same point (the day's count, held here), then go on together.
    answers: list[str] = []
    people = [
        threading.Thread(target=lambda u=u: answers.append(submit(team, u, **QUIET).text))
        for u in ("U0ANA", "U0BEN")
    ]
    with team.runtime.db.session() as holder:
        standups.lock_day(session=holder, day=date(2025, 10, 31))
        for person in people:
            person.start()
        deadline, waiting = time.monotonic() + 10, 0
        with team.runtime.db.engine.connect() as watch:
            while waiting < 2 and time.monotonic() < deadline:
                waiting = watch.execute(
                    sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                ).scalar_one()
                watch.rollback()
                time.sleep(0.02)
        holder.rollback()
    for person in people:
        person.join(30)
    assert waiting == 2, "the answers did not wait for the day's count"
    assert answers == ["", ""]
    shown = _day_message_now(team, "2025-10-31")
    assert "*Answered 2 of 2*" in shown, shown
