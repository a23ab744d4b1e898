"""Prometheus metrics for GET /metrics.

Two kinds: what this process counts as it works (deliveries, JUnit ingests, acknowledgement
times), kept in `PROCESS`; and what every process shares, read from the database at each
scrape (`DatabaseCollector`: the outbox's rows by state and the age of its oldest
undelivered message, each job's last run, the clock's heartbeat), so that whichever
process is scraped, web or run, tells the same.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from jobs.errors import SprintError
from storage.db import Database
from storage.queries import monitoring

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# This process's own metrics (not prometheus_client's global registry: a test process builds
# many apps, and the database's metrics are collected per app).
PROCESS = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    PROCESS.register(_collector)

DELIVERIES = Counter(
    "sprintbot_outbox_deliveries",
    "Outbox messages this process delivered, by Web API method (email.send for e-mail).",
    ["method"],
    registry=PROCESS,
)
FAILURES = Counter(
    "sprintbot_outbox_failures",
    "Failed delivery attempts of this process, by method, error (Slack's error code, "
    "http_5xx, network, uncertain, ...) and outcome (retry: tried again later; failed: "
    "given up).",
    ["method", "error", "outcome"],
    registry=PROCESS,
)
INGESTS = Counter(
    "sprintbot_junit_ingests",
    "JUnit reports received by this process, by result (created, replay, refused, error).",
    ["result"],
    registry=PROCESS,
)
TESTCASES = Counter(
    "sprintbot_junit_testcases",
    "Testcases in the JUnit reports this process stored.",
    registry=PROCESS,
)
INGEST_SECONDS = Histogram(
    "sprintbot_junit_ingest_seconds",
    "Time to receive, classify and store one JUnit report.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80),
    registry=PROCESS,
)
ACK_SECONDS = Histogram(
    "sprintbot_ack_seconds",
    "Time from a Slack request's arrival to its acknowledgement, by kind (command, "
    "interaction, event). Slack gives up after 3 s.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
    registry=PROCESS,
)

# A failure's reason as one of few label values: Slack's own code, or the kind of failure.
_PREFIXES = (
    ("uncertain: ", "uncertain"),
    ("network: ", "network"),
    ("smtp: ", "smtp"),
    ("unexpected: ", "unexpected"),
    ("parent ", "parent_failed"),
)
_HTTP = re.compile(r"HTTP (\d{3})\b")
_SLACK_CODE = re.compile(r"[a-z][a-z0-9_]{0,60}")


def error_label(error: str) -> str:
    """The `error` label of a failure: Slack's error code (`channel_not_found`), `http_503`,
    `network`, `uncertain`, ...; `other` for anything else, so the label stays bounded."""
    for prefix, label in _PREFIXES:
        if error.startswith(prefix):
            return label
    if found := _HTTP.match(error):
        return f"http_{found.group(1)}"
    return error if _SLACK_CODE.fullmatch(error) else "other"


def delivered(method: str) -> None:
    """Count a delivered outbox message."""
    DELIVERIES.labels(method=method).inc()


def delivery_failed(method: str, error: str, *, final: bool) -> None:
    """Count a failed attempt: `final` when the message is given up, else retried later."""
    FAILURES.labels(
        method=method, error=error_label(error), outcome="failed" if final else "retry"
    ).inc()


@contextmanager
def timed_ingest() -> Iterator[Callable[[str, int], None]]:
    """Time one JUnit ingest; the block calls the function it is given with the result
    (created, replay) and the report's testcases; refused when the report is (a
    SprintError), error when anything else goes wrong."""
    started = time.perf_counter()
    outcome: list[tuple[str, int]] = []
    try:
        yield lambda result, testcases: outcome.append((result, testcases))
    except SprintError:
        outcome[:] = [("refused", 0)]
        raise
    except Exception:
        outcome[:] = [("error", 0)]
        raise
    finally:
        INGEST_SECONDS.observe(time.perf_counter() - started)
        for result, testcases in outcome:
            INGESTS.labels(result=result).inc()
            if result == "created":
                TESTCASES.inc(testcases)


def request_kind(body: bytes) -> str:
    """What a request to /slack/events is: a slash command, an interaction (button, form,
    shortcut: a `payload=` form), or an Events API event (JSON)."""
    if body.lstrip()[:1] == b"{":
        return "event"
    return "interaction" if body.startswith(b"payload=") or b"&payload=" in body else "command"


def acknowledged(kind: str, seconds: float) -> None:
    """Record one acknowledgement's time."""
    ACK_SECONDS.labels(kind=kind).observe(seconds)


