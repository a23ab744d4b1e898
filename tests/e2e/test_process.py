"""`sprintbot db upgrade` and `sprintbot web` as real processes, as a user would run them."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support.fakeslack import FakeSlack
from tests.support.server import (
    BOT_TOKEN,
    SIGNING_SECRET,
    free_port,
    process_env,
    web_process,
)
from tests.support.slack import slash

SPRINTBOT = [sys.executable, "-m", "bot.cli"]


def _outward_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.255", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") else address


def test_web_process_serves_slack_and_health(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    with web_process(process_env(tmp_path, fake_slack, port), tmp_path) as web:
        resp = slash(web.base, "/readiness")
        assert resp.status_code == 200
        assert resp.json()["blocks"][0]["text"]["text"] == "Readiness 71.55 % — target 85 %"
        # The start-up token check learned who the bot is; requests do not ask again.
        assert len(fake_slack.calls_to("auth.test")) == 1
        # Without --host it listens on loopback only (it bound 0.0.0.0).
        outward = _outward_address()
        if outward is not None:
            with socket.socket() as probe:
                probe.settimeout(2)
                assert probe.connect_ex((outward, port)) != 0
    assert web.proc.returncode in (0, -15), web.out
    assert BOT_TOKEN not in web.out and SIGNING_SECRET not in web.out


def test_a_process_at_rest_does_not_load_the_chart_library() -> None:
    # matplotlib (~40 MB) was imported at start by the outbox; only drawing a chart needs it.
    probe = (
        "import sys, bot.cli, bot.runtime, bot.web, bot.clock, bot.outbox\n"
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


def test_the_web_process_at_rest_holds_neither_scheduler_parser_nor_migrations() -> None:
    # `web` answers Slack and the API: the clock's scheduler, the XML parser (loaded with the
    # first report) and Alembic (checked with one query) stay out, ~21 MB in all.
    probe = (
        "import sys, bot.cli, bot.runtime, bot.web, bot.outbox\n"
        "print(sorted(m for m in ('apscheduler', 'lxml', 'alembic', 'jobs.ingest')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
