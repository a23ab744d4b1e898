"""`sprintbot doctor`: checks an installation before its first 9:00 — settings, database,
sprint files, the Slack app's token, scopes, channels and people, the public URL — and
says for each problem how to fix it."""

from __future__ import annotations

import ipaddress
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.identity import REJECTED
from bot.manifest import events_url, manifest
from bot.outbox import make_client
from bot.settings import Settings, SettingsError, build_settings
from jobs import errors
from jobs.config import CHANNEL_KEYS, ConfigError, Org, Sprint, load_org
from jobs.numbers import consistency_warnings
from storage.db import normalize_url
from storage.migrate import revisions

# A channel named by ID (public C…, old private G…) or by name, as a sprint file writes it.
_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{2,}|#\S+)$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
URL_TIMEOUT = 10  # seconds: Slack itself gives a request URL 3
APPS = "https://api.slack.com/apps"


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


MARKS = {Status.OK: "✓", Status.FAILED: "✗", Status.SKIPPED: "-"}
ASCII_MARKS = {Status.OK: "[ok]", Status.FAILED: "[FAIL]", Status.SKIPPED: "[skip]"}
# What the fixes write beyond ASCII, as plain output spells it.
_PLAIN = str.maketrans({"…": "...", "→": "->", "⋮": "...", "✓": "[ok]", "✗": "[FAIL]"})


def marks_for(encoding: str | None) -> Mapping[Status, str]:
    """✓ and ✗ where the output can show them; plain ASCII where it cannot (a C locale, a
    log collector), so the checklist never dies of a UnicodeEncodeError."""
    try:
        "".join(MARKS.values()).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_MARKS
    return MARKS


@dataclass
class Checklist:
    """The lines printed as each check finishes (a slow Slack shows where it is)."""

    echo: Callable[[str], None]
    encoding: str | None = "utf-8"
    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    marks: Mapping[Status, str] = field(init=False)

    def __post_init__(self) -> None:
        self.marks = marks_for(self.encoding)

    def passed(self, text: str) -> None:
        self._line(Status.OK, text)

    def failed(self, text: str, fix: str, *details: str) -> None:
        self._line(Status.FAILED, text)
        for detail in details:
            self.say(f"      {detail}")
        self.say(f"    fix: {fix}")

    def skipped(self, text: str, why: str) -> None:
        self._line(Status.SKIPPED, f"{text}: skipped, {why}")

    @property
    def ok(self) -> bool:
        return self.counts[Status.FAILED] == 0

    def summary(self) -> str:
        c = self.counts
        return f"{c[Status.OK]} passed, {c[Status.FAILED]} failed, {c[Status.SKIPPED]} skipped" + (
            "" if self.ok else ": fix the failures above and run `sprintbot doctor` again"
        )

    def say(self, text: str) -> None:
        """One line, spelt in what the output can show (a name from Slack may be anything)."""
        if self.marks is ASCII_MARKS:
            text = text.translate(_PLAIN).encode("ascii", "replace").decode("ascii")
        self.echo(text)

    def _line(self, status: Status, text: str) -> None:
        self.counts[status] += 1
        self.say(f"{self.marks[status]} {text}")


@dataclass(frozen=True)
class Slack:
    """The Web API as the bot's token reaches it, once `auth.test` accepted the token."""

    client: WebClient
    bot: str  # the bot user's name, for "/invite @bot"
    granted: frozenset[str] | None  # the token's scopes (x-oauth-scopes), if Slack said


def run_doctor(
    *,
    join: bool = False,
    url: str | None = None,
    echo: Callable[[str], None],
    encoding: str | None = "utf-8",
) -> int:
    """Run every check in order, printing the checklist; 0 when all passed, else 1. A check
    that needs what an earlier one could not give (settings, a sprint file, a token) is
    shown as skipped, never as passed."""
    checks = Checklist(echo, encoding)
    found = check_settings(checks)
    if found is None:
        for what in ("database", "sprint files", "Slack token", "scopes", "channels", "people"):
            checks.skipped(what, "the settings are not valid")
    else:
        migrated = check_database(checks, found)
        org = check_sprint_files(checks, found)
        if migrated and org is not None and len(org.teams) > 1:
            check_team_data(checks, found, org)
        slack = check_token(checks, found)
        if found.SLACK_APP_TOKEN is not None:
            check_app_token(checks, found)
        if slack is None:
            for what in ("scopes", "channels", "people"):
                checks.skipped(what, "no working Slack token")
        else:
            check_scopes(checks, slack)
            if org is None:
                for what in ("channels", "people"):
                    checks.skipped(what, "no valid sprint file")
            else:
                check_channels(checks, slack, org, join=join)
                check_people(checks, slack, org)
    if url is None:
        checks.skipped(
            "public URL",
            "give --url https://your-bot.example.com to check it (not needed with Socket Mode)",
        )
    else:
        check_public_url(checks, url)
    checks.say("")
    checks.say(checks.summary())
    return 0 if checks.ok else 1


