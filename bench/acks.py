"""How fast sprintbot acknowledges slash commands, beside a bare Bolt app in the same run,
and how much memory its processes hold.

Each server runs as its own process (`sprintbot web` on a database with --tests known tests;
`bench.bare_bolt`, the baseline). A client process keeps --connections keep-alive
connections busy with signed `/readiness` requests for --seconds and counts answers and
their latencies (wrk with one thread when it is installed, e.g. `apt install wrk`, else
an asyncio client in this process, which takes more of the machine and widens the tail);
one connection alone gives the latency of one answer. Then `web`, `clock`
and `run` are started on the same database and their resident memory read at rest.

With --teams N the bot serves an org of N teams (one file each, as `bench.org_morning`
writes them) and the requests are typed in the first team's channel (#t001): what every
acknowledgement costs an org's deployment.

Run: .venv/bin/python -m bench.acks [--postgres] [--seconds 5] [--rounds 3] [--connections 50]
                                     [--tests 20000] [--teams 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.common import SPRINT_FILE, fill_tests, fresh_database, table
from bench.org_morning import team_file
from jobs.config import load_org
from jobs.teams import Teams
from storage.db import Database

SECRET = "bench-signing-secret"  # noqa: S105  (signs loopback requests to our own server)
ROOT = SPRINT_FILE.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_request(port: int, text: str, channel: str = "bench") -> bytes:
    """One HTTP/1.1 request of a `/readiness TEXT` command typed in #`channel`, signed as
    Slack signs it."""
    body = urlencode(
        {
            "token": "x",
            "team_id": "T0BENCH",
            "channel_id": "C0BENCH",
            "channel_name": channel,
            "user_id": "U0BENCH",
            "command": "/readiness",
            "text": text,
            "response_url": "http://127.0.0.1:9/respond",
            "trigger_id": "1.2.3",
        }
    ).encode()
    stamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {stamp}\r\n"
        f"X-Slack-Signature: v0={mac.hexdigest()}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, request: bytes, until: float, warm: float, latencies: list[float], bad: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (start := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            if start >= warm:
                latencies.append(time.perf_counter() - start)
                if not head.startswith(b"HTTP/1.1 200") or b"ephemeral" not in body:
                    bad.append(1)
    finally:
        writer.close()


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = "{stamp}"
wrk.headers["X-Slack-Signature"] = "{signature}"
"""


def _unit_ms(text: str) -> float:
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def load_wrk(
    port: int, text: str, *, connections: int, seconds: float, channel: str = "bench"
) -> dict[str, float]:
    """The same load from wrk (one thread: the other core is the server's)."""
    request = signed_request(port, text, channel)
    head, body = request.split(b"\r\n\r\n", 1)
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            _WRK_SCRIPT.format(
                body=json.dumps(body.decode()),
                stamp=headers["X-Slack-Request-Timestamp"],
                signature=headers["X-Slack-Signature"],
            )
        )
    url = f"http://127.0.0.1:{port}/slack/events"
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", script.name, url]
    subprocess.run([*base[:-1], "-d1s", url], capture_output=True, check=True)  # noqa: S603
    out = subprocess.run(  # noqa: S603  (wrk, with our own arguments)
        [*base[:-1], f"-d{seconds:g}s", url], capture_output=True, text=True, check=True
    ).stdout
    Path(script.name).unlink()
    found: dict[str, float] = {"bad": 0.0}
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            found["rps"] = float(words[1])
        elif words[:1] == ["50%"]:
            found["p50"] = _unit_ms(words[1])
        elif words[:1] == ["99%"]:
            found["p99"] = _unit_ms(words[1])
        elif line.strip().startswith("Non-2xx"):
            found["bad"] = float(words[-1])
    return found


