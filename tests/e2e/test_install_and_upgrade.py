"""Installing, upgrading and running sprintbot the day it is installed (faults found in
review): `scripts/start` on a directory of team files, a database a newer release
migrated, an app-level token Slack refuses, a team's own API token in `.env`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage.migrate import HEAD, upgrade
from tests.support.fakeslack import FakeSlack
from tests.support.server import free_port, process_env, web_process

ROOT = Path(__file__).resolve().parents[2]
SPRINTBOT = [sys.executable, "-m", "bot.cli"]


# -- scripts/start with SPRINTBOT_CONFIG naming a directory of team files -----------------


def _fake_venv(tree: Path, log: Path) -> None:
    """A .venv whose python (pip) does nothing and whose `sprintbot` records its arguments
    and what SPRINTBOT_CONFIG holds then, so `scripts/start` runs its own lines only."""
    bin_ = tree / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text("#!/bin/sh\nexit 0\n")
    (bin_ / "sprintbot").write_text(f'#!/bin/sh\necho "$*" >> {log}\nexit 0\n')
    for f in ("python", "sprintbot"):
        p = bin_ / f
        p.chmod(p.stat().st_mode | stat.S_IXUSR)


def test_scripts_start_leaves_a_directory_of_team_files_as_it_is(tmp_path: Path) -> None:
    # SPRINTBOT_CONFIG names one sprint file or a directory of team files. `scripts/start`
    # copied the example to it unless it was a *file*: into a directory, as a third team
    # that `run` then served (reports and escalations for the example's people).
    tree = tmp_path / "clone"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "start", tree / "scripts" / "start")
    shutil.copy(ROOT / "sprint.example.toml", tree / "sprint.example.toml")
    shutil.copytree(ROOT / "examples" / "teams", tree / "teams")
    log = tmp_path / "sprintbot.log"
    _fake_venv(tree, log)
    env = {**os.environ, "SPRINTBOT_CONFIG": "teams"}
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(tree / "scripts" / "start")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tree / "teams").iterdir()) == ["mobile.toml", "platform.toml"]


# -- a database migrated by a newer release ---------------------------------------------


def _newer(tmp_path: Path) -> str:
    """A database the next release migrated (one revision past this one's HEAD)."""
    url = f"sqlite:///{tmp_path}/newer.db"
    upgrade(url)
    with sqlite3.connect(tmp_path / "newer.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (f"{int(HEAD) + 1:04d}",))
    return url


@pytest.mark.usefixtures("clean_env")
def test_db_upgrade_of_a_database_a_newer_release_migrated_is_one_line(
    tmp_path: Path,
) -> None:
    # A deploy rolled back (Procfile `release: sprintbot db upgrade`, the systemd units'
    # ExecStartPre) runs the older release's `db upgrade` against the newer schema: Alembic's
    # CommandError ("Can't locate revision identified by '0014'") ends it in a 60-line
    # traceback rather than one line saying the database is newer than this sprintbot.
    env = {**os.environ, "DATABASE_URL": _newer(tmp_path)}
    done = subprocess.run(
        [*SPRINTBOT, "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr[-600:]


@pytest.mark.usefixtures("clean_env")
def test_web_on_a_database_a_newer_release_migrated_does_not_send_to_db_upgrade(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # web/clock/run refuse a database at another revision with "run `sprintbot db upgrade`
    # first" even when it is *ahead*: the advice the operator follows ends in the traceback
    # above. (`sprintbot doctor` tells the two apart: "if the database is newer, run the
    # release that migrated it".)
    monkeypatch.setenv("DATABASE_URL", _newer(tmp_path))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(ROOT / "sprint.example.toml"))
    code = main(["web"])
    err = capsys.readouterr().err
    assert code == 1
    assert "run `sprintbot db upgrade` first" not in err, err


# -- Socket Mode: an app-level token Slack refuses ---------------------------------------


def test_web_with_an_app_token_slack_refuses_says_so_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # SLACK_APP_TOKEN revoked, of another app or without connections:write: apps.connections.open
    # answers invalid_auth and `sprintbot web` ends in slack_sdk's traceback (a rejected
    # SLACK_BOT_TOKEN is one line: "SLACK_BOT_TOKEN: Slack rejected the token (...)").
    env = process_env(tmp_path, fake_slack, free_port())
    env["SLACK_APP_TOKEN"] = "xapp-1-A1-revoked"  # the fake hands out no socket: invalid_auth
    # The database migrated as `sprintbot db upgrade` would, in-process: a process of its own
    # only to migrate cost ~0.5 s of start-up (that command is tested on its own).
    upgrade(env["DATABASE_URL"])
    proc = subprocess.Popen(
        [*SPRINTBOT, "web"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert "Traceback" not in out, out[-800:]
    assert "SLACK_APP_TOKEN" in out, out[-800:]


@pytest.mark.usefixtures("clean_env")
def test_doctor_checks_the_app_token_socket_mode_connects_with(
    monkeypatch: pytest.MonkeyPatch,
    fake_slack: FakeSlack,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # With SLACK_APP_TOKEN set the doctor says "settings: valid (Slack by Socket Mode and
    # HTTP)", skips the public URL as "not needed with Socket Mode", and never tries the app
    # token: every check passes (exit 0) for a token `web` cannot connect with.
    from bot.doctor import needed_scopes
    from tests.support.fakeslack import channel_id
    from tests.support.server import BOT_TOKEN, EXAMPLE, SIGNING_SECRET

    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "xapp-1-A1-revoked",
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(EXAMPLE),
    }.items():
        monkeypatch.setenv(name, value)
    fake_slack.scopes = needed_scopes()
    fake_slack.channels = {
        channel_id(c): {"name": c.removeprefix("#")}
        for c in ("#phase4-production-readiness", "#sprint-status", "#critical-blockers")
    }
    fake_slack.usergroups = {"S0EXECUTIVES": ["U0EXEC1", "U0EXEC2"]}
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1, out


# -- .env: a team's own API token --------------------------------------------------------


def _teams_with_own_token(tmp_path: Path) -> Path:
    teams = tmp_path / "teams"
    shutil.copytree(ROOT / "examples" / "teams", teams)
    platform = teams / "platform.toml"
    text = platform.read_text(encoding="utf-8")
    assert "\n[team]\n" in text
    platform.write_text(
        text.replace("\n[team]\n", '\n[team]\ningest_token_env = "PLATFORM_TOKEN"\n', 1),
        encoding="utf-8",
    )
    return teams


@pytest.mark.usefixtures("clean_env")
def test_a_teams_own_token_in_env_file_is_read_like_any_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/settings.md: settings come "from the environment, or from a `.env` file in the
    # directory it starts in", and a team's `PLATFORM_TOKEN` "is set in the bot's
    # environment like any setting". Put in .env (where every other secret of a local or
    # `scripts/start` install is), it is never read: `config check` says "(not set)" and the
    # API refuses that team's CI (401, or 503 "the API is disabled" without
    # SPRINTBOT_INGEST_TOKEN). Only os.environ is looked at (bot/web.py team_tokens,
    # bot/cli.py summarize_team).
    teams = _teams_with_own_token(tmp_path)
    (tmp_path / ".env").write_text("PLATFORM_TOKEN=platform-ci-token-123\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLATFORM_TOKEN", raising=False)
    code = main(["config", "check", str(teams)])
    out = capsys.readouterr().out
    assert code == 0
    assert "API token of its own: $PLATFORM_TOKEN (set)" in out, out


def test_the_api_takes_a_teams_own_token_from_env_file(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:

    from tests.support import httpc

    teams = _teams_with_own_token(tmp_path)
    (tmp_path / ".env").write_text("PLATFORM_TOKEN=platform-ci-token-123\n", encoding="utf-8")
    port = free_port()
    env = process_env(tmp_path, fake_slack, port)
    env["SPRINTBOT_CONFIG"] = str(teams)
    env.pop("SPRINTBOT_INGEST_TOKEN", None)
    env.pop("PLATFORM_TOKEN", None)
    with web_process(env, tmp_path) as web:
        resp = httpc.get(
            f"{web.base}/api/v1/sprint",
            headers={"Authorization": "Bearer platform-ci-token-123"},
            timeout=10,
        )
    assert resp.status_code == 200, resp.text
