"""`sprintbot db upgrade` and `sprintbot web` as real processes, as a user would run them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import BOT_TOKEN, EXAMPLE, INGEST_TOKEN, SIGNING_SECRET
from tests.fakeslack import FakeSlack
from tests.slack import slash

SPRINTBOT = [sys.executable, "-m", "bot.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_web_process_serves_slack_and_health(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "SPRINTBOT_CONFIG": str(EXAMPLE),
        "SPRINTBOT_INGEST_TOKEN": INGEST_TOKEN,
        "PORT": str(port),
    }
    upgrade = subprocess.run(
        [*SPRINTBOT, "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    proc = subprocess.Popen(
        [*SPRINTBOT, "web", "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "web did not come up"
            time.sleep(0.1)
        resp = slash(base, "/readiness")
        assert resp.status_code == 200
        assert resp.json()["blocks"][0]["text"]["text"] == "Readiness 71.55 % — target 85 %"
        # The startup token check and Bolt's authorization both went to the fake Slack.
        assert fake_slack.calls_to("auth.test")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode in (0, -15), out
    assert BOT_TOKEN not in out and SIGNING_SECRET not in out