# -- settings, database, sprint files ----------------------------------------------------


def check_settings(checks: Checklist) -> Settings | None:
    """The settings as a process reads them; those that talk to Slack need both secrets."""
    try:
        settings = build_settings()
    except SettingsError as exc:
        checks.failed(f"settings: {exc}", "correct it in the environment or in .env")
        return None
    unset = [
        name
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        if getattr(settings, name) is None
    ]
    if unset:
        checks.failed(
            f"settings: {' and '.join(unset)} not set (web, clock and run need them)",
            "from your app's page at "
            f"{APPS}: the Bot User OAuth Token (xoxb-…, OAuth & Permissions) is "
            "SLACK_BOT_TOKEN, the Signing Secret (Basic Information) SLACK_SIGNING_SECRET; "
            "set them in the environment or in .env",
        )
    else:
        mode = "Socket Mode and HTTP" if settings.SLACK_APP_TOKEN else "HTTP"
        checks.passed(f"settings: valid (Slack by {mode})")
    return settings


def check_database(checks: Checklist, settings: Settings) -> bool:
    """DATABASE_URL reachable and migrated to the revision this sprintbot ships (True)."""
    from bot.startup import open_database, why_not

    missing = _missing_sqlite_file(settings.DATABASE_URL)
    if missing is not None:
        checks.failed(
            f"database: {missing} does not exist",
            "run `sprintbot db upgrade` to create and migrate it, or correct DATABASE_URL "
            "(a relative path is read from the working directory)",
        )
        return False
    try:
        db = open_database(settings, require_current=False)
    except SettingsError as exc:
        checks.failed(f"database: {exc}", "correct DATABASE_URL (README, Settings)")
        return False
    try:
        current, head = revisions(db.engine)
    except SQLAlchemyError as exc:
        checks.failed(
            f"database: cannot connect ({why_not(exc)})",
            "check DATABASE_URL and that the database server runs and lets this machine in",
        )
        return False
    finally:
        db.dispose()
    if current == head:
        checks.passed(f"database: reachable, migrated to revision {head}")
        return True
    elif current is None:
        checks.failed(
            "database: reachable but not migrated (no tables yet)",
            "run `sprintbot db upgrade` (the Procfile's release step does it on each deploy)",
        )
    else:
        checks.failed(
            f"database: at revision {current}, this sprintbot needs {head}",
            "run `sprintbot db upgrade`; if the database is newer, run the release that "
            "migrated it",
        )
    return False


def _missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL that does not exist: looking into it would leave an empty
    one behind (the doctor run in the wrong directory)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None  # open_database says what is wrong with it
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if Path(name).exists() else name


def check_team_data(checks: Checklist, settings: Settings, org: Org) -> None:
    """The database's data is a team's of the files: what `web`, `clock` and `run` check
    before they start (doctor passed where they refused; found by review)."""
    from bot.startup import open_database
    from jobs.teams import start_refusal

    db = open_database(settings, require_current=False)
    try:
        with db.read() as session:
            refusal = start_refusal(org, session=session)
    finally:
        db.dispose()
    if refusal is None:
        checks.passed("team data: each team of the files takes its own")
    else:
        checks.failed(f"team data: {refusal}", "as it says: web, clock and run refuse to start")


