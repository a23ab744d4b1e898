"""The HTTP surface: /slack/events, /healthz and /api/v1, as a Starlette ASGI app."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import IO, Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.acks import answered_from_memory
from bot.settings import Settings
from jobs import figures
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.numbers import parse_instant
from jobs.readiness import Status
from jobs.ready import Ready
from storage import queries
from storage.db import Database

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str) -> JSONResponse:
    """A JSON error reply: {"error": "..."}."""
    return JSONResponse({"error": message}, status_code=status)


MAX_REPORT_BYTES = 50 * 1024 * 1024
MAX_METRICS_BYTES = 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
XML_TYPES = ("application/xml", "text/xml")


class TooLarge(Exception):
    """The body is over its size limit (answered with 413)."""


async def read_body(request: Request, *, limit: int) -> tuple[IO[bytes], str]:
    """Stream the body into a spooled file (bounded memory), hashing it; TooLarge past limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise TooLarge
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest()


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _parse_at(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise SprintError(
            f"at {text!r} is not an ISO-8601 time, e.g. 2025-10-30T09:00:00Z"
        ) from None


def create_web_app(
    settings: Settings,
    *,
    bolt_app: App,
    sprint: Sprint,
    db: Database,
    now: Callable[[], datetime],
    notify_outbox: Callable[[], None] = lambda: None,
    ready: Ready | None = None,
) -> Starlette:
    """The ASGI application that `sprintbot web` serves."""
    ready = ready or Ready(db=db, sprint=sprint)
    # One ingestion per branch at a time within this process (SQLite has one writer;
    # PostgreSQL also takes an advisory lock per branch, across processes).
    branch_locks: dict[str, threading.Lock] = {}
    locks_guard = threading.Lock()

    def branch_lock(branch: str) -> threading.Lock:
        with locks_guard:
            return branch_locks.setdefault(branch, threading.Lock())

    async def slack_events(request: Request) -> Response:
        # Bolt reads the timestamp with int() and answers a non-numeric one with a
        # traceback and 200; a request that cannot be verified is refused here.
        stamp = request.headers.get("x-slack-request-timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):
            return error(401, "the request is not signed by Slack (bad X-Slack-Request-Timestamp)")
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        if answered_from_memory(body) and ready.fresh(now()):
            # Nothing to wait for (no database, no Slack): answered here, without a thread.
            bolt_response = bolt_app.dispatch(bolt_request)
        else:
            # A listener may wait (a write lock, Slack); keep the event loop free.
            bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(_: Request) -> Response:
        def check() -> None:
            with db.read() as session:  # never waits for a writer (an ingest)
                queries.ping(session=session)

        try:
            await run_in_threadpool(check)
        except SQLAlchemyError as exc:
            log.warning("health check: database unreachable: %s", exc.__class__.__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    def authorized(handler: Endpoint) -> Endpoint:
        async def wrapper(request: Request) -> Response:
            token = settings.SPRINTBOT_INGEST_TOKEN
            if token is None:
                return error(503, "the API is disabled: set SPRINTBOT_INGEST_TOKEN to enable it")
            # Exactly "Bearer <token>" (RFC 6750): no padding around the token is accepted.
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.encode(), token.get_secret_value().encode()
            ):
                return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
            return await handler(request)

        return wrapper

    @authorized
    async def readiness(_: Request) -> Response:
        def compute() -> dict[str, object]:
            return Status.of(ready.figures(now())).as_dict()

        return JSONResponse(await run_in_threadpool(compute))

    @authorized
    async def sprint_figures(request: Request) -> Response:
        clock = now()
        text = request.query_params.get("at")
        try:
            at = _parse_at(text) or clock
        except SprintError as exc:
            return error(400, str(exc))
        if at.tzinfo is None:
            at = at.replace(tzinfo=sprint.sprint.tz)  # a wall time of the sprint's zone
        if at > clock:
            return error(400, f"at {text!r} is in the future; figures are known up to now")

        def compute() -> dict[str, object]:
            if text is None or text == "":  # now: the figures kept ready
                return ready.figures(at).as_dict()
            with db.read() as session:  # a past instant, from history
                return figures.compute(session=session, sprint=sprint, at=at).as_dict()

        return JSONResponse(await run_in_threadpool(compute))

    @authorized
    async def test_runs(request: Request) -> Response:
        media = _media_type(request)
        if media not in XML_TYPES and not media.endswith("+xml"):
            return error(415, f"send the JUnit report as application/xml, not {media or 'nothing'}")
        try:
            body, digest = await read_body(request, limit=MAX_REPORT_BYTES)
        except TooLarge:
            return error(413, f"the report is over {MAX_REPORT_BYTES // (1024 * 1024)} MB")
        # Ingestion (and its XML parser) is loaded with the first report, not at rest.
        from jobs.ingest import Ingested, RunInfo, receive_junit

        q = request.query_params
        try:
            info = RunInfo(
                run=q.get("run") or None,
                commit=q.get("commit") or None,
                branch=q.get("branch") or "main",
                url=q.get("url") or None,
                at=_parse_at(q.get("at")),
            )
        except SprintError as exc:
            body.close()
            return error(400, str(exc))

        def work() -> Ingested:
            # Parsed and classified before it takes the write lock, which it holds only to
            # write: commands and reads are answered meanwhile.
            with body, branch_lock(info.branch):
                return receive_junit(
                    db=db, sprint=sprint, document=body, digest=digest, info=info, now=now()
                )

        try:
            result = await run_in_threadpool(work)
        except SprintError as exc:
            return error(400, str(exc))
        if result.created:
            notify_outbox()
        return JSONResponse(result.reply, status_code=201 if result.created else 200)

    @authorized
    async def metrics(request: Request) -> Response:
        media = _media_type(request)
        if media != "application/json":
            return error(415, f"send metrics as application/json, not {media or 'nothing'}")
        try:
            body, _ = await read_body(request, limit=MAX_METRICS_BYTES)
        except TooLarge:
            return error(413, "the metrics document is over 1 MB")
        with body:
            try:
                data = json.loads(body.read())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return error(400, f"not valid JSON: {exc}")

        # Imported here: bot.runtime builds this app, so it is loaded by the time a request is.
        from bot.runtime import ingest_metrics_document

        def work() -> dict[str, Any]:
            return ingest_metrics_document(db=db, sprint=sprint, body=data, now=now())

        try:
            reply = await run_in_threadpool(work)
        except SprintError as exc:
            return error(400, str(exc))
        notify_outbox()
        return JSONResponse(reply, status_code=201)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/v1/readiness", readiness, methods=["GET"]),
            Route("/api/v1/sprint", sprint_figures, methods=["GET"]),
            Route("/api/v1/test-runs", test_runs, methods=["POST"]),
            Route("/api/v1/metrics", metrics, methods=["POST"]),
        ]
    )
