"""The machine's clock steps back an hour (NTP correcting a host that ran fast; a VM
restored from a snapshot) while `sprintbot clock` runs: its APScheduler computes every
interval job's next run on the wall clock (the heartbeat, blocker-escalation,
alert-followup, quarantine-expiry, the outbox tick, the 5-minute catch-up of missed daily
slots), so every one of them waits for the wall clock to reach the time it last ran: the
clock does nothing for an hour. Meanwhile /healthz says the clock is "ok" — its last tick
is an hour "in the future", and a negative age is never late."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from apscheduler.executors import base as aps_executors
from apscheduler.schedulers import base as aps_base
from apscheduler.schedulers.background import BackgroundScheduler

from bot import clock as bot_clock
from bot import metrics


class _Host:
    """The machine's wall clock, which an operator (or NTP) may step."""

    offset = timedelta(0)


class _SteppedDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return datetime.now(tz) + _Host.offset


def test_the_clock_keeps_ticking_after_the_machines_clock_steps_back_an_hour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The host's clock, as APScheduler reads it: its scheduler and its executor (which
    # judges a run missed by it) alike.
    monkeypatch.setattr(aps_base, "datetime", _SteppedDatetime)
    monkeypatch.setattr(aps_executors, "datetime", _SteppedDatetime)
    # A heartbeat every 0.2 s, the step watcher looking every 0.05 s (production: 30 s and
    # 1 s): the step back of an hour still dwarfs both.
    monkeypatch.setattr(bot_clock, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(bot_clock, "STEP_WATCH_SECONDS", 0.05)
    ticks: list[float] = []
    monkeypatch.setattr(bot_clock, "heartbeat", lambda _runtime: ticks.append(time.monotonic()))
    # The watcher's looks: the step comes after its first (which notes the host's clock),
    # whatever the machine's load, or it would take the stepped clock for the first one.
    looks = threading.Semaphore(0)

    def watch_sleep(seconds: float) -> None:
        looks.release()
        time.sleep(seconds)

    monkeypatch.setattr(
        bot_clock, "timer", SimpleNamespace(sleep=watch_sleep, monotonic=time.monotonic)
    )

    scheduler = bot_clock._scheduler(BackgroundScheduler)
    bot_clock._tick(scheduler, None)  # type: ignore[arg-type]  # (the runtime is unused here)
    scheduler.start()
    try:
        assert looks.acquire(timeout=5) and looks.acquire(timeout=5), "no watcher looked"
        deadline = time.monotonic() + 5
        while len(ticks) < 2:
            assert time.monotonic() < deadline, "the heartbeat never ticked"
            time.sleep(0.02)
        _Host.offset = -timedelta(hours=1)  # the host's clock is stepped back an hour
        stepped = time.monotonic()
        # Two ticks after the step: one dispatched just before it may still land after it,
        # and without the watcher none follows it for an hour.
        deadline = stepped + 4
        while len([t for t in ticks if t > stepped]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        after = [t for t in ticks if t > stepped]
        assert len(after) >= 2, (
            f"neither the heartbeat nor any interval job kept ticking in the 4 s after the "
            f"step back: {len(after)} ticks"
        )
    finally:
        _Host.offset = timedelta(0)
        scheduler.shutdown(wait=False)


def test_healthz_does_not_call_a_clock_ok_whose_last_tick_is_an_hour_ahead(db: Any) -> None:
    from storage.queries import monitoring

    real = datetime.now(UTC)
    with db.session() as s:  # the clock's last tick, just before the host's clock stepped back
        monitoring.record_heartbeat(session=s, now=real)
        s.commit()
    # Fifty minutes later (on the stepped-back clock: 10 minutes before that tick), nothing
    # has ticked since: the scheduler waits for its next run an hour ahead.
    now = real - timedelta(hours=1) + timedelta(minutes=50)
    healthy, body = metrics.health(db=db, now=now, max_age=timedelta(seconds=900))
    assert body["clock"] != "ok" or not healthy, (
        f"/healthz says the clock is fine though it last ticked 50 minutes ago: {body}"
    )
