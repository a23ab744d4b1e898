"""Process settings from the environment or `.env`, validated once at start."""

from __future__ import annotations

import functools
import os
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# The Slack tokens that are told apart by their prefix: what each must be, and the prefix.
_TOKEN_KINDS = {
    "SLACK_BOT_TOKEN": ("a bot token", "xoxb-"),
    "SLACK_APP_TOKEN": ("an app-level token", "xapp-"),
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class StartupError(Exception):
    """The process cannot start; the message is one line saying why and what to do.
    (Here, not in bot.runtime, so that every command catches it without importing the
    runtime: that import was 0.9 s of the 1.2 that `sprintbot --help` took.)"""


class Settings(BaseSettings):
    """Everything sprintbot reads from its environment (DESIGN.md, "Settings")."""

    # An empty value (`SPRINTBOT_INGEST_TOKEN=` in .env, as .env.example writes them) is
    # unset, not a secret: an empty token would match an empty `Authorization: Bearer`.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        env_ignore_empty=True,
    )

    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: str = "https://slack.com/api/"
    DATABASE_URL: str = "sqlite:///sprintbot.db"
    SPRINTBOT_CONFIG: str = "sprint.toml"
    SPRINTBOT_INGEST_TOKEN: SecretStr | None = None
    PORT: Annotated[int, Field(ge=1, le=65535)] = 3000
    SPRINTBOT_SMTP_URL: SecretStr | None = None
    # Bearer token for GET /metrics (a Prometheus scraper's, read-only); SPRINTBOT_INGEST_TOKEN
    # is accepted too.
    SPRINTBOT_METRICS_TOKEN: SecretStr | None = None
    # /healthz answers 503 once the clock's last tick or the oldest undelivered message is
    # older than this many seconds.
    SPRINTBOT_HEALTH_MAX_AGE: Annotated[int, Field(ge=1)] = 900
    SPRINTBOT_LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    SPRINTBOT_LOG_FORMAT: Literal["text", "json"] = "text"

    @field_validator(
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SPRINTBOT_INGEST_TOKEN",
        "SPRINTBOT_SMTP_URL",
        "SPRINTBOT_METRICS_TOKEN",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        """A secret of only spaces (or empty, given directly) is no secret: unset."""
        raw = v.get_secret_value() if isinstance(v, SecretStr) else v
        return None if isinstance(raw, str) and not raw.strip() else v

    @field_validator(*_TOKEN_KINDS)
    @classmethod
    def _token_kind(cls, v: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        what, prefix = _TOKEN_KINDS[info.field_name or ""]
        if v is not None and not v.get_secret_value().startswith(prefix):
            raise ValueError(f"must be {what} starting with {prefix}")
        return v

    @field_validator("SPRINTBOT_LOG_LEVEL", "SPRINTBOT_LOG_FORMAT", mode="before")
    @classmethod
    def _any_case(cls, v: object, info: ValidationInfo) -> object:
        if not isinstance(v, str):
            return v
        return v.upper() if info.field_name == "SPRINTBOT_LOG_LEVEL" else v.lower()

    @field_validator("SLACK_API_URL")
    @classmethod
    def _api_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, v: str) -> str:
        if not _URL_SCHEME.match(v):
            raise ValueError("must be a database URL such as sqlite:///sprintbot.db")
        return v

    @field_validator("SPRINTBOT_SMTP_URL")
    @classmethod
    def _smtp_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            parts = urlsplit(v.get_secret_value())
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must look like smtp://user:pass@host:587?starttls=1")
        return v

    def require_slack(self) -> None:
        """Stop with a SettingsError unless the Slack credentials are present."""
        self.secret("SLACK_BOT_TOKEN")
        self.secret("SLACK_SIGNING_SECRET")

    def secret(self, name: str) -> str:
        """The value of a secret setting; SettingsError naming it when unset or empty (an
        empty signing secret would verify nothing Slack sends: every request a 401)."""
        value = getattr(self, name)
        if not isinstance(value, SecretStr) or not value.get_secret_value().strip():
            raise SettingsError(f"{name} is not set; it is needed to talk to Slack")
        return value.get_secret_value()


def env_value(name: str) -> str | None:
    """A value the environment or `.env` gives `name` (the environment first, as Settings
    reads them): for variables a sprint file names, such as a team's own API token."""
    if name in os.environ:
        return os.environ[name]
    path = os.path.abspath(".env")
    try:
        changed = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _env_file(path, changed).get(name) or None


@functools.lru_cache(maxsize=4)
def _env_file(path: str, changed: int) -> dict[str, str | None]:  # noqa: ARG001 - the key
    """The `.env` at `path` as it was when last `changed` (read once per change)."""
    from dotenv import dotenv_values

    return dict(dotenv_values(path, encoding="utf-8"))


def build_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`) into Settings; raise SettingsError on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "settings"
        # The message never echoes the input, so a malformed secret does not leak.
        msg = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {msg}") from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use rather than at import."""
    return build_settings()
