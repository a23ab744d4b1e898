"""A fake Slack Web API on loopback: records every call, answers like Slack, fails on demand.

Besides scripted failures it can be slow (a call takes effect, its answer comes late),
drop connections after a call took effect, be down (refusing connections or answering
503), answer a 429 storm with Retry-After, rate-limit posting to ~1 message a second per
channel as Slack does (`channel_rate`), and take Slack's round trip to answer
(`latency`). It keeps each channel's messages (with their metadata) and serves them
through conversations.history and conversations.replies.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl

CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")
SHUTDOWN_POLL = 0.01  # seconds


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    effect: bool = False  # the call takes effect before the failure is answered


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
        # Every message posted, in arrival order: {"channel", "ts", "text", "thread_ts"?,
        # "metadata"?, ...}; conversations.history/replies read it.
        self.messages: list[dict[str, Any]] = []
        # Posting more often than this per channel (messages a second) is answered 429.
        self.channel_rate: float | None = None
        self.rate_limited = 0  # 429s answered (channel rate, storms)
        # Seconds every Web API answer takes (the call takes effect at once): Slack's round
        # trip, for measuring a sender that waits on it. 0: answer at once.
        self.latency = 0.0
        # The channels the bot is a member of (None: all). The bot may post anywhere
        # (chat:write.public), but reads a channel's history only as a member;
        # conversations.join makes it one.
        self.member_of: set[str] | None = None
        # The scopes every authorised answer lists in its `x-oauth-scopes` header, as Slack
        # does for the token's granted scopes (None: no such header).
        self.scopes: list[str] | None = None
        # Channels conversations.info describes: ID -> {"name", "is_private"} (its
        # is_member from `member_of`); others are channel_not_found there. conversations.list
        # lists them too (a private one only to a member); conversations.join refuses a
        # private one, as Slack does.
        self.channels: dict[str, dict[str, Any]] = {}
        # The users users.info finds (None: everyone); others are user_not_found.
        self.users: set[str] | None = None
        self.names: dict[str, str] = {}  # display names users.info gives (else none)
        # The users users.info says are bots (apps in a channel: GitHub, Jira, ...).
        self.bots: set[str] = set()
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._drops: dict[str, int] = defaultdict(int)
        self._deleted: set[str] = set()  # ts of messages deleted (`delete`)
        self._storm: tuple[float, int, frozenset[str] | None] | None = None
        self._down: Literal["503"] | None = None
        self._last_post: dict[str, float] = {}
        self._names: dict[str, str] = {}  # channel ID -> name, for channels posted to by name
        self._lock = threading.Lock()
        self._ts = 0
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
                status, answer, headers = fake._answer(method, args, dict(self.headers))
                delay, drop = fake._delay_or_drop(method)
                if drop:
                    self.close_connection = True  # the call took effect; no answer comes
                    return
                time.sleep(delay + fake.latency)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (its timeout); the call still happened

        self._handler = Handler
        self.server: ThreadingHTTPServer | None = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self._serve, args=(self.server,), daemon=True)
        self._port = int(self.server.server_address[1])

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    @staticmethod
    def _serve(server: ThreadingHTTPServer) -> None:
        # shutdown() waits for the loop to look at its flag: every 0.5 s by default, which
        # was half a second of every test's teardown.
        server.serve_forever(poll_interval=SHUTDOWN_POLL)

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # -- faults --------------------------------------------------------------------------
    def outage(self, kind: Literal["refuse", "503"] = "refuse") -> None:
        """Go down: refuse connections (nothing listens on the port) or answer every API
        call 503 without effect, until `recover()`."""
        if kind == "503":
            with self._lock:
                self._down = "503"
            return
        self.stop()

    def recover(self) -> None:
        """Come back up on the same port."""
        with self._lock:
            self._down = None
        if self.server is None:
            self.server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler)
            self.server.daemon_threads = True
            self.thread = threading.Thread(target=self._serve, args=(self.server,), daemon=True)
            self.thread.start()

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` only after `seconds`; each call takes
        effect at once, as Slack's do when the answer is late."""
        with self._lock:
            self._delays[method].extend([seconds] * times)

    def delete(self, ts: str) -> None:
        """Delete the message `ts`, as someone can in Slack: every update of it is answered
        `message_not_found` from now on."""
        with self._lock:
            self._deleted.add(ts)

    def drop(self, method: str, *, times: int = 1) -> None:
        """Close the connection of the next `times` calls of `method` after they took
        effect, without an answer."""
        with self._lock:
            self._drops[method] += times

    def storm(
        self, seconds: float, *, retry_after: int = 1, methods: set[str] | None = None
    ) -> None:
        """Answer every call (or calls of `methods`) 429 with Retry-After for `seconds`."""
        with self._lock:
            self._storm = (
                time.monotonic() + seconds,
                retry_after,
                frozenset(methods) if methods else None,
            )

    def posted_keys(self) -> list[tuple[str, str]]:
        """(channel ID, outbox key) of every posted message carrying sprintbot's metadata,
        in arrival order."""
        with self._lock:
            return [
                (m["channel"], str(m["metadata"]["event_payload"]["key"]))
                for m in self.messages
                if (m.get("metadata") or {}).get("event_type") == "sprintbot_outbox"
            ]

    def chatter(self, channel: str, count: int, *, at: float | None = None) -> None:
        """`count` messages from people in `channel` (a busy channel), now or, with `at`,
        a millisecond apart from that Unix time on."""
        with self._lock:
            for i in range(count):
                ts = self._next_ts() if at is None else f"{at + i / 1000:.6f}"
                self.messages.append(
                    {"type": "message", "channel": channel, "ts": ts, "user": "U1", "text": str(i)}
                )

    # -- scripting -----------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        effect: bool = False,
    ) -> None:
        """Answer the next `times` calls of `method` with an HTTP status and/or Slack error;
        with `effect`, after the call took effect (a post that went through)."""
        body = {"ok": False, "error": error or f"http_{status}"}
        for _ in range(times):
            self._failures[method].append(Failure(status, body, headers or {}, effect))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _delay_or_drop(self, method: str) -> tuple[float, bool]:
        with self._lock:
            if self._drops[method] > 0:
                self._drops[method] -= 1
                return 0.0, True
            return (self._delays[method].popleft() if self._delays[method] else 0.0), False

    def _next_ts(self) -> str:
        """A message timestamp as Slack makes them: the wall clock, unique per message."""
        self._ts = max(self._ts + 1, int(time.time() * 1_000_000))
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, args, headers))
            if self._failures[method]:
                f = self._failures[method].popleft()
                if f.effect:
                    self._api(method, args)
                return f.status, f.body, f.headers
            if method.startswith("response/"):
                return 200, {"ok": True}, {}
            if method == "chat.update" and str(args.get("ts") or "") in self._deleted:
                return 200, {"ok": False, "error": "message_not_found"}, {}
            if self._down == "503":
                return 503, {"ok": False, "error": "service_unavailable"}, {}
            if self._storm is not None:
                until, retry_after, methods = self._storm
                if time.monotonic() < until and (methods is None or method in methods):
                    self.rate_limited += 1
                    return (
                        429,
                        {"ok": False, "error": "ratelimited"},
                        {"Retry-After": str(retry_after)},
                    )
            auth = headers.get("Authorization") or headers.get("authorization") or ""
            if method == "apps.connections.open":
                if not auth.startswith("Bearer xapp-") or not self.socket_url:
                    return 200, {"ok": False, "error": "invalid_auth"}, {}
                return 200, {"ok": True, "url": self.socket_url}, {}
            if not auth.startswith("Bearer xoxb-"):
                return 200, {"ok": False, "error": "not_authed"}, {}
            status, answer, extra = self._api(method, args)
            if self.scopes is not None:
                extra = {**extra, "x-oauth-scopes": ",".join(self.scopes)}
            return status, answer, extra

    def _api(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer of an authorised Web API call (under the lock)."""
        ts = self._next_ts()
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
            if not args.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
                return 200, {"ok": False, "error": "invalid_arguments"}, {}
            return 200, {"ok": True, "view": {"id": "VHOME", **view}}, {}
        if method in ("chat.postMessage", "chat.update"):
            channel = args.get("channel", "")
            if channel in ("#does-not-exist", "CNOTFOUND"):
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            if channel.startswith("U"):
                channel = "D" + channel[1:]  # a DM to a user lands in its IM channel
            elif not channel.startswith(("C", "D")):
                self._names[channel_id(channel)] = channel.lstrip("#")
                channel = channel_id(channel)
            if method == "chat.postMessage":
                if self._over_rate(channel):
                    self.rate_limited += 1
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
                self._store(channel, ts, args)
            else:
                self._edit(channel, str(args.get("ts") or ""), args)
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
        if method == "conversations.history":
            return self._history(args)
        if method == "conversations.replies":
            return self._replies(args)
        if method == "conversations.join":
            channel = str(args.get("channel") or "")
            if self.channels.get(channel, {}).get("is_private"):
                return 200, {"ok": False, "error": "method_not_supported_for_channel_type"}, {}
            if self.member_of is not None:
                self.member_of.add(channel)
            return 200, {"ok": True, "channel": {"id": channel}}, {}
        if method == "conversations.open":
            users = str(args.get("users") or "")
            return 200, {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}, {}
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
            # Sharing a file needs membership, even in a public channel (chat:write.public
            # covers posts only).
            channel = str(args.get("channel_id") or "")
            if channel and self.member_of is not None and channel not in self.member_of:
                return 200, {"ok": False, "error": "not_in_channel"}, {}
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
            known = [{"id": "C0TEAM", "name": "phase4-production-readiness"}]
            known += [{"id": i, "name": n} for i, n in self._names.items() if i != "C0TEAM"]
            known += [
                self._channel_info(i)
                for i, c in self.channels.items()
                if not c.get("is_private") or self._member(i)
            ]
            return (
                200,
                {"ok": True, "channels": known, "response_metadata": {"next_cursor": ""}},
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
        if method == "usergroups.list":
            groups = [
                {"id": i, "handle": i.lower(), "date_delete": 0, "users": users}
                for i, users in self.usergroups.items()
            ]
            return 200, {"ok": True, "usergroups": groups}, {}
        if method == "conversations.info":
            channel = str(args.get("channel") or "")
            if channel not in self.channels:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            return 200, {"ok": True, "channel": self._channel_info(channel)}, {}
        if method == "users.info":
            user = str(args.get("user") or "")
            if self.users is not None and user not in self.users:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            found = {
                "id": user,
                "name": user.lower(),
                "is_bot": user in self.bots,
                "profile": {"display_name": self.names.get(user, ""), "real_name": ""},
            }
            return 200, {"ok": True, "user": found}, {}
        return 200, {"ok": True}, {}

    def _member(self, channel: str) -> bool:
        return self.member_of is None or channel in self.member_of

    def _channel_info(self, channel: str) -> dict[str, Any]:
        """A channel of `channels` as conversations.info and conversations.list show it."""
        known = self.channels[channel]
        return {
            "id": channel,
            "name": known["name"],
            "is_channel": True,
            "is_private": bool(known.get("is_private")),
            "is_member": self._member(channel),
        }

    # -- channel history (under the lock) ------------------------------------------------
    def _over_rate(self, channel: str) -> bool:
        """Whether a post to `channel` now exceeds `channel_rate`; else note it."""
        now = time.monotonic()
        if self.channel_rate is not None:
            last = self._last_post.get(channel)
            if last is not None and now - last < 1 / self.channel_rate:
                return True
        self._last_post[channel] = now
        return False

    def _store(self, channel: str, ts: str, args: dict[str, Any]) -> None:
        message: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "user": "UBOT",
            "bot_id": "BBOT",
            "text": args.get("text") or "",
        }
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.messages.append(message)

    def _edit(self, channel: str, ts: str, args: dict[str, Any]) -> None:
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts:
                message["text"] = args.get("text") or message["text"]

    def _page(
        self, messages: list[dict[str, Any]], args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One page of `messages` as conversations.history/replies answer: `oldest`/`latest`
        exclusive unless `inclusive`, metadata only with `include_all_metadata`."""
        inclusive = _truthy(args.get("inclusive"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or 0)
        chosen = []
        for m in messages:
            at = float(m["ts"])
            if oldest and (at < oldest or (at == oldest and not inclusive)):
                continue
            if latest and (at > latest or (at == latest and not inclusive)):
                continue
            shown = {k: v for k, v in m.items() if k not in ("channel", "metadata")}
            if "metadata" in m and _truthy(args.get("include_all_metadata")):
                shown["metadata"] = m["metadata"]
            chosen.append(shown)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = chosen[start : start + limit]
        more = start + limit < len(chosen)
        return (
            200,
            {
                "ok": True,
                "messages": page,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            },
            {},
        )

    def _history(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        channel = str(args.get("channel") or "")
        if not CHANNEL_ID.fullmatch(channel):
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if self.member_of is not None and channel not in self.member_of:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        top = [
            m
            for m in reversed(self.messages)  # newest first
            if m["channel"] == channel and m.get("thread_ts", m["ts"]) == m["ts"]
        ]
        return self._page(top, args)

    def _replies(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if self.member_of is not None and channel not in self.member_of:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        thread = [
            m
            for m in self.messages  # oldest first
            if m["channel"] == channel and (m["ts"] == ts or m.get("thread_ts") == ts)
        ]
        if not thread:
            return 200, {"ok": False, "error": "thread_not_found"}, {}
        return self._page(thread, args)


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true")