@dataclass(frozen=True)
class DatabaseCollector(Collector):
    """What every process agrees on, read at each scrape (a few indexed aggregates)."""

    db: Database  # unscoped: every team's rows
    now: Callable[[], datetime]

    def collect(self) -> Iterable[Metric]:
        try:
            with self.db.read() as session:
                counts = monitoring.outbox_counts(session=session)
                oldest = monitoring.oldest_undelivered(session=session)
                runs = monitoring.last_job_runs(session=session)
                tick = monitoring.last_heartbeat(session=session)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unreachable: %s", exc.__class__.__name__)
            yield _gauge("sprintbot_database_up", "Whether the database answered.", 0)
            return
        yield _gauge("sprintbot_database_up", "Whether the database answered.", 1)
        states = GaugeMetricFamily(
            "sprintbot_outbox_messages", "Outbox rows by state.", labels=["state"]
        )
        for state, n in sorted(counts.items()):
            states.add_metric([state], n)
        yield states
        age = (self.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield _gauge(
            "sprintbot_outbox_oldest_pending_seconds",
            "Age of the oldest message not yet delivered (0 when none waits).",
            max(age, 0.0),
        )
        jobs = GaugeMetricFamily(
            "sprintbot_job_last_success_timestamp_seconds",
            "When each team's scheduled job last ran its slot (Unix time).",
            labels=["team", "job"],
        )
        for team, job, at in sorted(runs):
            jobs.add_metric([team, job], at.timestamp())
        yield jobs
        if tick is not None:
            yield _gauge(
                "sprintbot_clock_heartbeat_timestamp_seconds",
                "When the clock last ticked (Unix time); absent before its first tick.",
                tick.timestamp(),
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


@dataclass(frozen=True)
class Scrape(Collector):
    """One /metrics answer: this process's metrics and the database's."""

    database: DatabaseCollector

    def collect(self) -> Iterable[Metric]:
        yield from PROCESS.collect()
        yield from self.database.collect()

    def text(self) -> bytes:
        """The Prometheus text exposition (runs the database's queries: call off the loop)."""
        return generate_latest(self)


CLOCK_AHEAD = timedelta(minutes=1)  # a last tick further ahead than this is not trusted


def health(*, db: Database, now: datetime, max_age: timedelta) -> tuple[bool, dict[str, object]]:
    """/healthz's checks beyond the database answering: the clock ticked and the outbox's
    oldest undelivered message was queued within `max_age`. The clock is checked once it
    has ticked: a fresh install (or a `web` whose clock has not started yet) is not failed
    for a clock it has never had. Raises SQLAlchemyError when the database does not answer."""
    with db.read() as session:  # never waits for a writer (an ingest)
        tick = monitoring.last_heartbeat(session=session)
        oldest = monitoring.oldest_undelivered(session=session)
    waited = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    late = tick is not None and now - tick > max_age
    # A last tick ahead of now: the machine's clock stepped back past it (or the clock's
    # machine runs fast), and how long ago it ticked cannot be told (it said "ok" for the
    # hour a stepped-back clock did nothing; found by review).
    ahead = tick is not None and tick - now > CLOCK_AHEAD
    stuck = waited > max_age.total_seconds()
    clock = "not started" if tick is None else "late" if late else "ahead" if ahead else "ok"
    body: dict[str, object] = {
        "clock": clock,
        "clock_last_tick": tick.isoformat() if tick is not None else None,
        "outbox": "stuck" if stuck else "ok",
        "outbox_oldest_pending_seconds": round(waited),
        "max_age_seconds": round(max_age.total_seconds()),
    }
    return not (late or ahead or stuck), body
