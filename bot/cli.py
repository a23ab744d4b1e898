"""The `sprintbot` command line. Exit codes: 0 ok, 1 failure, 2 usage error."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, TypeAlias, cast

from pydantic import SecretStr

from bot.settings import Settings, SettingsError, StartupError, build_settings, env_value
from jobs.config import (
    ConfigError,
    Org,
    Source,
    Sprint,
    Team,
    format_duration,
    load_org,
    next_sprint,
    sprint_at,
    team_today,
)
from jobs.errors import SprintError, shown
from jobs.numbers import (
    breakdown,
    consistency_warnings,
    local_date,
    parse_instant,
    pct,
    sprint_day,
    utcnow,
)

if TYPE_CHECKING:  # imported by the commands that use them: `web` keeps ingestion out
    from bot.runtime import Runtime
    from jobs.ingest import RunInfo
    from storage.db import Database

log = logging.getLogger(__name__)


class UsageError(Exception):
    """Bad arguments: exit 2."""


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _fail(text: str) -> None:
    sys.stderr.write(text + "\n")


def _configure_logging(settings: Settings | None = None) -> None:
    """Quiet logs on stderr (`bot.logs`): SPRINTBOT_LOG_LEVEL and SPRINTBOT_LOG_FORMAT, every
    secret setting masked."""
    from bot import logs

    if settings is None:
        logs.configure()
        return
    secrets = [
        value.get_secret_value()
        for value in vars(settings).values()
        if isinstance(value, SecretStr) and value.get_secret_value()
    ]
    # The passwords inside URLs (the teams' own API tokens: `build_runtime`, once read).
    smtp = settings.SPRINTBOT_SMTP_URL
    passwords = [_password(settings.DATABASE_URL)]
    passwords.append(_password(smtp.get_secret_value()) if smtp is not None else None)
    logs.configure(
        settings.SPRINTBOT_LOG_LEVEL,
        settings.SPRINTBOT_LOG_FORMAT,
        secrets=[*secrets, *(p for p in passwords if p)],
    )


def _password(url: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _start_line(command: str, settings: Settings, runtime: Runtime, *, host: str = "") -> str:
    """The one line `web` and `run` say at start: what runs where, never a secret
    (`sprintbot clock` says its own: `bot.clock.run_forever`)."""
    from bot import logs

    parts = [f"web on http://{host}:{settings.PORT}"]
    if command == "run":
        from bot.clock import job_names  # only where a clock runs: `web` holds no scheduler

        zones = ", ".join(f"{t.id} ({t.sprints[0].sprint.timezone})" for t in runtime.teams.all)
        parts.append(f"clock for {zones} with jobs {' '.join(job_names())}")
    else:
        parts.append("no clock (run `sprintbot clock` beside it)")
    parts.append(f"database {logs.database_kind(settings.DATABASE_URL)}")
    if settings.SLACK_APP_TOKEN is not None:
        parts.append("Socket Mode on")
    return f"sprintbot {command}: " + ", ".join(parts)


@contextmanager
def _database(settings: Settings, *, require_current: bool = True) -> Iterator[Database]:
    """The database of DATABASE_URL for one command, its connections closed after it."""
    from bot.startup import open_database

    db = open_database(settings, require_current=require_current)
    try:
        yield db
    finally:
        db.dispose()


def _team(settings: Settings, name: str | None) -> tuple[Org, Team]:
    """SPRINTBOT_CONFIG's teams and the one `--team` names (it may be left out when there
    is one team); StartupError (one line, exit 1) for none of several or an unknown one."""
    from bot.startup import pick_team

    org = load_org(settings.SPRINTBOT_CONFIG)
    return org, pick_team(org, name)


@contextmanager
def _served(
    settings: Settings, *, team: str | None, now: datetime
) -> Iterator[tuple[Sprint, Database]]:
    """The team's sprint served at `now` (as the servers pick it) and the database seen as
    that team's sprint: what a command acting on one sprint works on."""
    from jobs.teams import Teams

    org, chosen = _team(settings, team)
    with _database(settings) as db:
        served = Teams.sync(org, db=db, now=now).serve(chosen, now=now)
        yield served.sprint, db.scoped(served.scope)


