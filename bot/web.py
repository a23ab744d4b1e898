"""The HTTP surface: /slack/events, /healthz and /api/v1, as a Starlette ASGI app."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.acks import ELSEWHERE, ON_LOOP, answered_from_memory
from bot.context import AppContext, Contexts
from bot.settings import Settings, env_value
from jobs import figures, history, quarantine, retention, tests_history
from jobs.config import Sprint, Team
from jobs.errors import SprintError, shown
from jobs.numbers import parse_instant, row_id
from jobs.readiness import Status
from jobs.ready import Ready
from storage import queries
from storage.db import Database
from storage.queries import tests_history as tests_queries

if TYPE_CHECKING:  # at run time imported with the first report (see Routes.test_runs)
    from jobs.ingest import Ingested

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


class BadEncoding(Exception):
    """The body's Content-Encoding is not taken, or the body is not what it says: the
    message says which (answered with 415 or 400, `status`)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


GZIP = ("gzip", "x-gzip")
INFLATE_STEP = 1024 * 1024  # bytes a gzip body is inflated by at a time


# Slack's requests (a form's whole view the largest) are far under this. The Request URL
# is public: an unsigned gigabyte was read whole into memory before its signature was
# looked at (found by review).
MAX_SLACK_BYTES = 5 * 1024 * 1024


def bolt_request_of(request: Request, body: bytes) -> BoltRequest:
    """Bolt's request of a Slack request. Bolt reads any form body holding the word
    "payload" as an interaction's and, finding no `payload` field, as nothing: a command
    typed with it (`/tests show test_payload_roundtrip`, any command in #api-payloads) got
    a 404 and Slack's "failed" (found by review). Such a body is read as the form it is."""
    bolt_request = to_bolt_request(request, body)
    if (
        not bolt_request.body
        and bolt_request.raw_body
        and not bolt_request.raw_body.startswith("{")
    ):
        fields = dict(parse_qsl(bolt_request.raw_body, keep_blank_values=True))
        if "payload" not in fields:
            # (Its context too, built from the empty body: no response_url, so a late
            # answer had nowhere to go; found by review.)
            bolt_request.body = fields
            build_context(bolt_request.context, fields)
    return bolt_request


