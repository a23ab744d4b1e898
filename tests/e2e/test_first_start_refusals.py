"""`sprintbot web` started the first time, as a real process: how it stops when something
around it is not ready (Slack out of reach with Socket Mode, the port taken, the database
unreachable). docs/cli.md: exit codes 0 ok, 1 failure, 2 usage; "an error is one line on
stderr"; "`web` and `run` also check the bot token with Slack: a rejected token stops them
with exit 1; an unreachable Slack only warns" (each a fault found by review)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support.fakeslack import FakeSlack
from tests.support.server import free_port, process_env

SPRINTBOT = [sys.executable, "-m", "bot.cli"]


def _upgrade(env: dict[str, str], cwd: Path) -> None:
    subprocess.run([*SPRINTBOT, "db", "upgrade"], env=env, cwd=cwd, capture_output=True, check=True)


def _web(env: dict[str, str], cwd: Path, timeout: float = 40) -> tuple[int | None, str]:
    """Run `sprintbot web` until it exits (or `timeout`): its exit code (None: still
    running, then stopped) and everything it printed."""
    proc = subprocess.Popen(
        [*SPRINTBOT, "web"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
        return None, out


def test_socket_mode_with_slack_out_of_reach_at_start_is_no_traceback(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """An operator with no public URL sets SLACK_APP_TOKEN (Socket Mode) and starts
    `sprintbot web` while Slack cannot be reached (proxy not up yet, a network blip). The
    token check only warns, as documented, then the Socket Mode connection
    (apps.connections.open) raises URLError out of `Runtime.connect_socket_mode` and the
    process dies with a 40-line traceback. It should either carry on (and connect when Slack
    is back), as an unreachable Slack "only warns", or stop with one line saying Slack is out
    of reach — never a traceback."""
    env = process_env(tmp_path, fake_slack, free_port())
    _upgrade(env, tmp_path)
    env["SLACK_API_URL"] = "http://127.0.0.1:1/api/"  # nothing listens there
    env["SLACK_APP_TOKEN"] = "xapp-1-A1-123-abc"
    code, out = _web(env, tmp_path, timeout=20)
    assert "Traceback" not in out, f"exit {code}:\n{out[-1500:]}"
    assert code == 1 and "Slack cannot be reached to open the Socket Mode connection" in out


def test_web_on_a_port_already_taken_exits_1_not_uvicorns_3(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Something else already listens on PORT (a second `sprintbot web`, another app on
    3000). `sprintbot web` logs its start line "sprintbot web: web on http://127.0.0.1:PORT,
    …" as if serving, then uvicorn's "[Errno 98] … address already in use" and exits with
    status 3 — an exit code the CLI's contract (0 ok, 1 failure, 2 usage error; README,
    docs/cli.md) does not have, so a supervisor or script checking for 1 misreads it. It
    should stop with exit 1 and a line naming PORT."""
    port = free_port()
    env = process_env(tmp_path, fake_slack, port)
    _upgrade(env, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        code, out = _web(env, tmp_path)
    assert code == 1, f"exit {code}:\n{out[-1500:]}"
    assert "PORT" in out, out[-1500:]


def test_web_says_why_it_cannot_reach_the_database(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """DATABASE_URL names a PostgreSQL server that refuses the connection (not started yet,
    wrong port). `sprintbot web` stops with "DATABASE_URL: cannot connect (OperationalError)"
    and nothing more: the operator cannot tell a refused connection from a wrong password or
    a missing database, though `sprintbot db upgrade` and `sprintbot doctor` say
    "Connection refused" for the same URL. The refusal should carry the reason (without the
    password)."""
    env = process_env(tmp_path, fake_slack, free_port())
    env["DATABASE_URL"] = "postgresql://bot:secret-pw@127.0.0.1:1/sprintbot"
    done = subprocess.run(
        [*SPRINTBOT, "web"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "secret-pw" not in done.stderr
    assert "refused" in done.stderr.lower(), done.stderr