# -- config check ------------------------------------------------------------------------


def _components(sprint: Sprint) -> str:
    by_source = {src: sum(1 for c in sprint.components if c.source is src) for src in Source}
    return (
        f"components: {len(sprint.components)} in {len(sprint.groups)} groups "
        f"({by_source[Source.TESTS]} tests, {by_source[Source.MANUAL]} manual, "
        f"{by_source[Source.METRICS]} metrics)"
    )


def summarize(sprint: Sprint) -> list[str]:
    """The one-screen summary `config check` prints for a valid file."""
    s = sprint.sprint
    weight = sum(c.weight for c in sprint.components)
    start = breakdown(sprint)
    lines = [
        f"{s.name}: {s.days} days, {s.start} to {s.end} ({s.timezone})",
        f"  goal: {s.goal}" if s.goal else "",
        f"  targets: readiness {pct(sprint.targets.readiness)}, pass rate "
        f"{pct(sprint.targets.pass_rate)}"
        + (
            f"; stated baseline {pct(sprint.targets.baseline_readiness)}"
            if sprint.targets.baseline_readiness is not None
            else ""
        ),
        f"  {_components(sprint)}, weights sum to {weight:g}",
        f"  starting readiness from the components' scores: {pct(start.score)}",
        f"  benchmarks: {len(sprint.metrics)}"
        + (f" ({', '.join(m.name for m in sprint.metrics)})" if sprint.metrics else ""),
        f"  channels: team {sprint.channels.team}, status {sprint.channels.status}, "
        f"blockers {sprint.channels.blockers}",
        "  escalation: "
        + (
            " → ".join(f"{e.name} ({format_duration(e.after)})" for e in sprint.escalation)
            or "none"
        ),
        "  milestones: "
        + (
            ", ".join(
                f"day {m.day} {m.name} ({len(m.criteria)} criteria)" for m in sprint.milestones
            )
            or "none"
        ),
        "  plan: "
        + ("daily targets given" if sprint.plan.readiness else "linear from baseline to target"),
    ]
    return [line for line in lines if line]


def _people(sprint: Sprint) -> str:
    """How many people the team names, and who its participants are."""
    ids = {i for role in sprint.people for i in sprint.role(role)}
    members = f"members of {sprint.channels.team}"
    who = members if sprint.people.get("participants") == "team" else "listed"
    return f"people: {len(ids)} named in roles; participants {who}"


def _sprint_status(team: Team, sprint: Sprint, *, now: datetime) -> str:
    current, upcoming = sprint_at(team, now=now), next_sprint(team, now=now)
    if sprint is current:
        return "current"
    if sprint is upcoming:
        return "next"
    return "ended" if sprint.sprint.end < team_today(team, now=now) else "later"


def summarize_team(team: Team, *, now: datetime) -> list[str]:
    """`config check`'s summary of one team: where it works, who, what, and its sprints."""
    first = team.sprints[0]
    lines = [
        f"team {team.id}: {team.name} ({Path(team.path).name}), zone {first.sprint.timezone}",
        f"  channels: team {team.channels.team}, status {team.channels.status}, "
        f"blockers {team.channels.blockers}",
        f"  {_people(first)}",
        f"  {_components(first)}: {', '.join(c.name for c in first.components)}",
        "  sprints:",
    ]
    if team.ingest_token_env:  # said (set or not), never shown
        state = "set" if env_value(team.ingest_token_env) else "not set"
        lines.insert(2, f"  API token of its own: ${team.ingest_token_env} ({state})")
    for s in team.sprints:
        info = s.sprint
        lines.append(
            f"    {info.name}: {info.start} to {info.end}, {info.days} days "
            f"({_sprint_status(team, s, now=now)})"
        )
    if (between := _between(team, now=now)) is not None:
        lines.append(f"  {between}")
    return lines


def _between(team: Team, *, now: datetime) -> str | None:
    """That no sprint of the team runs at `now`, and when the next starts or the last
    ended; None while one runs."""
    if sprint_at(team, now=now) is not None:
        return None
    upcoming = next_sprint(team, now=now)
    if upcoming is not None:
        return f"no sprint running; the next starts on {upcoming.sprint.start}"
    return f"no sprint running; the last ended on {team.sprints[-1].sprint.end}"


