"""A fake Slack Web API on loopback: records every call, answers like Slack, fails on demand."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def block_problem(args: dict[str, Any]) -> str | None:
    """What Slack would refuse in a message's or a Home view's blocks: more than 50 (100 in
    a view), a section text over 3,000 characters, a header over 150."""
    view = args.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    blocks = (view or {}).get("blocks") if view is not None else args.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    blocks = blocks or []
    limit = 100 if view is not None else 50
    if len(blocks) > limit:
        return f"no more than {limit} items allowed [json-pointer:/blocks]"
    for i, b in enumerate(blocks):
        text = (b.get("text") or {}).get("text", "") if isinstance(b.get("text"), dict) else ""
        if b.get("type") == "section" and len(text) > 3000:
            return f"must be less than 3001 characters [json-pointer:/blocks/{i}/text]"
        if b.get("type") == "header" and len(text) > 150:
            return f"must be less than 151 characters [json-pointer:/blocks/{i}/text]"
        if b.get("type") == "section" and len(b.get("fields") or []) > 10:
            return f"no more than 10 items allowed [json-pointer:/blocks/{i}/fields]"
    return None


def channel_id(name: str) -> str:
    """The ID the fake gives a channel posted to by name: #phase4-production-readiness is
    C0TEAM (as conversations.list says), others C + their name."""
    if name == "#phase4-production-readiness":
        return "C0TEAM"
    return "C" + name.strip("#").upper().replace("-", "")


class FakeSlack:
    """Serves /api/<method> and /response/<id> (response_url) on 127.0.0.1."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}
        self.socket_url: str | None = None  # what apps.connections.open hands out
        self.team_members: list[str] = ["UBOT"]  # conversations.members of the team channel
        self.uploads: dict[str, bytes] = {}  # file id -> bytes sent to its upload URL
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._ts = 1700000000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if self.path.startswith("/upload/"):
                    fake.uploads[self.path.rsplit("/", 1)[1]] = body
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = body.decode()
                if "json" in (self.headers.get("content-type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                method = self.path.strip("/").removeprefix("api/")
                status, body, headers = fake._answer(method, args, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting -----------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an HTTP status and/or Slack error."""
        body = {"ok": False, "error": error or f"http_{status}"}
        for _ in range(times):
            self._failures[method].append(Failure(status, body, headers or {}))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, args, headers))
            if self._failures[method]:
                f = self._failures[method].popleft()
                return f.status, f.body, f.headers
            if method.startswith("response/"):
                return 200, {"ok": True}, {}
            auth = headers.get("Authorization") or headers.get("authorization") or ""
            if method == "apps.connections.open":
                if not auth.startswith("Bearer xapp-") or not self.socket_url:
                    return 200, {"ok": False, "error": "invalid_auth"}, {}
                return 200, {"ok": True, "url": self.socket_url}, {}
            if not auth.startswith("Bearer xoxb-"):
                return 200, {"ok": False, "error": "not_authed"}, {}
            self._ts += 1
            ts = f"{self._ts}.000100"
        if method == "auth.test":
            return (
                200,
                {
                    "ok": True,
                    "user_id": "UBOT",
                    "team_id": "T1",
                    "bot_id": "BBOT",
                    "team": "Test",
                    "user": "sprintbot",
                    "url": "https://test.slack.com/",
                },
                {},
            )
        if method in ("chat.postMessage", "chat.update", "views.publish"):
            problem = block_problem(args)
            if problem:
                return 200, {"ok": False, "error": "invalid_blocks", "errors": [problem]}, {}
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not args.get("user_id") or (view or {}).get("type") != "home":
                return 200, {"ok": False, "error": "invalid_arguments"}, {}
            return 200, {"ok": True, "view": {"id": "VHOME", **view}}, {}
        if method in ("chat.postMessage", "chat.update"):
            channel = args.get("channel", "")
            if channel in ("#does-not-exist", "CNOTFOUND"):
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            if channel.startswith("U"):
                channel = "D" + channel[1:]  # a DM to a user lands in its IM channel
            elif not channel.startswith(("C", "D")):
                channel = channel_id(channel)
            return (
                200,
                {
                    "ok": True,
                    "channel": channel,
                    "ts": args.get("ts") or ts,
                    "message": {"text": args.get("text")},
                },
                {},
            )
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + 1:04d}"
            return (
                200,
                {
                    "ok": True,
                    "file_id": file_id,
                    "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
                },
                {},
            )
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return (
                200,
                {
                    "ok": True,
                    "files": [{"id": f["id"], "title": f.get("title")} for f in files or []],
                },
                {},
            )
        if method == "conversations.list":
            return (
                200,
                {
                    "ok": True,
                    "channels": [{"id": "C0TEAM", "name": "phase4-production-readiness"}],
                    "response_metadata": {"next_cursor": ""},
                },
                {},
            )
        if method == "conversations.members":
            return (
                200,
                {
                    "ok": True,
                    "members": self.team_members,
                    "response_metadata": {"next_cursor": ""},
                },
                {},
            )
        if method == "usergroups.users.list":
            return (
                200,
                {"ok": True, "users": self.usergroups.get(args.get("usergroup", ""), [])},
                {},
            )
        return 200, {"ok": True}, {}
