"""The HTTP surface: /slack/events, /healthz and /api/v1, as a Starlette ASGI app."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.settings import Settings
from jobs.config import Sprint
from jobs.readiness import current_status
from storage import queries
from storage.db import Database

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str) -> JSONResponse:
    """A JSON error reply: {"error": "..."}."""
    return JSONResponse({"error": message}, status_code=status)


def create_web_app(
    settings: Settings,
    *,
    bolt_app: App,
    sprint: Sprint,
    db: Database,
    now: Callable[[], datetime],
) -> Starlette:
    """The ASGI application that `sprintbot web` serves."""

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # Bolt's sync App blocks while it waits for ack(); keep the event loop free.
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(_: Request) -> Response:
        def check() -> None:
            with db.session() as session:
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
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.get_secret_value().encode()
            ):
                return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
            return await handler(request)

        return wrapper

    @authorized
    async def readiness(_: Request) -> Response:
        def compute() -> dict[str, object]:
            with db.session() as session:
                return current_status(session=session, sprint=sprint, now=now()).as_dict()

        return JSONResponse(await run_in_threadpool(compute))

    @authorized
    async def not_yet(_: Request) -> Response:
        return error(501, "ingestion is not available in this version of sprintbot")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/v1/readiness", readiness, methods=["GET"]),
            Route("/api/v1/test-runs", not_yet, methods=["POST"]),
            Route("/api/v1/metrics", not_yet, methods=["POST"]),
        ]
    )