def _config_failed(exc: ConfigError) -> int:
    if exc.unreadable:
        _fail(f"{exc.path}: {exc.problems[0]}")
        return 1
    n = len(exc.problems)
    _fail(f"{exc.path}: {n} error{'s' if n != 1 else ''}")
    for problem in exc.problems:
        _fail(f"  {problem}")
    return 1


def _print_org(path: str, org: Org, *, now: datetime) -> None:
    n = len(org.teams)
    _print(f"{path}: valid, {n} team{'s' if n != 1 else ''}")
    for team in org.teams:
        for line in summarize_team(team, now=now):
            _print(line)
        for sprint in team.sprints:
            for warning in consistency_warnings(sprint):
                _print(f"warning: {team.id} / {sprint.sprint.name}: {warning}")
    if n > 1:
        for clash in _word_clashes(org):
            _print(f"warning: {clash}")


def _word_clashes(org: Org) -> list[str]:
    """Teams named like a command's own word: as a command's first word it means the word."""
    from bot.listeners.commands import WORDS

    out = []
    for team in org.teams:
        for command, words in WORDS.items():
            named = {team.id, team.name.strip().lower()} & words
            for word in sorted(named):
                out.append(
                    f'team "{team.id}": `{command} {word}` means {command}\'s own "{word}", not '
                    "the team; its people reach it from its channel or the team buttons"
                )
    return out


def cmd_config_check(args: argparse.Namespace, settings: Settings | None) -> int:
    # Without settings (another of them malformed: not this command's business), the file
    # SPRINTBOT_CONFIG names all the same, not the default beside it (found by review).
    path = args.file or (
        settings.SPRINTBOT_CONFIG if settings else env_value("SPRINTBOT_CONFIG") or "sprint.toml"
    )
    now = _parse_at(args.at) if args.at is not None else utcnow()
    try:
        org = load_org(path)
    except ConfigError as exc:
        return _config_failed(exc)
    team = org.teams[0]
    # (A directory whose first file is a one-sprint file is still every team's: its other
    # teams went unsaid; found by review.)
    if len(org.teams) > 1 or not team.single:
        _print_org(path, org, now=now)
        return 0
    # A one-sprint file: the summary it has always had, and where the sprint stands as of
    # `--at` (it said the same before, during and after the sprint; found by review).
    sprint = team.sprints[0]
    _print(f"{path}: valid")
    for line in summarize(sprint):
        _print(line)
    _print(_standing(team, sprint, now=now))
    for warning in consistency_warnings(sprint):
        _print(f"warning: {warning}")
    return 0


def _standing(team: Team, sprint: Sprint, *, now: datetime) -> str:
    """Where a one-sprint file's sprint stands at `now`, as a team file's summary says it."""
    return _between(team, now=now) or (
        f"running: day {sprint_day(sprint.sprint, now)} of {sprint.sprint.days}"
    )