def load(
    port: int, text: str, *, connections: int, seconds: float, channel: str = "bench"
) -> dict[str, float]:
    """Keep `connections` connections busy for `seconds` (after 1 s of warm-up), typed in
    #`channel`."""
    if shutil.which("wrk"):
        return load_wrk(port, text, connections=connections, seconds=seconds, channel=channel)
    request = signed_request(port, text, channel)
    latencies: list[float] = []
    bad: list[int] = []

    async def run() -> None:
        now = time.perf_counter()
        warm, until = now + 1.0, now + 1.0 + seconds
        await asyncio.gather(
            *(_connection(port, request, until, warm, latencies, bad) for _ in range(connections))
        )

    asyncio.run(run())
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / seconds,
        "p50": 1000 * statistics.median(ordered),
        "p99": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "bad": len(bad),
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait_http(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = f"http://127.0.0.1:{port}{path}"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sprintbot_env(url: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SPRINTBOT_CONFIG": str(SPRINT_FILE),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # no Slack: commands need none
        "PORT": str(port),
        "SPRINTBOT_INGEST_TOKEN": "bench",
    }


def run_kind(kind: str, args: argparse.Namespace) -> tuple[list[list[object]], list[object]]:
    rows: list[list[object]] = []
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(fresh_database(kind))
        url = _url(db)
        fill_tests(db, args.tests)
        db.dispose()

        bare_port, bot_port = _free_port(), _free_port()
        env = sprintbot_env(url, bot_port)
        channel = "bench"  # where the requests are typed (with several teams, the first's)
        if args.teams > 1:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            for number in range(1, args.teams + 1):
                team_file(
                    folder, number, people=5, start=datetime.now(UTC).date() - timedelta(days=2)
                )
            # The first team takes the known tests filled before teams (as its file alone,
            # started first, would), then the bot serves the whole folder.
            first = Database.from_url(url)
            Teams.sync(load_org(folder / "t001.toml"), db=first, now=datetime.now(UTC))
            first.dispose()
            env["SPRINTBOT_CONFIG"], channel = str(folder), "t001"
        stack.enter_context(process(["-m", "bench.bare_bolt", str(bare_port), SECRET], {}))
        web = stack.enter_context(process(["-m", "bot.cli", "web"], env))
        _wait_port(bare_port)
        _wait_http(bot_port)
        time.sleep(2 + args.teams / 10)  # the refresher's first builds
        web_rest = _rss_mb(web.pid)
        where = f" in #{channel}" if args.teams > 1 else ""
        cases = [
            ("bare Bolt, a constant", bare_port, ""),
            (f"sprintbot `/readiness help`{where}", bot_port, "help"),
            (f"sprintbot `/readiness`{where}", bot_port, ""),
        ]
        # Rounds interleave the servers, so a slow spell of the machine falls on all of
        # them; each figure is the median over the rounds.
        one = {
            name: load(port, text, connections=1, seconds=2, channel=channel)
            for name, port, text in cases
        }
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in cases}
        for _ in range(args.rounds):
            for name, port, text in cases:
                rounds[name].append(
                    load(
                        port,
                        text,
                        connections=args.connections,
                        seconds=args.seconds,
                        channel=channel,
                    )
                )

        def median(name: str, key: str) -> float:
            return statistics.median(r[key] for r in rounds[name])

        bare = median(cases[0][0], "rps")
        for name, _, _ in cases:
            rows.append(
                [
                    kind,
                    name,
                    f"{one[name]['p50']:.2f}",
                    f"{median(name, 'rps'):,.0f}",
                    f"{median(name, 'p50'):.1f}",
                    f"{median(name, 'p99'):.1f}",
                    f"{bare / median(name, 'rps'):.2f}x",
                    int(sum(r["bad"] for r in rounds[name])),
                ]
            )
        web_loaded = _rss_mb(web.pid)

    mem = [kind, f"{web_rest:.0f}", f"{web_loaded:.0f}"]
    return rows, mem


def _url(db: Database) -> str:
    """The database's URL for the servers' settings."""
    return db.engine.url.render_as_string(hide_password=False)


def process_rss(kind: str) -> list[object]:
    """`clock` and `run` at rest, on a fresh database of the same kind."""
    with contextlib.ExitStack() as stack:
        url = _url(stack.enter_context(fresh_database(kind)))
        out = []
        for command in ("clock", "run"):
            port = _free_port()
            with process(["-m", "bot.cli", command], sprintbot_env(url, port)) as proc:
                if command == "run":
                    _wait_http(port)
                time.sleep(4)
                out.append(f"{_rss_mb(proc.pid):.0f}")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=1, help="teams the bot serves")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    rows, mem = [], []
    for kind in kinds:
        r, m = run_kind(kind, args)
        rows += r
        mem.append(m + process_rss(kind))
    print(
        f"Acknowledgements: {args.connections} connections, {args.rounds} interleaved rounds "
        f"of {args.seconds:g} s each (medians), {args.tests:,} known tests"
        + (f", {args.teams} teams" if args.teams > 1 else "")
        + "\n"
    )
    print(
        table(
            [
                "database",
                "server",
                "1 connection p50 (ms)",
                "acks/s",
                "p50 (ms)",
                "p99 (ms)",
                "bare Bolt's acks/s ÷ this",
                "wrong answers",
            ],
            rows,
        )
    )
    print("\nResident memory (MB)\n")
    print(
        table(
            ["database", "web at rest", "web after the load", "clock at rest", "run at rest"], mem
        )
    )


if __name__ == "__main__":
    main()
