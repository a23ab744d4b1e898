"""Request keys make filing idempotent even when two transactions race (issue 12, fault 9):
the unique constraint lets one insert win, and the other finds the winner's row."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlmodel import select

from storage import queries
from storage.db import Database
from storage.models import Blocker, Risk

T0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)


def _blocker(key: str | None, text: str = "deadlock") -> Blocker:
    return Blocker(
        component="Swarm Coordination",
        description=text,
        severity="P0",
        reported_by="U0DEV",
        reported_at=T0,
        request_key=key,
    )


def test_a_taken_key_finds_its_row_and_inserts_nothing(db: Database) -> None:
    with db.session() as s:
        first = queries.add_blocker(session=s, blocker=_blocker("k1"))
        again = queries.add_blocker(session=s, blocker=_blocker("k1", "other text"))
        assert again is first
        # No key: always a new row.
        assert queries.add_blocker(session=s, blocker=_blocker(None)) is not first
        risk = Risk(
            description="r",
            impact="High",
            probability="Low",
            created_by="U0PM",
            created_at=T0,
            updated_at=T0,
            request_key="k1",  # keys of blockers and risks are apart
        )
        assert queries.add_risk(session=s, risk=risk) is risk
        s.commit()
    with db.session() as s:
        assert [b.description for b in s.exec(select(Blocker).order_by(Blocker.id))] == [
            "deadlock",
            "deadlock",
        ]


def test_a_concurrent_insert_of_the_same_key_finds_the_winner(db: Database) -> None:
    got: dict[str, Blocker | BaseException] = {}

    def second() -> None:
        try:
            with db.session() as s:
                row = queries.add_blocker(session=s, blocker=_blocker("race", "the loser's"))
                s.commit()
                got["row"] = row
        except BaseException as exc:  # reported by the assert below
            got["row"] = exc

    with db.session() as s:
        winner = queries.add_blocker(session=s, blocker=_blocker("race"))
        s.flush()
        thread = threading.Thread(target=second)
        thread.start()
        # The second waits: on PostgreSQL at its insert (the key's index entry is locked),
        # on SQLite at its BEGIN IMMEDIATE.
        time.sleep(0.5)
        assert thread.is_alive()
        s.commit()
        winner_id = winner.id
    thread.join(30)
    row = got["row"]
    assert isinstance(row, Blocker), row
    assert row.id == winner_id
    with db.session() as s:
        assert [b.description for b in s.exec(select(Blocker))] == ["deadlock"]