def check_sprint_files(checks: Checklist, settings: Settings) -> Org | None:
    """SPRINTBOT_CONFIG read as `sprintbot config check` reads it."""
    path = settings.SPRINTBOT_CONFIG
    try:
        org = load_org(path)
    except ConfigError as exc:
        n = len(exc.problems)
        what = exc.problems[0] if exc.unreadable else f"{n} error{'s' if n != 1 else ''}"
        checks.failed(
            f"sprint files: {exc.path}: {what}",
            f"correct each key named; `sprintbot config check {path}` checks again",
            *([] if exc.unreadable else exc.problems),
        )
        return None
    teams = ", ".join(t.id for t in org.teams)
    warnings = sum(len(consistency_warnings(s)) for t in org.teams for s in t.sprints)
    checks.passed(
        f"sprint files: {path} valid, {len(org.teams)} team{'s' if len(org.teams) != 1 else ''} "
        f"({teams})"
        + (
            f"; {warnings} warning{'s' if warnings != 1 else ''} (`sprintbot config check` "
            "lists them)"
            if warnings
            else ""
        )
    )
    return org


# -- Slack: token and scopes -------------------------------------------------------------


def check_token(checks: Checklist, settings: Settings) -> Slack | None:
    """`auth.test` with SLACK_BOT_TOKEN against SLACK_API_URL."""
    if settings.SLACK_BOT_TOKEN is None:
        checks.skipped("Slack token", "SLACK_BOT_TOKEN is not set")
        return None
    client = make_client(settings.secret("SLACK_BOT_TOKEN"), settings.SLACK_API_URL)
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in REJECTED:
            checks.failed(
                f"Slack token: Slack rejected SLACK_BOT_TOKEN ({error})",
                f"copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions at {APPS} "
                "into SLACK_BOT_TOKEN; if the app was uninstalled, install it again first",
            )
        else:
            checks.failed(
                f"Slack token: auth.test failed ({error})",
                "try again in a minute; if it stays, see https://slack-status.com",
            )
        return None
    except (SlackClientError, OSError) as exc:
        checks.failed(
            f"Slack token: cannot reach Slack at {settings.SLACK_API_URL} ({exc})",
            "check that this machine reaches Slack (proxy, firewall) and SLACK_API_URL",
        )
        return None
    bot = str(answer.get("user") or "sprintbot")
    checks.passed(f"Slack token: accepted, the bot is @{bot} in {answer.get('team') or 'Slack'}")
    return Slack(client=client, bot=bot, granted=_granted(answer.headers))


def check_app_token(checks: Checklist, settings: Settings) -> None:
    """`apps.connections.open` with SLACK_APP_TOKEN: what Socket Mode connects with (the
    URL it answers is not used: a connection opened by `web` or `run` takes its own)."""
    client = make_client(settings.secret("SLACK_APP_TOKEN"), settings.SLACK_API_URL)
    try:
        client.apps_connections_open(app_token=settings.secret("SLACK_APP_TOKEN"))
    except SlackApiError as exc:
        checks.failed(
            f"Socket Mode: Slack refused SLACK_APP_TOKEN ({exc.response.get('error')})",
            f"generate an app-level token (xapp-…) with connections:write under Basic "
            f"Information at {APPS}, and enable Socket Mode",
        )
        return
    except (SlackClientError, OSError) as exc:
        checks.failed(
            f"Socket Mode: cannot reach Slack at {settings.SLACK_API_URL} ({exc})",
            "check that this machine reaches Slack (proxy, firewall) and SLACK_API_URL",
        )
        return
    checks.passed("Socket Mode: Slack accepts SLACK_APP_TOKEN")


def _granted(headers: Mapping[str, Any]) -> frozenset[str] | None:
    """The scopes a Web API answer says the token has (its `x-oauth-scopes` header)."""
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            return frozenset(s.strip() for s in str(value).split(",") if s.strip())
    return None


def needed_scopes() -> list[str]:
    """The bot scopes the code needs: those the manifest asks for (`sprintbot manifest`)."""
    scopes: list[str] = manifest(None, socket_mode=True)["oauth_config"]["scopes"]["bot"]
    return scopes


def check_scopes(checks: Checklist, slack: Slack) -> None:
    needed = needed_scopes()
    reinstall = (
        f"add them under OAuth & Permissions → Bot Token Scopes at {APPS} (or create the app "
        "from `sprintbot manifest`), then reinstall the app: a token keeps the scopes it was "
        "installed with"
    )
    if slack.granted is None:
        checks.failed(
            "scopes: Slack's answer did not say which scopes the token has",
            f"compare OAuth & Permissions at {APPS} with `sprintbot manifest`: it needs "
            + ", ".join(needed),
        )
        return
    missing = [s for s in needed if s not in slack.granted]
    if missing:
        checks.failed(f"scopes: not granted: {', '.join(missing)}", reinstall)
    else:
        checks.passed(f"scopes: all {len(needed)} the bot needs are granted")


