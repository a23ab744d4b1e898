"""Issue 12, fault 3 and deliverable 5: a big ingest must not freeze Slack.

A large JUnit report is posted through the real HTTP server. While it is being ingested —
its parse and, above all, its write phase (on SQLite, the one writer's lock held) — Slack
keeps asking: a writing slash command (`/blocker P0 …`), `/sprint`, `/readiness`, a block
action and `/healthz`, over and over. Each must be answered within Slack's 3 s, and each
blocker filed exactly once (a late ack made Slack show an error while the blocker was
filed, so the user's retry filed it twice). Runs on SQLite, and on PostgreSQL with
SPRINTBOT_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import Blocker
from tests.support import httpc
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import post_signed, slash

pytestmark = pytest.mark.faults

# Big enough that the write phase takes a good fraction of a second on either database,
# and the whole ingest longer than ACK_LIMIT: an ack held up for all of it fails the test.
# PostgreSQL stores a test more slowly than SQLite (it checks each new row's foreign keys
# by a trigger of its own): 150k take it 4-5 s on a 2-core machine, 250k took 24 s under the
# whole suite's load, its teardown 6 s more.
TESTCASES = {"sqlite": 250_000, "postgresql": 150_000}
ACK_LIMIT = 3.0  # seconds: Slack's limit for acknowledging a command or interaction
# A release branch: SQLite's write lock is the whole database's, so its write phase holds up
# every writer as the tracked branch's would, while /sprint and /readiness keep computing
# the tracked branch's figures (whose own cost grows with its tests: not what this measures).
BRANCH = "release-2"


def big_report(n: int) -> bytes:
    """A first report of `n` tests (~45 bytes each), one in 12 failing."""
    parts = ['<testsuites><testsuite name="big" timestamp="2025-10-31T13:00:00Z">']
    for i in range(n):
        attrs = f'classname="tests.swarm.test_m{i // 50}" name="test_{i}"'
        if i % 12 == 0:
            parts.append(f'<testcase {attrs}><failure message="boom"/></testcase>')
        else:
            parts.append(f"<testcase {attrs}/>")
    parts.append("</testsuite></testsuites>")
    return "".join(parts).encode()


class Phases(logging.Handler):
    """When jobs.ingest says it starts and ends its write phase."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.writing = threading.Event()
        self.writing_at: float | None = None
        self.written_at: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.endswith("; writing"):
            self.writing_at = time.monotonic()
            self.writing.set()
        elif ": written in " in message:
            self.written_at = time.monotonic()