# -- db ----------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    del args
    from sqlalchemy.exc import SQLAlchemyError

    from storage.migrate import behind_message, newer_than_shipped, revisions, upgrade

    logging.getLogger("alembic").setLevel(logging.INFO)  # each migration it runs
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # not its set-up
    with _database(settings, require_current=False) as db:
        try:
            if newer_than_shipped(revisions(db.engine)[0]):  # (a release rolled back)
                _fail(f"db upgrade: {behind_message(revisions(db.engine)[0])}")
                return 1
            upgrade(settings.DATABASE_URL)
            current, _ = revisions(db.engine)
        except SQLAlchemyError as exc:
            _fail(f"db upgrade failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            return 1
    _print(f"database is at revision {current}")
    return 0


# -- servers -----------------------------------------------------------------------------


def _serve(settings: Settings, *, with_clock: bool, host: str) -> int:
    import uvicorn

    from bot.runtime import build_runtime, check_token

    _port_free(host, settings.PORT)  # (before anything starts: a clock, a catch-up)
    runtime = build_runtime(settings)
    check_token(runtime.authorize)  # a token Slack rejects stops the start at once
    refresher = runtime.keep_ready()  # its first build runs before any other thread starts
    runtime.worker.start()
    scheduler = None
    if with_clock:  # imported only here: `web` holds no scheduler (5 MB)
        from bot import clock

        scheduler = clock.start_background(runtime)
    log.info("%s", _start_line("run" if with_clock else "web", settings, runtime, host=host))
    socket = runtime.connect_socket_mode()
    try:
        # No access log: a line per request cost a twentieth of every acknowledgement, and
        # requests that fail are logged where they fail.
        uvicorn.run(
            runtime.web_app(),
            host=host,
            port=settings.PORT,
            log_config=None,
            proxy_headers=True,
            access_log=False,
            http="httptools",  # parsed in C (h11, in Python, is uvicorn's fallback)
            ws="none",  # no WebSocket routes (Socket Mode connects out): nothing to load
        )
    finally:
        if socket is not None:
            socket.close()  # type: ignore[no-untyped-call]  # slack-bolt leaves it unannotated
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        refresher.stop()
        runtime.worker.stop()
    return 0


def _port_free(host: str, port: int) -> None:
    """StartupError where `host:port` cannot be bound: uvicorn said so after the start line
    had said it was serving, and exited with 3, a status the CLI does not have (found by
    review)."""
    import socket as sockets

    family = sockets.AF_INET6 if ":" in host else sockets.AF_INET
    with sockets.socket(family, sockets.SOCK_STREAM) as probe:
        probe.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)  # (as uvicorn binds)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"PORT: cannot listen on {host}:{port} ({exc.strerror or exc}); stop what "
                "holds it, or set PORT to another"
            ) from None


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(settings, with_clock=False, host=args.host)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(settings, with_clock=True, host=args.host)


def cmd_clock(_: argparse.Namespace, settings: Settings) -> int:
    from bot import clock
    from bot.runtime import build_runtime

    runtime = build_runtime(settings)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # The clock delivers what it queues (and retries) as soon as it is due, like `web`.
    runtime.worker.start()
    try:
        clock.run_forever(runtime)
    finally:
        runtime.worker.stop()
    return 0


# -- jobs --------------------------------------------------------------------------------


def cmd_job_list(_: argparse.Namespace, __: Settings | None) -> int:
    from bot.clock import JOBS

    width = max(len(j.name) for j in JOBS)
    for job in JOBS:
        _print(f"{job.name:<{width}}  {job.schedule}\n{'':<{width}}  {job.description}")
    return 0


def cmd_job_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import clock
    from bot.runtime import build_runtime

    if args.name not in clock.job_names():
        raise UsageError(f"unknown job {args.name!r}; jobs: {', '.join(clock.job_names())}")
    at = _parse_at(args.at) if args.at is not None else None
    if at is not None and at > utcnow() + timedelta(minutes=1):
        # Run as of a day to come, it took that day's slot with today's figures, and the
        # day's own run found it "already posted" (found by review).
        raise UsageError(
            f"--at {shown(args.at)} is in the future: a job runs as of now or a time past "
            "(a backfill); the clock runs the slots to come"
        )
    _, team = _team(settings, args.team)
    runtime = build_runtime(settings, now=(lambda: at) if at else utcnow, outbox_now=utcnow)
    served = runtime.for_team(team)
    if at is not None and args.name in clock.DAY_BOUND:
        info = served.sprint.sprint
        day, today = local_date(info, at), local_date(info, utcnow())
        if day != today:
            # Run for a day past, it DMed everyone that day's standup as "today's", one
            # nobody could answer any more (found by review).
            raise UsageError(
                f"{args.name} asks about the day it runs on: {day} is past (today is "
                f"{today} in {info.timezone}); run it as of today, without --at"
            )
    _print(clock.run_job(served, args.name))
    return 0


def _parse_at(text: str) -> datetime:
    try:
        at = parse_instant(text)
    except ValueError as exc:
        raise UsageError(f"--at {exc}, e.g. 2025-10-30T09:00-04:00") from None
    if at.tzinfo is None:
        raise UsageError(f"--at {shown(text)} needs a UTC offset, e.g. 2025-10-30T09:00-04:00")
    return at.astimezone(UTC)


