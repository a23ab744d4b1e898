"""Assembles a running sprintbot from settings: database, sprint, Slack client, outbox, apps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from bot import logs
from bot.app import create_app
from bot.context import Contexts
from bot.identity import BotAuthorize, TokenRejected
from bot.outbox import PACE, SENDER_THREADS, OutboxWorker, Sender, make_client
from bot.settings import Settings, StartupError, env_value
from bot.startup import open_database, pick_team
from bot.web import create_web_app
from jobs.config import Org, Sprint, Team, load_org, sprint_to_serve
from jobs.numbers import utcnow
from jobs.ready import Ready, Refresher
from jobs.teams import LegacyData, Teams
from storage.db import Database

log = logging.getLogger(__name__)


def served_sprint(path: str, *, now: datetime, team: str | None = None) -> Sprint:
    """The sprint a command serves, from SPRINTBOT_CONFIG: the team's current sprint
    (between sprints the next, after the last the last: figures.phase then says the sprint
    has not started or has ended). `team` names the team; it may be left out when there
    is one."""
    return sprint_to_serve(pick_team(load_org(path), team), now=now)


def serve_team(
    settings: Settings, db: Database, *, team: str | None, now: datetime
) -> tuple[Sprint, Database]:
    """For a command acting on one team (`--team`, or the only one): the sprint it is served
    at `now`, and the database seen as that team's sprint (its rows kept in step with the
    files first, as a starting server does)."""
    org = load_org(settings.SPRINTBOT_CONFIG)
    chosen = pick_team(org, team)
    teams = sync_teams(org, db, now=now)
    served = teams.serve(chosen, now=now)
    return served.sprint, db.scoped(served.scope)


def sync_teams(org: Org, db: Database, *, now: datetime) -> Teams:
    """The teams with their rows kept in step with the files; StartupError (one line) when
    that cannot be done."""
    try:
        return Teams.sync(org, db=db, now=now)
    except LegacyData as exc:
        raise StartupError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise StartupError(
            f"DATABASE_URL: cannot record the teams ({exc.__class__.__name__})"
        ) from None


def check_token(authorize: BotAuthorize) -> None:
    """Learn the bot's identity; stop on a token Slack rejects, carry on (with a warning,
    learning it later) when Slack is unreachable — commands are answered meanwhile."""
    try:
        authorize.learn()
    except TokenRejected as exc:
        raise StartupError(f"SLACK_BOT_TOKEN: Slack rejected the token ({exc})") from None


@dataclass
class Runtime:
    """Everything a long-running process holds."""

    settings: Settings
    sprint: Sprint
    db: Database
    client: WebClient
    sender: Sender
    worker: OutboxWorker
    bolt: App
    authorize: BotAuthorize
    ready: Ready
    contexts: Contexts
    now: Callable[[], datetime] = field(default=utcnow)
    team: Team | None = None  # whose sprint `sprint` is (None: built without teams)

    @property
    def teams(self) -> Teams:
        return self.contexts.teams

    def for_team(self, team: Team, *, sprint: date | None = None) -> Runtime:
        """This runtime as `team`'s, now: its served sprint (or the one starting on
        `sprint`), its rows, its figures (the outbox, Slack and the Bolt app stay shared)."""
        ctx = self.contexts.for_team(team, sprint)
        return replace(self, sprint=ctx.sprint, db=ctx.db, ready=ctx.ready, team=team)

    def connect_socket_mode(self) -> SocketModeHandler | None:
        """With SLACK_APP_TOKEN set, also receive events over a Socket Mode connection."""
        if self.settings.SLACK_APP_TOKEN is None:
            return None
        handler = SocketModeHandler(
            self.bolt, self.settings.secret("SLACK_APP_TOKEN"), web_client=self.client
        )
        try:
            handler.connect()  # type: ignore[no-untyped-call]  # slack-bolt: unannotated
        except SlackApiError as exc:  # (apps.connections.open refused the app-level token)
            raise StartupError(
                f"SLACK_APP_TOKEN: Slack refused it ({exc.response.get('error')}): give an "
                "app-level token (xapp-…) of this app with connections:write"
            ) from None
        except (SlackClientError, OSError) as exc:  # (a traceback; found by review)
            raise StartupError(
                f"SLACK_APP_TOKEN: Slack cannot be reached to open the Socket Mode "
                f"connection ({type(exc).__name__}: {str(exc)[:200]}); start again once it can"
            ) from None
        log.info("connected to Slack by Socket Mode")
        return handler

    def web_app(self) -> Starlette:
        return create_web_app(
            self.settings,
            bolt_app=self.bolt,
            sprint=self.sprint,
            db=self.db,
            now=self.now,
            notify_outbox=self.worker.poke,
            ready=self.ready,
            contexts=self.contexts,
        )

    def keep_ready(self) -> Refresher:
        """Keep every team's figures built in the background (web and run processes): those
        of the sprint each team is served at the moment. The first team's are ready when
        this returns (`Refresher.prime`): call it before starting the process's threads."""
        refresher = Refresher(self.contexts.served_readies, now=self.now)
        refresher.prime()
        refresher.start()
        return refresher


def build_runtime(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utcnow,
    pace: timedelta = PACE,
    outbox_now: Callable[[], datetime] | None = None,
) -> Runtime:
    """Validate settings, sprint file and database, and wire the pieces together. `pace`
    spaces the outbox's posts to a channel (Slack's; tests that do not measure it shorten it).
    `outbox_now`: the outbox's clock (its claims, leases and waits), where it is not `now`:
    `job run --at` runs a job as of a past time, but its sender claims in the present (a
    claim dated then looked days past its lease to every other process's sender, which took
    the row over and posted it too; found by review)."""
    settings.require_slack()
    org = load_org(settings.SPRINTBOT_CONFIG)
    logs.mask(  # the teams' own API tokens, read when asked (bot.web): never logged
        token
        for team in org.teams
        if team.ingest_token_env and (token := env_value(team.ingest_token_env))
    )
    shared = open_database(settings)
    client = make_client(settings.secret("SLACK_BOT_TOKEN"), settings.SLACK_API_URL)
    smtp = settings.SPRINTBOT_SMTP_URL
    sender = Sender(
        shared,
        client,
        now=outbox_now or now,
        smtp_url=smtp.get_secret_value() if smtp else None,
        pace=pace,
    )
    worker = OutboxWorker(sender, threads=SENDER_THREADS)
    authorize = BotAuthorize(client, settings.secret("SLACK_BOT_TOKEN"))
    teams = sync_teams(org, shared, now=now())
    contexts = Contexts(settings, teams=teams, db=shared, now=now, notify_outbox=worker.poke)
    first = contexts.first
    sprint, db, ready = first.sprint, first.db, first.ready
    bolt = create_app(
        settings,
        sprint=sprint,
        db=db,
        client=client,
        now=now,
        notify_outbox=worker.poke,
        authorize=authorize,
        ready=ready,
        contexts=contexts,
    )
    return Runtime(
        settings=settings,
        sprint=sprint,
        db=db,
        client=client,
        sender=sender,
        worker=worker,
        bolt=bolt,
        authorize=authorize,
        ready=ready,
        contexts=contexts,
        now=now,
        team=first.team,
    )