# -- Slack: channels ---------------------------------------------------------------------


# Where the sprint files name something: (file, key) pairs, in file order.
Places = list[tuple[str, str]]


def _note(found: dict[str, Places], entry: str, file: str, key: str) -> None:
    places = found.setdefault(entry, [])
    if (file, key) not in places:  # a team's tables repeat in each of its sprints
        places.append((file, key))


def shown(places: Places) -> str:
    """`people.qa_lead, people.admins in sprint.toml; … in mobile.toml`."""
    by_file: dict[str, list[str]] = {}
    for file, key in places:
        by_file.setdefault(file, []).append(key)
    return "; ".join(f"{', '.join(keys)} in {file}" for file, keys in by_file.items())


def _entries(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _sprints(org: Org) -> Iterable[tuple[str, Sprint]]:
    """Every sprint of every team with its file's name (a team's tables repeat in each)."""
    for team in org.teams:
        for sprint in team.sprints:
            yield Path(team.path).name, sprint


def channels_named(org: Org) -> dict[str, Places]:
    """Every channel the sprint files name (as written) and the keys naming it."""
    found: dict[str, Places] = {}
    for file, sprint in _sprints(org):
        for key in CHANNEL_KEYS:
            _note(found, sprint.channel(key), file, f"channels.{key}")
        for i, step in enumerate(sprint.escalation):
            for entry in _entries(step.notify):
                if _CHANNEL.fullmatch(entry):
                    _note(found, entry, file, f"escalation[{i}].notify")
    return found


def _channel_ids(client: WebClient, names: list[str]) -> dict[str, str]:
    """The IDs of the channels named `#name`, as conversations.list shows them to the bot
    (a private channel only once it is a member). SlackApiError when it cannot list."""
    wanted = {n.removeprefix("#") for n in names}
    ids: dict[str, str] = {}
    if not wanted:
        return ids
    for page in client.conversations_list(types="public_channel,private_channel", limit=1000):
        for ch in page.get("channels") or []:
            if ch.get("name") in wanted:
                ids.setdefault(f"#{ch['name']}", str(ch["id"]))
    return ids


def check_channels(checks: Checklist, slack: Slack, org: Org, *, join: bool) -> None:
    """Each channel found and the bot in it; with `join`, joins the public ones it is not in."""
    named = channels_named(org)
    try:
        ids = _channel_ids(slack.client, [c for c in named if c.startswith("#")])
    except (SlackApiError, SlackClientError, OSError) as exc:
        checks.failed(
            f"channels: cannot list the workspace's channels ({_reason(exc)})",
            "grant the scopes above (channels:read, groups:read) and reinstall the app",
        )
        return
    spellings: dict[str, list[str]] = {}
    for channel, where in named.items():
        channel_id = ids.get(channel) if channel.startswith("#") else channel
        _check_channel(checks, slack, channel, channel_id, where, join=join)
        if channel_id is not None:
            spellings.setdefault(channel_id, []).append(channel)
    _check_spellings(checks, {i: s for i, s in spellings.items() if len(s) > 1}, named)


def _check_spellings(
    checks: Checklist, written: dict[str, list[str]], named: dict[str, Places]
) -> None:
    """One channel written two ways (`#platform` in one file, its ID in another): teams are
    told apart by how their files write their channels, so it would count as two (a team
    channel of two teams unnoticed, a shared channel's codes shown without their team)."""
    for spelled in written.values():
        ways = " and ".join(f"{c} ({shown(named[c])})" for c in spelled)
        checks.failed(
            f"channel written two ways: {ways} are one channel",
            "write it the same way (its #name or its ID) in every file",
        )


def _check_channel(
    checks: Checklist,
    slack: Slack,
    channel: str,
    channel_id: str | None,
    where: Places,
    *,
    join: bool,
) -> None:
    label = f"channel {channel} ({shown(where)})"
    try:
        info = _channel_info(slack.client, channel_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        checks.failed(f"{label}: conversations.info failed ({_reason(exc)})", _retry())
        return
    if info is None:
        checks.failed(
            f"{label}: not found",
            "create it or correct the name or ID in the file; if it is private, invite the "
            f"bot: /invite @{slack.bot} in {channel}",
        )
        return
    name = f"#{info['name']}" if info.get("name") else channel
    label = f"channel {name} ({shown(where)})"
    invite = f"/invite @{slack.bot} in {name}"
    if info.get("is_archived"):
        checks.failed(f"{label}: archived", "unarchive it, or name another channel in the file")
    elif info.get("is_member"):
        checks.passed(f"{label}: found, the bot is a member")
    elif info.get("is_private"):
        checks.failed(f"{label}: private, and the bot is not in it", f"invite the bot: {invite}")
    elif join:
        _join(checks, slack, str(info.get("id") or channel_id), label, invite)
    else:
        # Public: posted to without joining (chat:write.public); the sender joins it
        # (channels:join) where Slack wants a member, to share a chart or read back a post.
        checks.passed(
            f"{label}: found; the bot is not a member yet and joins it when it first shares "
            "a chart there (`sprintbot doctor --join` joins it now)"
        )


def _channel_info(client: WebClient, channel_id: str | None) -> dict[str, Any] | None:
    """The channel as conversations.info shows it; None where Slack shows the bot none."""
    if channel_id is None:
        return None
    try:
        return dict(client.conversations_info(channel=channel_id).get("channel") or {})
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return None
        raise


def _join(checks: Checklist, slack: Slack, channel_id: str, label: str, invite: str) -> None:
    try:
        slack.client.conversations_join(channel=channel_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        checks.failed(
            f"{label}: the bot could not join ({_reason(exc)})", f"invite the bot: {invite}"
        )
        return
    checks.passed(f"{label}: found, the bot joined it")


def _reason(exc: Exception) -> str:
    """Slack's error code for an API error, else what went wrong with the connection."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return str(exc) or exc.__class__.__name__


def _retry() -> str:
    return "grant the scopes above if one is missing and reinstall the app; else try again"


# -- Slack: people -----------------------------------------------------------------------


def people_named(org: Org) -> tuple[dict[str, Places], dict[str, Places]]:
    """Every user (U…, W…) and user group (S…) the sprint files name, with where."""
    users: dict[str, Places] = {}
    groups: dict[str, Places] = {}

    def note(entry: str, file: str, key: str) -> None:
        if _USER.fullmatch(entry):
            _note(users, entry, file, key)
        elif _GROUP.fullmatch(entry):
            _note(groups, entry, file, key)

    for file, sprint in _sprints(org):
        for role, ids in sprint.people.items():
            if isinstance(ids, list):
                for entry in ids:
                    note(entry, file, f"people.{role}")
        for i, step in enumerate(sprint.escalation):
            for entry in _entries(step.notify):
                note(entry, file, f"escalation[{i}].notify")
        for i, owners in enumerate(sprint.owners):
            for entry in owners.notify:
                note(entry, file, f"owners[{i}].notify")
        if sprint.codeowners is not None:
            for handle, entry in sprint.codeowners.handles.items():
                note(entry, file, f'codeowners.handles."{handle}"')
    return users, groups


def check_people(checks: Checklist, slack: Slack, org: Org) -> None:
    users, groups = people_named(org)
    if users:
        _check_users(checks, slack.client, users)
    if groups:
        _check_groups(checks, slack.client, groups)
    if not users and not groups:
        checks.passed("people: the sprint files name no users or user groups")


def _check_users(checks: Checklist, client: WebClient, users: dict[str, Places]) -> None:
    problems = 0
    for user, where in users.items():
        label = f"user {user} ({shown(where)})"
        try:
            found = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                # A missing scope or an outage: the same for every user, said once.
                checks.failed(f"users: users.info failed ({_reason(exc)})", _retry())
                return
            found = None
        except (SlackClientError, OSError) as exc:
            checks.failed(f"users: users.info failed ({_reason(exc)})", _retry())
            return
        if found is None:
            problems += 1
            checks.failed(
                f"{label}: not found",
                "use the member ID from their Slack profile (⋮ → Copy member ID)",
            )
        elif found.get("deleted"):
            problems += 1
            checks.failed(f"{label}: deactivated", "replace them in the file")
    if not problems:
        checks.passed(f"users: {len(users)} named, all found")


def _check_groups(checks: Checklist, client: WebClient, groups: dict[str, Places]) -> None:
    try:
        answer = client.usergroups_list(include_disabled=True)
    except (SlackApiError, SlackClientError, OSError) as exc:
        checks.failed(f"user groups: usergroups.list failed ({_reason(exc)})", _retry())
        return
    known = {str(g.get("id")): g for g in answer.get("usergroups") or []}
    problems = 0
    for group, where in groups.items():
        label = f"user group {group} ({shown(where)})"
        if group not in known:
            problems += 1
            checks.failed(
                f"{label}: not found",
                "use the group's ID (S…): in Slack, People → User groups, the group's ⋮ → "
                "Copy group ID",
            )
        elif known[group].get("date_delete"):
            problems += 1
            checks.failed(f"{label}: disabled", "enable it again, or name another group")
    if not problems:
        checks.passed(f"user groups: {len(groups)} named, all found")


# -- the public URL ----------------------------------------------------------------------


def url_problem(url: str, *, name: str = "--url ") -> str | None:
    """Why `url` cannot be the bot's base URL, or None: a host, no space, no query or
    fragment (the paths are added to it). Slack calls https:// only; an http:// URL of this
    machine checks the server before its TLS proxy. `name`: how the message names it."""
    wrong = f"{name}{errors.shown(url, 200)}: give the bot's public base URL, e.g. https://bot.example.com"
    try:
        parts = urlsplit(url)
        port = parts.port  # (a port out of range, or not a number: ValueError)
    except ValueError:
        return wrong
    if (
        port == 0
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in url)
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
    ):
        return wrong
    if parts.scheme == "http" and not _loopback(parts.hostname):
        return (
            f"{name}{errors.shown(url, 200)}: Slack calls https:// URLs only "
            "(http:// is for this machine, e.g. http://127.0.0.1:3000)"
        )
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Slack does not follow a request URL's redirects, so neither does the check."""

    def redirect_request(  # urllib's signature
        self,
        req: urllib.request.Request,  # noqa: ARG002
        fp: IO[bytes],  # noqa: ARG002
        code: int,  # noqa: ARG002
        msg: str,  # noqa: ARG002
        headers: Message,  # noqa: ARG002
        newurl: str,  # noqa: ARG002
    ) -> None:
        return None


def _post_unsigned(url: str) -> tuple[int, str] | str:
    """POST an unsigned event to `url`: (status, Location) or why nothing answered."""
    request = urllib.request.Request(  # noqa: S310  # url_problem let only http(s) through
        url,
        data=b'{"type": "url_verification", "challenge": "sprintbot-doctor"}',
        headers={"Content-Type": "application/json", "User-Agent": "sprintbot-doctor"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(request, timeout=URL_TIMEOUT) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.headers.get("Location") or "")
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except OSError as exc:  # a timeout or a reset after connecting
        return str(exc) or exc.__class__.__name__


def check_public_url(checks: Checklist, url: str) -> None:
    """`<url>/slack/events` reachable and refusing a request Slack did not sign (401)."""
    events = events_url(url)
    answer = _post_unsigned(events)
    serve = "check that `sprintbot web` runs behind it and its logs"
    if isinstance(answer, str):
        checks.failed(
            f"public URL {events}: unreachable ({answer})",
            "check the URL, its DNS and TLS certificate, and that `sprintbot web` runs behind it",
        )
        return
    status, location = answer
    if status == 401:
        checks.passed(f"public URL {events}: reachable, refuses unsigned requests (401)")
    elif 300 <= status < 400:
        checks.failed(
            f"public URL {events}: redirects ({status} to {location or 'elsewhere'})",
            "Slack does not follow redirects: give the URL it ends at",
        )
    elif 200 <= status < 300:
        checks.failed(
            f"public URL {events}: accepted a request Slack did not sign ({status})",
            "the server there does not verify Slack's signatures: point the URL at "
            "`sprintbot web`, which does with SLACK_SIGNING_SECRET",
        )
    elif status in (404, 405):
        checks.failed(
            f"public URL {events}: answered {status}, nothing serves Slack's events there",
            "give the base URL `sprintbot web` is served at (the manifest's request URL "
            "without /slack/events)",
        )
    else:
        checks.failed(f"public URL {events}: answered {status}", serve)