@pytest.fixture
def phases() -> Iterator[Phases]:
    logger = logging.getLogger("jobs.ingest")
    handler, level = Phases(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@dataclass
class Ack:
    name: str
    started: float
    seconds: float
    status: int
    body: str


def take_ownership(server: Server, blocker_id: int) -> httpx.Response:
    """The blocker message's "Take ownership" button, clicked by the tech lead."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U0TECHLEAD", "username": "lead", "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "test"},
        "channel": {"id": "CCRITICALBLOCKERS", "name": "critical-blockers"},
        "container": {
            "type": "message",
            "message_ts": "1.2",
            "channel_id": "CCRITICALBLOCKERS",
        },
        "trigger_id": "1.2.3",
        "response_url": server.slack.response_url("action"),
        "actions": [
            {
                "action_id": "blocker_ack",
                "block_id": "b",
                "value": str(blocker_id),
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)}))


def test_acks_within_3s_while_a_big_report_is_ingested(server: Server, phases: Phases) -> None:
    """Fault 3 of issue 12: a big ingest froze Slack (every transaction took SQLite's write
    lock, and ingestion held it from before parsing to commit)."""
    filed = slash(server.url, "/blocker", "P1 Swarm Coordination: flaky leader election")
    assert filed.status_code == 200 and "B-001 filed" in filed.json()["text"], filed.text
    testcases = TESTCASES[server.runtime.db.engine.dialect.name]
    report = big_report(testcases)
    probes: list[tuple[str, Callable[[int], httpx.Response]]] = [
        (
            "/blocker P0",
            lambda n: slash(
                server.url,
                "/blocker",
                f"P0 Swarm Coordination: deadlock {n}",
                user_id="U0DEV",
                response_url=server.slack.response_url(f"blocker-{n}"),
            ),
        ),
        ("/sprint", lambda _: slash(server.url, "/sprint", user_id="U0DEV")),
        ("/readiness", lambda _: slash(server.url, "/readiness", user_id="U0DEV")),
        ("block action", lambda _: take_ownership(server, 1)),
        ("/healthz", lambda _: httpc.get(f"{server.url}/healthz", timeout=10)),
    ]

    ingest: dict[str, object] = {}

    def post_report() -> None:
        ingest["response"] = httpc.post(
            f"{server.url}/api/v1/test-runs?run=big-1&branch={BRANCH}",
            content=report,
            headers={"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"},
            timeout=120,
        )
        ingest["done_at"] = time.monotonic()

    def probe(name: str, send: Callable[[int], httpx.Response], n: int) -> Ack:
        started = time.monotonic()
        try:
            resp = send(n)
        except httpx.TimeoutException:  # Slack would have given up long before
            return Ack(name, started, time.monotonic() - started, 0, "timed out")
        return Ack(name, started, time.monotonic() - started, resp.status_code, resp.text)

    rounds: list[list[Ack]] = []
    in_write: list[Ack] = []

    def ask_when_writing() -> None:
        # A round of its own the moment the write phase begins, whatever round is in
        # flight then (the write phase may be shorter than one round).
        if phases.writing.wait(120):
            with ThreadPoolExecutor(len(probes)) as pool:
                futures = [pool.submit(probe, name, send, 1_000_000) for name, send in probes]
                in_write.extend(f.result() for f in futures)

    runner = threading.Thread(target=post_report)
    watcher = threading.Thread(target=ask_when_writing)
    watcher.start()
    runner.start()
    with ThreadPoolExecutor(len(probes)) as pool:
        # Ask in rounds for as long as the ingest runs.
        while runner.is_alive():
            n = len(rounds)
            futures = [pool.submit(probe, name, send, n) for name, send in probes]
            rounds.append([f.result() for f in futures])
            time.sleep(0.2)
    runner.join()
    watcher.join(30)
    rounds.append(in_write)

    resp = ingest["response"]
    assert isinstance(resp, httpx.Response)
    assert resp.status_code == 201, resp.text
    assert resp.json()["tests"] == testcases

    acks = [a for r in rounds for a in r]
    worst = max(acks, key=lambda a: a.seconds)
    assert worst.seconds < ACK_LIMIT, (
        f"{worst.name} took {worst.seconds:.2f} s (status {worst.status}) during the ingest"
    )
    for a in acks:
        assert a.status == 200, (a.name, a.status, a.body[:300])
    by_name = {name: [a for a in acks if a.name == name] for name, _ in probes}
    # Filed: said in the acknowledgement or, where the write waited past the 2 s a command
    # has (a loaded host), by response_url after the empty one given in its stead.
    listeners_done()
    blocker_acks = by_name["/blocker P0"]
    late = [c.args["text"] for c in server.slack.calls if c.method.startswith("response/blocker-")]
    assert len(late) == sum(1 for a in blocker_acks if not a.body), late
    said = [json.loads(a.body)["text"] for a in blocker_acks if a.body]
    assert all("filed" in text for text in said + late), said + late
    assert all(
        json.loads(a.body)["status"] == json.loads(a.body)["database"] == "ok"
        for a in by_name["/healthz"]
    )
    assert all("Day 3 of 14" in json.loads(a.body)["text"] for a in by_name["/sprint"])
    assert all(json.loads(a.body).get("blocks") for a in by_name["/readiness"])

    # The questions were asked while the report was being written, not only before or after.
    assert phases.writing_at is not None and phases.written_at is not None, "no write phase seen"
    during_write = [
        r
        for r in rounds
        if r and phases.writing_at <= min(a.started for a in r) < phases.written_at
    ]
    assert during_write, "no round of questions fell in the ingest's write phase"

    # Every blocker filed once: none lost to a late ack, none doubled.
    with server.runtime.db.read() as session:
        count = session.exec(select(func.count()).select_from(Blocker)).one()
    assert count == 1 + len(by_name["/blocker P0"])
