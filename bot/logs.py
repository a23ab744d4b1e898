"""Logging for the processes: quiet by default, text or JSON lines, never a secret.

Configured once, by the entry point (`configure`). A record carries `job`, `team` and
`outbox_key` where they are known: given with `extra=` on the call, or taken from the
context a clock job runs in (`fields`), so a log pipeline can filter on them.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

FIELDS = ("team", "job", "outbox_key")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines are chatter at every start or tick (Alembic's schema check,
# APScheduler's "Adding job tentatively" and "executed successfully" every 15 s, uvicorn's
# start-up lines): kept to warnings unless DEBUG is asked for.
CHATTY = ("alembic", "apscheduler", "uvicorn.error", "uvicorn.access")
# Bolt reads SLACK_BOT_TOKEN itself and then says it is not used: sprintbot's client
# carries the token (bot.app), so the warning is always true and never news.
BOLT_NOISE = frozenset({"As you gave `client` as well, `token` will be unused."})
REDACTED = "[redacted]"

_fields: ContextVar[dict[str, str]] = ContextVar("sprintbot_log_fields", default={})  # noqa: B039  # never mutated: replaced

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def fields(**values: str) -> Iterator[None]:
    """Records logged in this block (in this thread) carry `values` (team, job, ...)."""
    token = _fields.set({**_fields.get(), **values})
    try:
        yield
    finally:
        _fields.reset(token)


def with_fields(func: Callable[P, R], **values: str) -> Callable[P, R]:
    """`func`, its records carrying `values` (a clock job: its team and name)."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with fields(**values):
            return func(*args, **kwargs)

    return run


class _Context(logging.Filter):
    """Adds the context's fields to a record that was not given them with `extra=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _Drop(logging.Filter):
    """Drops the records whose message is one of `messages`."""

    def __init__(self, messages: frozenset[str]) -> None:
        super().__init__()
        self.messages = messages

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.messages


class _Redacting(logging.Formatter):
    """A formatter that masks the process's secrets wherever they would appear."""

    def __init__(self, fmt: str | None, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted(
            {*self.secrets, *(s for s in secrets if len(s) >= 6)}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(_Redacting):
    """One JSON object a line: time (UTC), level, logger, message, the known fields of
    `FIELDS`, and the traceback when there is one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(None, secrets)

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = str(value)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # Masked before encoding: a secret with a quote or a backslash is escaped after.
        return json.dumps({k: self.redact(v) for k, v in data.items()}, ensure_ascii=False)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Logs to whatever sys.stderr is when a record is written (not when configured)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        """StreamHandler.__init__ assigns a stream; this handler keeps none of its own."""


def configure(level: str = "INFO", form: str = "text", *, secrets: Iterable[str] = ()) -> None:
    """Log to standard error at `level`, as text or JSON lines (`form`), masking `secrets`;
    the chatty libraries kept to warnings unless `level` is DEBUG. Called again, it
    replaces its own handler; where something else configured the root logger (a test
    runner, a program embedding sprintbot) it leaves that in place, as basicConfig does."""
    root = logging.getLogger()
    for handler_was in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler_was)
    if not root.handlers:
        handler = _Stderr()
        handler.addFilter(_Context())
        handler.setFormatter(
            JsonFormatter(secrets) if form == "json" else _Redacting(TEXT_FORMAT, secrets)
        )
        root.addHandler(handler)
        root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    bolt = logging.getLogger("bot.bolt")
    for filter_was in [f for f in bolt.filters if isinstance(f, _Drop)]:
        bolt.removeFilter(filter_was)
    bolt.addFilter(_Drop(BOLT_NOISE))


def mask(secrets: Iterable[str]) -> None:
    """Mask these too, from now on: secrets learned after start (the teams' own API tokens,
    named in their sprint files)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Stderr) and isinstance(handler.formatter, _Redacting):
            handler.formatter.add(secrets)


def database_kind(url: str) -> str:
    """Which database a URL names, for the start line: its kind and where, never its user
    or password (`PostgreSQL db.example.com:5432/sprintbot`, `SQLite sprintbot.db`)."""
    # Imported here: every command configures logging, few open a database.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.db import normalize_url

    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return urlsplit(url).scheme or "unknown"
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"SQLite {parsed.database or 'in memory'}"
    kind = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(backend, backend)
    where = parsed.host or "local socket"
    if parsed.port:
        where += f":{parsed.port}"
    return f"{kind} {where}/{parsed.database or ''}"