async def small_body(request: Request, *, limit: int) -> bytes:
    """The whole body, in memory; TooLarge past `limit` (declared, or as it arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


async def read_body(request: Request, *, limit: int) -> tuple[IO[bytes], str]:
    """Stream the body into a spooled file (bounded memory), hashing it; TooLarge past limit.

    A body sent with `Content-Encoding: gzip` (`curl -H 'Content-Encoding: gzip'
    --data-binary @report.xml.gz`) is inflated as it arrives, the limit and the hash applying
    to the document (the same report compressed or not is one report), never more than
    INFLATE_STEP at a time (a small body inflating to gigabytes stops at the limit);
    BadEncoding for another encoding, or a body that is not gzip."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", *GZIP):
        raise BadEncoding(
            415,
            f"Content-Encoding {encoding[:40]!r} is not taken: send the body as it is, or "
            "gzip-compressed with Content-Encoding: gzip",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if encoding in GZIP else None
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0

    def take(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise TooLarge
        digest.update(data)
        spool.write(data)

    try:
        async for chunk in request.stream():
            if inflate is None:
                take(chunk)
                continue
            while chunk:
                take(inflate.decompress(chunk, INFLATE_STEP))
                chunk = inflate.unconsumed_tail
        if inflate is not None:
            take(inflate.flush())
            if not inflate.eof or inflate.unused_data:
                raise BadEncoding(400, "the body is not one whole gzip stream")
    except zlib.error:
        spool.close()
        raise BadEncoding(400, "the body is not valid gzip (Content-Encoding: gzip)") from None
    except (TooLarge, BadEncoding):
        spool.close()
        raise
    spool.seek(0)
    return spool, digest.hexdigest()


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


# `…T14:00:00 01:00`: a `+01:00` offset sent in a query unencoded (`?at=$(date -Iseconds)`),
# its `+` read as a space; a space there can mean nothing else.
_PLUS_AS_SPACE = re.compile(r"(\d) (\d\d(?::?\d\d)?)$")


def _parse_at(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_instant(_PLUS_AS_SPACE.sub(r"\1+\2", text))
    except ValueError as exc:
        raise SprintError(f"at {exc}, e.g. 2025-10-30T09:00:00Z") from None


def _query_fault(request: Request, takes: tuple[str, ...], hint: str) -> str | None:
    """What is wrong with a request's query parameters for an endpoint taking `takes`."""
    given = Counter(key for key, _ in request.query_params.multi_items())
    for key, n in given.items():
        name = json.dumps(key[:100], ensure_ascii=False)
        if key not in takes:
            return f"unknown query parameter {name}: this endpoint takes {', '.join(takes)}" + (
                f" ({hint})" if hint else ""
            )
        if n > 1:
            return f"query parameter {name} is given {n} times; give it once"
    return None


def _whose(teams: list[Team]) -> str:
    """'team "platform"'s', or 'teams "mobile" and "platform"'s'"""
    if len(teams) == 1:
        return f'team "{teams[0].id}"\'s'
    return "teams " + " and ".join(f'"{t.id}"' for t in teams) + "'s"


class TeamMissing(Exception):
    """An API call that names no team of several, or a team there is not."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(kw_only=True)
class Routes:
    """The HTTP routes, as bound methods, and what they need: the Bolt app for Slack's
    events, and for the API what every listener has (sprint, database, clock, outbox)."""

    ctx: AppContext
    bolt_app: App
    contexts: Contexts | None = None
    # One ingestion per branch at a time within this process (SQLite has one writer;
    # PostgreSQL also takes an advisory lock per branch, across processes).
    _branch_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)
    verifier: SignatureVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = SignatureVerifier(self.ctx.settings.secret("SLACK_SIGNING_SECRET"))

    def _signed(self, body: bytes, stamp: str, signature: str) -> bool:
        """Whether Slack signed `body` (recently): what Slack sends is UTF-8."""
        try:
            return self.verifier.is_valid(body=body, timestamp=stamp, signature=signature)
        except UnicodeDecodeError:
            return False

    def branch_lock(self, team: str, branch: str) -> threading.Lock:
        with self._locks_guard:
            return self._branch_locks.setdefault(f"{team}:{branch}", threading.Lock())

    def team_ctx(self, request: Request) -> AppContext:
        """The context of the team an API call names (`team=`, its id or name); else the
        team whose own token it bears, else the only team's. TeamMissing when it names none
        of several teams, one there is not, or another team than its token's (403)."""
        named = request.query_params.get("team")
        if self.contexts is None:
            return self.ctx
        teams = self.contexts.teams
        # The teams whose files name the token as their own (None: the org's token). Two
        # files may name one (one CI for a monorepo's teams): it acts for either, named
        # (it acted for the first file's alone, and filed the other's reports there; found
        # by review).
        own: list[Team] | None = getattr(request.state, "token_teams", None)
        if named:
            team = teams.named(named)
            if team is None:
                ids = ", ".join(t.id for t in teams.all)
                raise TeamMissing(404, f"no team {shown(named)} (the teams: {ids})")
            if own is not None and team.id not in {t.id for t in own}:
                raise TeamMissing(
                    403, f'this token is {_whose(own)}; it cannot act for "{team.id}"'
                )
            return self.contexts.for_team(team)
        if own is not None and len(own) > 1:
            raise TeamMissing(400, f"this token is {_whose(own)}: add team=ID")
        if own is not None:
            return self.contexts.for_team(own[0])
        if teams.several:
            ids = ", ".join(t.id for t in teams.all)
            raise TeamMissing(400, f"this deployment serves several teams ({ids}): add team=ID")
        return self.contexts.for_team(teams.first)

    def fresh(self) -> bool:
        """Whether an answer from memory needs nothing read or built, for whichever team."""
        if self.contexts is None:
            return self.ctx.ready.fresh(self.ctx.now())
        return self.contexts.fresh()

    async def slack_events(self, request: Request) -> Response:
        arrived = time.perf_counter()
        try:
            body = await small_body(request, limit=MAX_SLACK_BYTES)
        except TooLarge:
            return error(413, f"a Slack request is under {MAX_SLACK_BYTES // (1024 * 1024)} MB")
        if body.startswith(b"ssl_check=1"):
            # Slack's check of the URL's certificate, which it does not sign (Bolt answers it
            # 200 before verifying; the checks below refused it; found by review).
            return Response(status_code=200)
        # Bolt reads the timestamp with int() and answers a non-numeric one with a
        # traceback and 200, and parses the body before it verifies the signature (a body
        # that is not UTF-8 or JSON was a 500); a request Slack did not sign is refused
        # here, before either.
        stamp = request.headers.get("x-slack-request-timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):
            return error(401, "the request is not signed by Slack (bad X-Slack-Request-Timestamp)")
        if not self._signed(body, stamp, request.headers.get("x-slack-signature", "")):
            return error(401, "the request is not signed by Slack")
        bolt_response = None
        if answered_from_memory(body) and self.fresh():
            # Nothing to wait for (no database, no Slack): answered here, without a thread,
            # unless routing it would wait for Slack (handed back: bot.app.ELSEWHERE).
            bolt_request = bolt_request_of(request, body)
            bolt_request.context[ON_LOOP] = True
            bolt_response = self.bolt_app.dispatch(bolt_request)
        if bolt_response is None or bolt_response is ELSEWHERE:
            # A listener may wait (a write lock, Slack); keep the event loop free.
            bolt_request = bolt_request_of(request, body)
            bolt_response = await run_in_threadpool(self.bolt_app.dispatch, bolt_request)
        metrics.acknowledged(metrics.request_kind(body), time.perf_counter() - arrived)
        return to_starlette_response(bolt_response)

    @property
    def shared_db(self) -> Database:
        """The database unscoped (every team's rows): the outbox, job runs, the clock."""
        return self.contexts.db if self.contexts is not None else self.ctx.db

    async def healthz(self, _: Request) -> Response:
        max_age = timedelta(seconds=self.ctx.settings.SPRINTBOT_HEALTH_MAX_AGE)

        def check() -> tuple[bool, dict[str, object]]:
            with self.ctx.db.read() as session:  # never waits for a writer (an ingest)
                queries.ping(session=session)
            return metrics.health(db=self.shared_db, now=self.ctx.now(), max_age=max_age)

        try:
            healthy, found = await run_in_threadpool(check)
        except SQLAlchemyError as exc:
            log.warning("health check: database unreachable: %s", exc.__class__.__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        body = {"status": "ok" if healthy else "error", "database": "ok", **found}
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def prometheus(self, request: Request) -> Response:
        """`GET /metrics`: the Prometheus text exposition, behind SPRINTBOT_METRICS_TOKEN or
        SPRINTBOT_INGEST_TOKEN (not a team's own token: the figures are every team's)."""
        settings = self.ctx.settings
        tokens = [
            t.get_secret_value()
            for t in (settings.SPRINTBOT_METRICS_TOKEN, settings.SPRINTBOT_INGEST_TOKEN)
            if t is not None
        ]
        if not tokens:
            return error(503, "/metrics is disabled: set SPRINTBOT_METRICS_TOKEN to enable it")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        matches = [hmac.compare_digest(given.encode(), t.encode()) for t in tokens if t]
        if scheme.lower() != "bearer" or not given or not any(matches):
            return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
        scrape = metrics.Scrape(metrics.DatabaseCollector(db=self.shared_db, now=self.ctx.now))
        text = await run_in_threadpool(scrape.text)
        return Response(text, media_type=metrics.CONTENT_TYPE)

    def team_tokens(self) -> list[tuple[Team, str]]:
        """Each team's own API token (`ingest_token_env` in its file names the variable
        holding it), read when asked: a team's CI acts for that team alone."""
        if self.contexts is None:
            return []
        found = []
        for team in self.contexts.teams.all:
            secret = env_value(team.ingest_token_env) if team.ingest_token_env else None
            if secret:
                found.append((team, secret))
        return found

    def authorized(
        self, handler: Endpoint, *, query: tuple[str, ...] = (), hint: str = ""
    ) -> Endpoint:
        """`handler` behind a bearer token: SPRINTBOT_INGEST_TOKEN (every team's) or a team's
        own (`ingest_token_env`), 503 while there is none. It takes the query parameters
        `query` and `team`, each once: any other, or one given twice, is 400 (a CI script's
        `brnach=release-1` filed a release branch's report on the tracked branch, found by
        review); `hint` says where what it does not take goes."""
        takes = (*query, "team")

        async def wrapper(request: Request) -> Response:
            token = self.ctx.settings.SPRINTBOT_INGEST_TOKEN
            own = self.team_tokens()
            if token is None and not own:
                return error(503, "the API is disabled: set SPRINTBOT_INGEST_TOKEN to enable it")
            # Exactly "Bearer <token>" (RFC 6750): no padding around the token is accepted.
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if not given:  # (no token is ever empty: an empty one would match nothing here)
                return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
            org = token is not None and hmac.compare_digest(
                given.encode(), token.get_secret_value().encode()
            )
            # Every token is compared (in constant time each), whichever matches.
            mine = [t for t, secret in own if hmac.compare_digest(given.encode(), secret.encode())]
            if scheme.lower() != "bearer" or not (org or mine):
                return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
            request.state.token_teams = None if org else mine
            if wrong := _query_fault(request, takes, hint):
                return error(400, wrong)
            try:
                return await handler(request)
            except TeamMissing as exc:
                return error(exc.status, exc.message)

        return wrapper

    async def readiness(self, request: Request) -> Response:
        ctx = self.team_ctx(request)

        def compute() -> dict[str, object]:
            return Status.of(ctx.ready.figures(ctx.now())).as_dict()

        return JSONResponse(await run_in_threadpool(compute))

    async def sprint_figures(self, request: Request) -> Response:
        ctx = self.team_ctx(request)
        clock = ctx.now()
        text = request.query_params.get("at")
        try:
            at = _parse_at(text) or clock
        except SprintError as exc:
            return error(400, str(exc))
        if at.tzinfo is None:
            at = at.replace(tzinfo=ctx.sprint.sprint.tz)  # a wall time of the sprint's zone
        if at > clock:
            return error(400, f"at {shown(text)} is in the future; figures are known up to now")
        sprint = ctx.sprint
        if text and ctx.team is not None:  # the sprint served then, as `export --at` takes
            sprint = history.served_at(ctx.team, ctx.sprint, at)
        if wanted := request.query_params.get("sprint"):
            found = history.find(ctx.team, ctx.sprint, wanted)
            if found is None:
                known = ", ".join(
                    f"{s.sprint.name} ({s.sprint.start})"
                    for s in history.team_sprints(ctx.team, ctx.sprint)
                )
                return error(404, f"no sprint {shown(wanted)} (the sprints: {known})")
            sprint = found
        if text and at >= figures.end_instant(sprint.sprint):
            text = None  # after its end: its final figures, as without `at`
        gone = (
            retention.not_kept(current=ctx.sprint, asked=sprint, at=at, now=clock) if text else None
        )
        if gone is not None:
            return error(
                410, f"{gone}; without `at`, an ended sprint's answer is its final figures"
            )

        def compute() -> dict[str, Any]:
            if text:  # a past instant, from history (that sprint's rows)
                db = ctx.db if sprint is ctx.sprint else history.sprint_db(ctx.db, sprint)
                with db.read() as session:
                    return figures.compute(session=session, sprint=sprint, at=at).as_dict()
            if sprint is not ctx.sprint:  # as of its end once it ended (kept then), else now
                scope = history.scopes(ctx.db)(sprint)
                return history.final_figures(ctx.db, scope, sprint, ctx.now())
            return ctx.ready.figures(at).as_dict()  # now: the figures kept ready

        return JSONResponse(await run_in_threadpool(compute))

    async def sprints(self, request: Request) -> Response:
        """`GET /api/v1/sprints`: the team's sprints with their outcomes."""
        ctx = self.team_ctx(request)

        def compute() -> dict[str, object]:
            now = ctx.now()
            rows = history.listing(ctx.db, ctx.team, ctx.sprint, now, ctx.ready.figures(now))
            return {"team": ctx.team.id if ctx.team else None, "sprints": rows}

        return JSONResponse(await run_in_threadpool(compute))

    async def test_history(self, request: Request) -> Response:
        """`GET /api/v1/tests/{id}`: one test's history as `/tests show` gives it."""
        ctx = self.team_ctx(request)
        wanted = str(request.path_params["id"])
        if not (wanted.isascii() and wanted.isdigit()):
            return error(
                400, f"{shown(wanted)} is not a test id: give the number `/tests show` gives"
            )
        test_id = row_id(wanted)  # (None: past any id, so no test's)

        def compute() -> dict[str, Any] | None:
            if test_id is None:
                return None
            with ctx.db.read() as session:
                test = tests_queries.test_by_id(session=session, test_id=test_id)
                if test is None or test.branch != ctx.sprint.sprint.branch:
                    return None
                data = tests_history.history(
                    session=session, sprint=ctx.sprint, test=test, now=ctx.now()
                )
                return dict(data)

        found = await run_in_threadpool(compute)
        if found is None:
            return error(
                404, f"no test {shown(wanted, bare=True)} on branch {ctx.sprint.sprint.branch}"
            )
        return JSONResponse(found)

    async def quarantined(self, request: Request) -> Response:
        """`GET /api/v1/quarantine`: the tracked branch's quarantined tests, as JSON, or
        with `format=text` one `classname::name` a line for CI to skip or ignore."""
        ctx = self.team_ctx(request)
        form = request.query_params.get("format", "json")
        if form not in ("json", "text"):
            return error(
                400, f"format={shown(form)}: ask for format=json (the default) or format=text"
            )

        def compute() -> list[quarantine.Listed]:
            with ctx.db.read() as session:
                return quarantine.listing(session=session, sprint=ctx.sprint, now=ctx.now())

        rows = await run_in_threadpool(compute)
        if form == "text":
            lines = "".join(f"{r['classname']}::{r['name']}\n" for r in rows)
            return PlainTextResponse(lines)
        return JSONResponse({"branch": ctx.sprint.sprint.branch, "tests": rows})

    async def test_runs(self, request: Request) -> Response:
        ctx = self.team_ctx(request)
        media = _media_type(request)
        if media not in XML_TYPES and not media.endswith("+xml"):
            return error(
                415,
                "send the JUnit report as application/xml, not "
                + (shown(media) if media else "nothing"),
            )
        try:
            body, digest = await read_body(request, limit=MAX_REPORT_BYTES)
        except TooLarge:
            return error(413, f"the report is over {MAX_REPORT_BYTES // (1024 * 1024)} MB")
        except BadEncoding as exc:
            return error(exc.status, str(exc))
        # Ingestion (and its XML parser) is loaded with the first report, not at rest.
        from jobs.ingest import RunInfo, receive_junit

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
            with body, self.branch_lock(ctx.team.id if ctx.team else "", info.branch):
                return receive_junit(
                    db=ctx.db,
                    sprint=ctx.sprint,
                    document=body,
                    digest=digest,
                    info=info,
                    now=ctx.now(),
                )

        try:
            with metrics.timed_ingest() as outcome:
                result = await run_in_threadpool(work)
                outcome("created" if result.created else "replay", result.reply.get("tests", 0))
        except SprintError as exc:
            return error(400, str(exc))
        if result.created:
            ctx.notify_outbox()
        return JSONResponse(result.reply, status_code=201 if result.created else 200)

    async def metrics(self, request: Request) -> Response:
        ctx = self.team_ctx(request)
        media = _media_type(request)
        if media != "application/json":
            return error(
                415, f"send metrics as application/json, not {shown(media) if media else 'nothing'}"
            )
        try:
            body, _ = await read_body(request, limit=MAX_METRICS_BYTES)
        except TooLarge:
            return error(413, "the metrics document is over 1 MB")
        except BadEncoding as exc:
            return error(exc.status, str(exc))
        # Ingestion is loaded with the first document, not at rest.
        from jobs.ingest import ingest_metrics_document, metrics_document

        with body:
            try:
                data = metrics_document(body.read())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return error(400, f"not valid JSON: {exc}")
            except RecursionError:
                return error(400, "not valid JSON: nested too deeply")
            except SprintError as exc:
                return error(400, str(exc))

        def work() -> dict[str, Any]:
            return ingest_metrics_document(db=ctx.db, sprint=ctx.sprint, body=data, now=ctx.now())

        try:
            reply = await run_in_threadpool(work)
        except SprintError as exc:
            return error(400, str(exc))
        ctx.notify_outbox()
        return JSONResponse(reply, status_code=201)


def create_web_app(
    settings: Settings,
    *,
    bolt_app: App,
    sprint: Sprint,
    db: Database,
    now: Callable[[], datetime],
    notify_outbox: Callable[[], None] = lambda: None,
    ready: Ready | None = None,
    contexts: Contexts | None = None,
) -> Starlette:
    """The ASGI application that `sprintbot web` serves."""
    ctx = AppContext.of(
        settings, sprint=sprint, db=db, now=now, notify_outbox=notify_outbox, ready=ready
    )
    r = Routes(ctx=ctx, bolt_app=bolt_app, contexts=contexts)
    api = r.authorized
    return Starlette(
        routes=[
            Route("/slack/events", r.slack_events, methods=["POST"]),
            Route("/healthz", r.healthz, methods=["GET"]),
            Route("/metrics", r.prometheus, methods=["GET"]),
            Route("/api/v1/readiness", api(r.readiness), methods=["GET"]),
            Route("/api/v1/sprint", api(r.sprint_figures, query=("at", "sprint")), methods=["GET"]),
            Route("/api/v1/sprints", api(r.sprints), methods=["GET"]),
            Route(
                "/api/v1/test-runs",
                api(r.test_runs, query=("run", "commit", "branch", "url", "at")),
                methods=["POST"],
            ),
            Route("/api/v1/tests/{id}", api(r.test_history), methods=["GET"]),
            Route("/api/v1/quarantine", api(r.quarantined, query=("format",)), methods=["GET"]),
            Route(
                "/api/v1/metrics",
                api(r.metrics, hint="at and commit go in the JSON body"),
                methods=["POST"],
            ),
        ],
        exception_handlers={HTTPException: _http_error},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, another method) as every other error of
    `/api/v1/*` is: JSON, `{"error": ...}` (they were plain text, and a CI script's `jq
    .error` failed to parse; found by review); elsewhere as Starlette gives them."""
    if not isinstance(exc, HTTPException):  # (the only exception it is given)
        raise exc
    headers = dict(exc.headers or {})
    if not request.url.path.startswith("/api/"):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=headers)
    what = f"{request.method} {shown(request.url.path)}"
    if exc.status_code == 405:
        allowed = next((v for k, v in headers.items() if k.lower() == "allow"), "another method")
        message = f"{what}: this route takes {', '.join(sorted(allowed.split(', ')))}"
    elif exc.status_code == 404:
        message = f"{what}: no such route (docs/api.md lists them)"
    else:
        message = f"{what}: {exc.detail}"
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)
