"""Settings: defaults, validation naming the setting, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, build_settings

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults() -> None:
    s = build_settings()
    assert s.SLACK_API_URL == "https://slack.com/api/"
    assert s.DATABASE_URL == "sqlite:///sprintbot.db"
    assert s.SPRINTBOT_CONFIG == "sprint.toml"
    assert s.PORT == 3000
    assert s.SPRINTBOT_INGEST_TOKEN is None


def test_reads_env_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nPORT=8080\n")
    monkeypatch.setenv("PORT", "9090")
    s = build_settings()
    assert s.SLACK_BOT_TOKEN is not None
    assert s.SLACK_BOT_TOKEN.get_secret_value() == "xoxb-from-dotenv"
    assert s.PORT == 9090  # the environment beats .env
    assert "xoxb-from-dotenv" not in repr(s)


def test_api_url_gets_a_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8900/api")
    assert build_settings().SLACK_API_URL == "http://127.0.0.1:8900/api/"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: must be an http(s) URL"),
        ("DATABASE_URL", "sprintbot.db", "DATABASE_URL: must be a database URL"),
        ("PORT", "http", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret", "SLACK_BOT_TOKEN: must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN: must be an app-level token"),
        ("SPRINTBOT_SMTP_URL", "mail.example.com", "SPRINTBOT_SMTP_URL: must look like smtp://"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        build_settings()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert value not in str(info.value) or name in ("SLACK_API_URL", "DATABASE_URL", "PORT")


def test_require_slack_names_the_missing_setting() -> None:
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN is not set"):
        build_settings().require_slack()
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET is not set"):
        build_settings(SLACK_BOT_TOKEN="xoxb-1").require_slack()
