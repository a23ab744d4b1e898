"""The real web app on loopback for tests: its settings, the settable clock, the
server record, and running many callers at once."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import uvicorn

from bot.runtime import Runtime
from bot.settings import Settings, build_settings
from storage.migrate import upgrade
from tests.support import httpc
from tests.support.fakeslack import FakeSlack

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "sprint.example.toml"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
INGEST_TOKEN = "test-ingest-token"
# The outbox spaces posts to a channel by Slack's second; tests of other things space them
# by this (tests/bot/test_outbox.py and tests/faults measure the pace itself): 2 ms, which
# keeps them apart and in order (at 20 ms the suite's drains slept ~15 s of it).
TEST_PACE = timedelta(milliseconds=2)


class Clock:
    """A settable clock for code that takes `now`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_settings(fake: FakeSlack, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(EXAMPLE),
        "SPRINTBOT_INGEST_TOKEN": INGEST_TOKEN,
        "SLACK_APP_TOKEN": None,
        "SPRINTBOT_SMTP_URL": None,
    }
    values.update(overrides)
    return build_settings(**values)


@dataclass
class Server:
    url: str
    runtime: Runtime
    slack: FakeSlack
    clock: Clock  # the runtime's `now`: set `clock.at` to move the server's time


def cli_env(monkeypatch: pytest.MonkeyPatch, server: Server, config: Path) -> None:
    """The environment an in-process `sprintbot` command needs to work on `server`'s team:
    its Slack, its database, the sprint file `config`."""
    for name, value in (
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", server.slack.url),
        ("DATABASE_URL", server.runtime.settings.DATABASE_URL),
        ("SPRINTBOT_CONFIG", str(config)),
    ):
        monkeypatch.setenv(name, value)


def uvicorn_on_loopback(app: object) -> tuple[str, uvicorn.Server, Callable[[], None]]:
    """Run an ASGI app under uvicorn on a free loopback port: its URL, server and stopper."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return f"http://127.0.0.1:{port}", server, stop


def serve(app: object) -> tuple[str, Callable[[], None]]:
    """Run an ASGI app under uvicorn on a free loopback port; return its URL and a stopper."""
    url, _, stop = uvicorn_on_loopback(app)
    return url, stop


def together(count: int, run: Callable[[], T], *, timeout: float = 120) -> list[T]:
    """`count` threads call `run` at the same moment (released by a barrier); their results."""
    start = threading.Barrier(count)
    out: list[T] = []

    def one() -> None:
        start.wait()
        out.append(run())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out


TEAMS = ROOT / "examples" / "teams"


def two_teams(directory: Path) -> Path:
    """examples/teams in `directory`, made for routing tests: both teams post blockers to
    #critical-blockers (a channel two teams use), U0BOB is in both, and platform's CI has
    a token of its own (PLATFORM_INGEST_TOKEN)."""
    platform = (TEAMS / "platform.toml").read_text(encoding="utf-8")
    platform = platform.replace(
        'workdays = ["mon", "tue", "wed", "thu", "fri"]\n',
        'workdays = ["mon", "tue", "wed", "thu", "fri"]\n'
        'ingest_token_env = "PLATFORM_INGEST_TOKEN"\n',
        1,
    )
    mobile = (TEAMS / "mobile.toml").read_text(encoding="utf-8")
    mobile = mobile.replace('blockers = "#mobile-blockers"', 'blockers = "#critical-blockers"')
    mobile = mobile.replace('participants = "team"', 'participants = ["U0DAVE", "U0ERIN", "U0BOB"]')
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "platform.toml").write_text(platform, encoding="utf-8")
    (directory / "mobile.toml").write_text(mobile, encoding="utf-8")
    return directory


def free_port() -> int:
    """A port free on loopback now (for a server process a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebProcess:
    """A `sprintbot web` a test started: its address, and all it printed once stopped."""

    base: str
    proc: subprocess.Popen[str]
    out: str = ""


@contextlib.contextmanager
def web_process(env: dict[str, str], cwd: Path) -> Iterator[WebProcess]:
    """The database migrated (in-process: `sprintbot db upgrade` has tests of its own, and
    a process of its own cost ~0.5 s), then `sprintbot web` on env's PORT, yielded once
    /healthz answers (200, or 503 with no clock beside it); stopped after, what it printed
    kept."""
    command = [sys.executable, "-m", "bot.cli"]
    upgrade(env["DATABASE_URL"])
    proc = subprocess.Popen(
        [*command, "web"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    web = WebProcess(base=f"http://127.0.0.1:{env['PORT']}", proc=proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpc.get(f"{web.base}/healthz", timeout=1).status_code in (200, 503):
                    break
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "web did not come up"
            time.sleep(0.02)
        yield web
    finally:
        proc.terminate()
        web.out, _ = proc.communicate(timeout=15)


def process_env(tmp_path: Path, fake: FakeSlack, port: int) -> dict[str, str]:
    """The environment of a `sprintbot` process a test starts: this one's without its Slack
    and sprintbot settings, then the fake Slack, a SQLite file in `tmp_path`, the example
    sprint file and `port`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "SPRINTBOT_CONFIG": str(EXAMPLE),
        "SPRINTBOT_INGEST_TOKEN": INGEST_TOKEN,
        "PORT": str(port),
    }
