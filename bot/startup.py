"""What a command settles before its work, without Slack's libraries: the database of its
settings and the team it acts for (`db upgrade`, `ingest`, `export`, `doctor` need no more)."""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.settings import Settings, SettingsError, StartupError
from jobs.config import Org, Team
from jobs.teams import team_named
from storage.db import Database
from storage.migrate import behind_message, revisions


def open_database(settings: Settings, *, require_current: bool = True) -> Database:
    """Connect and, unless told otherwise, insist the schema is migrated to the newest revision."""
    try:
        db = Database.from_url(settings.DATABASE_URL)
    except ValueError as exc:
        raise SettingsError(f"DATABASE_URL: {exc}") from None
    except ImportError as exc:
        raise SettingsError(f"DATABASE_URL: no driver for this database ({exc.name})") from None
    except ArgumentError as exc:  # a scheme SQLAlchemy does not know (`sqlite3://`)
        raise SettingsError(
            f"DATABASE_URL: {exc}; use sqlite:///path or postgresql://user@host/db"
        ) from None
    if require_current:
        try:
            current, head = revisions(db.engine)
        except SQLAlchemyError as exc:
            raise StartupError(f"DATABASE_URL: cannot connect ({why_not(exc)})") from None
        if current != head:
            raise StartupError(behind_message(current))
    return db


def pick_team(org: Org, team: str | None) -> Team:
    """The team `team` names (its id or name), or the only one; StartupError otherwise."""
    if team is None:
        if len(org.teams) > 1:
            ids = ", ".join(t.id for t in org.teams)
            raise StartupError(
                f"SPRINTBOT_CONFIG names {len(org.teams)} teams ({ids}): say which with --team ID"
            )
        return org.teams[0]
    found = team_named(org.teams, team)
    if found is None:
        ids = ", ".join(t.id for t in org.teams)
        raise StartupError(f'no team "{team}" in SPRINTBOT_CONFIG (its teams: {ids})')
    return found


def why_not(exc: SQLAlchemyError) -> str:
    """Why the database could not be reached, in one line: the error's class and the
    driver's first line (refused, a wrong password, no such database; the class alone
    told none of them apart; found by review). The URL, and so its password, is not in it."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {reason[0]}" if reason else exc.__class__.__name__
