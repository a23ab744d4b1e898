"""How fast sprintbot acknowledges slash commands, beside a bare Bolt app in the same run,
and how much memory its processes hold.

Each server runs as its own process (`sprintbot web` on a database with --tests known tests;
`bench.bare_bolt`, the baseline). A client process keeps --connections keep-alive
connections busy with signed `/readiness` requests for --seconds and counts answers and
their latencies; one connection alone gives the latency of one answer. Then `web`, `clock`
and `run` are started on the same database and their resident memory read at rest.

Run: .venv/bin/python -m bench.acks [--postgres] [--seconds 10] [--connections 50]
                                     [--tests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from bench.common import PG_URL, SPRINT_FILE, fill_tests, fresh_database, table
from storage.db import Database

SECRET = "bench-signing-secret"  # noqa: S105  (signs loopback requests to our own server)
ROOT = SPRINT_FILE.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_request(port: int, text: str) -> bytes:
    """One HTTP/1.1 request of a `/readiness TEXT` command, signed as Slack signs it."""
    body = urlencode(
        {
            "token": "x",
            "team_id": "T0BENCH",
            "channel_id": "C0BENCH",
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


def load(port: int, text: str, *, connections: int, seconds: float) -> dict[str, float]:
    """Keep `connections` connections busy for `seconds` (after 1 s of warm-up)."""
    request = signed_request(port, text)
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
        if kind == "sqlite":
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{tmp}/bench.db"
            from storage.migrate import upgrade

            upgrade(url)
            db = Database.from_url(url)
        else:
            db = stack.enter_context(fresh_database("postgresql"))
            url = PG_URL
        fill_tests(db, args.tests)
        db.dispose()

        bare_port, bot_port = _free_port(), _free_port()
        stack.enter_context(process(["-m", "bench.bare_bolt", str(bare_port), SECRET], {}))
        web = stack.enter_context(process(["-m", "bot.cli", "web"], sprintbot_env(url, bot_port)))
        _wait_port(bare_port)
        _wait_http(bot_port)
        time.sleep(2)  # the refresher's first build
        web_rest = _rss_mb(web.pid)
        cases = [
            ("bare Bolt, a constant", bare_port, ""),
            ("sprintbot `/readiness help`", bot_port, "help"),
            ("sprintbot `/readiness`", bot_port, ""),
        ]
        results = {}
        for name, port, text in cases:
            one = load(port, text, connections=1, seconds=min(args.seconds, 3))
            many = load(port, text, connections=args.connections, seconds=args.seconds)
            results[name] = many
            rows.append(
                [
                    kind,
                    name,
                    f"{one['p50']:.2f}",
                    f"{many['rps']:,.0f}",
                    f"{many['p50']:.1f}",
                    f"{many['p99']:.1f}",
                    f"{results[cases[0][0]]['rps'] / many['rps']:.2f}x",
                    int(many["bad"]),
                ]
            )
        web_loaded = _rss_mb(web.pid)

    mem = [kind, f"{web_rest:.0f}", f"{web_loaded:.0f}"]
    return rows, mem


def process_rss(kind: str) -> list[object]:
    """`clock` and `run` at rest, on a fresh database of the same kind."""
    with contextlib.ExitStack() as stack:
        if kind == "sqlite":
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{tmp}/bench.db"
            from storage.migrate import upgrade

            upgrade(url)
        else:
            stack.enter_context(fresh_database("postgresql"))
            url = PG_URL
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
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tests", type=int, default=20_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    rows, mem = [], []
    for kind in kinds:
        r, m = run_kind(kind, args)
        rows += r
        mem.append(m + process_rss(kind))
    print(
        f"Acknowledgements: {args.connections} connections for {args.seconds:g} s, "
        f"{args.tests:,} known tests\n"
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