def cmd_ingest_junit(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.ingest import RunInfo

    with _served(settings, team=args.team, now=utcnow()) as (sprint, db):
        info = RunInfo(
            run=args.run,
            commit=args.commit,
            branch=args.branch,
            url=args.url,
            at=_parse_at(args.at) if args.at is not None else None,
        )
        ok = [_ingest_file(path, db=db, sprint=sprint, info=info) for path in args.files]
    return 0 if all(ok) else 1


def _ingest_file(path: str, *, db: Database, sprint: Sprint, info: RunInfo) -> bool:
    """Ingest one report and print the reply; False (and why, on stderr) if it was refused."""
    from jobs.ingest import receive_junit

    try:
        with _rereadable(path) as readable:
            digest = _file_digest(readable)
            # Parsed and classified before the write lock, as the web's ingestion is:
            # the web's writers (a blocker being filed) do not wait on it.
            with _report_file(readable) as document:
                result = receive_junit(
                    db=db, sprint=sprint, document=document, digest=digest, info=info, now=utcnow()
                )
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        _fail(f"{path}: not a whole gzip file ({exc})")
        return False
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
        return False
    except SprintError as exc:
        _fail(f"{path}: {exc}")
        return False
    _print(json.dumps(result.reply if result.created else {**result.reply, "replay": True}))
    return True


def cmd_ingest_metrics(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.ingest import ingest_metrics_document, metrics_document

    _team(settings, args.team)  # a wrong --team is said before the file is read
    try:
        with open(args.file, "rb") as f:
            body = metrics_document(f.read())
    except SprintError as exc:
        _fail(f"{args.file}: {exc}")
        return 1
    except OSError as exc:
        _fail(f"{args.file}: cannot read ({exc.strerror})")
        return 1
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"{args.file}: not valid JSON ({exc})")
        return 1
    except RecursionError:
        _fail(f"{args.file}: not valid JSON (nested too deeply)")
        return 1
    with _served(settings, team=args.team, now=utcnow()) as (sprint, db):
        try:
            reply = ingest_metrics_document(db=db, sprint=sprint, body=body, now=utcnow())
        except SprintError as exc:
            _fail(f"{args.file}: {exc}")
            return 1
    _print(json.dumps(reply))
    return 0


def cmd_export_tracker(args: argparse.Namespace, settings: Settings) -> int:
    from jobs import retention
    from jobs.config import sprint_to_serve
    from jobs.tracker import tracker_markdown

    clock = utcnow()
    now = _parse_at(args.at) if args.at is not None else clock
    if now > clock:
        raise UsageError(f"--at {shown(args.at)} is in the future; the tracker is known up to now")
    # (the sprint file's [retention], as the API's `?at=`: from the sprint served now)
    current = sprint_to_serve(_team(settings, args.team)[1], now=clock)
    with _served(settings, team=args.team, now=now) as (sprint, db):
        gone = retention.not_kept(current=current, asked=sprint, at=now, now=clock)
        if args.at is not None and gone is not None:
            raise UsageError(f"--at {shown(args.at)}: {gone}")
        with db.session() as session:
            text = tracker_markdown(session=session, sprint=sprint, now=now)
    if args.out in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{args.out}: cannot write ({exc.strerror})")
        return 1
    _print(f"wrote the tracker to {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace, _: Settings | None) -> int:
    import tempfile

    started = time.monotonic()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sprintbot-demo-"))
    try:  # a directory it cannot make is said at once, not after a second of imports
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"{out}: cannot write ({exc.strerror})")
        return 1
    from bot.demo import EXAMPLE, run_demo

    if not EXAMPLE.is_file():
        _fail(f"{EXAMPLE}: the example sprint file is missing; run the demo from a clone")
        return 1
    logging.getLogger().setLevel(logging.WARNING)  # the demo prints what Slack would show
    try:
        files = run_demo(out, echo=_print, links=args.links)
    except OSError as exc:
        _fail(f"{out}: cannot write ({exc.strerror})")
        return 1
    _print()
    _print(f"The demo sprint ({time.monotonic() - started:.1f} s), in {out}:")
    _print(f"  burn-down chart   {files['chart']}")
    _print(f"  tracker document  {files['tracker']}")
    _print(f"  SQLite database   {files['database']}")
    _print(f"  CI runs (JUnit)   {files['runs']}/day-1.xml … day-6.xml")
    return 0


@contextmanager
def _rereadable(path: str) -> Iterator[str]:
    """`path`, or where it is not a file that can be read twice (a pipe: `/dev/stdin`,
    `<(zcat …)`), a copy of what it holds: the digest and the parse each read it (found by
    review: "the document is empty")."""
    if stat.S_ISREG(os.stat(path).st_mode):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sprintbot-") as tmp:
        copy = os.path.join(tmp, "report")
        with open(path, "rb") as source, open(copy, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        yield copy


def _report_file(path: str) -> IO[bytes]:
    """A report file to read: gzip-compressed ones (`report.xml.gz`, as the API takes them)
    read as what they hold (found by review: "malformed XML at line 1, column 1")."""
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    if compressed:
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return open(path, "rb")  # (the caller's `with` closes it)


def _file_digest(path: str) -> str:
    """The digest of the document a report file holds (a replay's, compressed or not, as
    the API's of a gzip body)."""
    digest = hashlib.sha256()
    with _report_file(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


APP_NAME_CHARS = 35


def cmd_manifest(args: argparse.Namespace, _: Settings | None) -> int:
    from bot.doctor import url_problem
    from bot.manifest import manifest

    if not args.url and not args.socket_mode:
        raise UsageError("give the public URL (manifest https://bot.example.com) or --socket-mode")
    if args.url and not args.url.startswith("https://"):
        raise UsageError(f"{args.url!r}: Slack needs an https:// URL")
    if args.url and (problem := url_problem(args.url, name="")):
        raise UsageError(problem)
    # The app's name, which Slack requires and holds to 35 characters (unchecked, an empty
    # or long one was refused only when the app was created; found by review).
    if not args.name.strip() or len(args.name) > APP_NAME_CHARS:
        raise UsageError(
            f"--name {args.name!r}: the app's name is 1 to {APP_NAME_CHARS} characters"
        )
    _print(json.dumps(manifest(args.url, name=args.name, socket_mode=args.socket_mode), indent=2))
    return 0


def cmd_doctor(args: argparse.Namespace, _: Settings | None) -> int:
    """Reads the settings itself: a bad one is a failed check, not the end of the run."""
    from bot.doctor import run_doctor, url_problem

    problem = url_problem(args.url) if args.url else None
    if problem:
        raise UsageError(problem)
    return run_doctor(join=args.join, url=args.url, echo=_print, encoding=sys.stdout.encoding)


# -- entry point -------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


HOST_HELP = (
    "address to bind (default 127.0.0.1, this machine only; "
    "0.0.0.0 behind a platform's router, as the Procfile does)"
)


# A string: argparse's action is generic only in typeshed, not at run time.
Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"
Command = Callable[[argparse.Namespace, Settings], int]


def _group(sub: Commands, name: str, about: str) -> Commands:
    """A command whose subcommands follow (`db upgrade`, `job run`, …)."""
    parser = sub.add_parser(name, help=about)
    return parser.add_subparsers(dest=f"{name}_command", required=True, parser_class=_Parser)


def _command(
    sub: Commands, name: str, about: str, func: Command, *, settings: bool
) -> argparse.ArgumentParser:
    """A command running `func`; `settings`: it needs the environment's settings to run."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=about)
    parser.set_defaults(func=func, needs_settings=settings)
    return parser


TEAM_HELP = "the team (its id or name); required when SPRINTBOT_CONFIG names several"


def installed_version() -> str:
    """The installed package's version (its metadata, as pip recorded it): the one number
    that says which code runs, whatever the checkout around it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sprintbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed; pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sprintbot", description="Runs a team's sprint toward production readiness.")
    p.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for name, about, serve in (
        ("web", "serve /slack/events, /healthz and /api/v1 on PORT", cmd_web),
        ("run", "web and clock in one process", cmd_run),
    ):
        server = _command(sub, name, about, serve, settings=True)
        server.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    _command(sub, "clock", "run the scheduled jobs", cmd_clock, settings=True)

    db = _group(sub, "db", "database")
    _command(db, "upgrade", "apply migrations to DATABASE_URL", cmd_db_upgrade, settings=True)

    config = _group(sub, "config", "the sprint file(s)")
    check = _command(
        config,
        "check",
        "validate sprint or team files and summarise them",
        cmd_config_check,
        settings=False,
    )
    check.add_argument(
        "file",
        nargs="?",
        help="a sprint or team file, or a directory of team files; default: SPRINTBOT_CONFIG",
    )
    check.add_argument("--at", help="ISO-8601 time that says which sprint is current (default now)")

    job = _group(sub, "job", "scheduled jobs")
    _command(job, "list", "list the jobs", cmd_job_list, settings=False)
    jrun = _command(job, "run", "run one job now", cmd_job_run, settings=True)
    jrun.add_argument("name")
    jrun.add_argument("--at", help="ISO-8601 time to run as (default now)")
    jrun.add_argument("--team", help=TEAM_HELP)

    ingest = _group(sub, "ingest", "feed CI results in from files")
    junit = _command(
        ingest,
        "junit",
        "ingest JUnit XML reports (one transaction each)",
        cmd_ingest_junit,
        settings=True,
    )
    junit.add_argument("files", nargs="+", metavar="FILE")
    junit.add_argument("--team", help=TEAM_HELP)
    junit.add_argument("--run", help="CI run id; reports with the same run are shards of it")
    junit.add_argument("--commit")
    junit.add_argument("--branch", default="main")
    junit.add_argument("--url", help="link to the CI run")
    junit.add_argument("--at", help="ISO-8601 time of the run (default: the XML's, else now)")
    metrics = _command(
        ingest,
        "metrics",
        "ingest benchmark figures from a JSON file",
        cmd_ingest_metrics,
        settings=True,
    )
    metrics.add_argument("file", metavar="FILE.json")
    metrics.add_argument("--team", help=TEAM_HELP)

    export = _group(sub, "export", "documents from the recorded sprint")
    tracker = _command(
        export, "tracker", "the tracker document as Markdown", cmd_export_tracker, settings=True
    )
    tracker.add_argument("--out", help="file to write (default: standard output)")
    tracker.add_argument("--team", help=TEAM_HELP)
    tracker.add_argument("--at", help="ISO-8601 time to report as of (default now)")

    demo = _command(
        sub, "demo", "a week of the example sprint, no Slack needed", cmd_demo, settings=False
    )
    demo.add_argument("--out", help="directory for the chart, tracker and database")
    demo.add_argument(
        "--links",
        action="store_true",
        help="under each message, a link that opens it in Slack's Block Kit Builder",
    )

    man = _command(sub, "manifest", "print the Slack app manifest", cmd_manifest, settings=False)
    man.add_argument("url", nargs="?", help="the bot's public https:// base URL")
    man.add_argument("--name", default="sprintbot")
    man.add_argument("--socket-mode", action="store_true", help="no public URL: use Socket Mode")

    doctor = _command(
        sub,
        "doctor",
        "check the settings, database, sprint files and Slack app",
        cmd_doctor,
        settings=False,
    )
    doctor.add_argument("--join", action="store_true", help="join the public channels it is not in")
    doctor.add_argument(
        "--url", help="the bot's public https:// base URL: check that /slack/events answers"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        _fail(str(exc))
        return 2
    _configure_logging()
    try:
        settings: Settings | None = None
        try:
            settings = build_settings()
        except SettingsError:
            if args.needs_settings:
                raise
        if settings is not None:
            _configure_logging(settings)
        code: int = args.func(args, settings)
        sys.stdout.flush()  # (a reader gone is found here, not while exiting)
        return code
    except BrokenPipeError:
        # Whoever read the output stopped reading (`sprintbot config check | head -1`): stop
        # quietly, as other command-line tools do, with the status SIGPIPE would give. What
        # is still buffered goes nowhere (Python would report the pipe again at exit).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except ConfigError as exc:
        _fail(
            f"{exc.path}: {exc.problems[0]}"
            + (
                f" (and {len(exc.problems) - 1} more; run `sprintbot config check`)"
                if len(exc.problems) > 1
                else ""
            )
        )
        return 1
    except (SettingsError, StartupError) as exc:
        _fail(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
