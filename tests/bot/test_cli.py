"""The `sprintbot` command line: exit codes, one-line errors, summaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage import queries
from storage.db import Database
from storage.migrate import HEAD
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN, EXAMPLE, SIGNING_SECRET, Clock

SPRINTBOT = Path(sys.executable).parent / "sprintbot"


pytestmark = pytest.mark.usefixtures("clean_env")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_config_check_valid_file_summarises_and_warns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "config", "check", str(EXAMPLE))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{EXAMPLE}: valid"
    assert "components: 17 in 6 groups (12 tests, 2 manual, 3 metrics), weights sum to 100" in out
    assert "starting readiness from the components' scores: 71.55 %" in out
    assert (
        "warning: targets.baseline_readiness: states 67 % but the components' starting scores "
        "weigh in at 71.55 %" in lines
    )
    assert (
        "warning: baseline.failing_tests: states 341 but total - passing = 2124 - 1717 = 407"
        in lines
    )
    assert len(lines) <= 24  # one screen


def test_config_check_warns_where_the_plan_misses_the_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "config", "check", str(EXAMPLE))
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: targets.baseline_readiness: states 67 % but the components' starting scores "
        "weigh in at 71.55 %",
        "warning: baseline.failing_tests: states 341 but total - passing = 2124 - 1717 = 407",
        "warning: baseline.failing_tests: states 341 but baseline.areas add up to 407",
        "warning: plan.passing: ends at 1,867 passing but targets.pass_rate 87 % of the 2,124 "
        "known tests is 1,848 passing (276 failing); the plan is rescaled to the target",
    ]


def test_config_check_lists_every_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    text = text.replace('notify = "executives"', 'notify = "cto"')
    text = text.replace('after = "8h"', 'after = "8 hours"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    code, out, err = run(capsys, "config", "check", str(bad))
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"{bad}: 2 errors",
        '  escalation[1].after: "8 hours" is not a duration; write e.g. "30m", "4h" or "2d"',
        '  escalation[3].notify: unknown role "cto"; use a channel key or role (admins, blockers, '
        "executives, participants, product_owner, qa_lead, security, status, team, tech_lead) "
        "or Slack IDs",
    ]


def test_config_check_defaults_to_sprintbot_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "config", "check")
    assert (code, err) == (1, "sprint.toml: file not found (set SPRINTBOT_CONFIG)\n")
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    assert run(capsys, "config", "check")[0] == 0


def test_db_upgrade_creates_the_schema(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    code, out, _ = run(capsys, "db", "upgrade")
    assert (code, out) == (0, f"database is at revision {HEAD}\n")
    # It logs each migration it ran, not Alembic's set-up (seven plugins, a line each).
    assert f"Running upgrade {int(HEAD) - 1:04d} -> {HEAD}, " in caplog.text
    assert "plugin" not in caplog.text, caplog.text
    code, out, _ = run(capsys, "db", "upgrade")  # idempotent
    assert code == 0


def test_web_without_token_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "web")
    assert (code, err) == (1, "SLACK_BOT_TOKEN is not set; it is needed to talk to Slack\n")


def test_an_empty_signing_secret_is_not_a_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bolt would take it and refuse every request Slack signs (401): refused at start.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", " ")
    code, _, err = run(capsys, "web")
    assert (code, err) == (1, "SLACK_SIGNING_SECRET is not set; it is needed to talk to Slack\n")
    # An empty one (`SLACK_SIGNING_SECRET=` as .env.example has it) is unset too, and a
    # command that needs no Slack runs with it.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert run(capsys, "db", "upgrade")[0] == 0


def test_malformed_setting_stops_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_API_URL", "not a url")
    code, _, err = run(capsys, "web")
    assert code == 1
    assert err == "SLACK_API_URL: must be an http(s) URL such as https://slack.com/api/\n"


def test_web_refuses_an_unmigrated_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    code, _, err = run(capsys, "web")
    assert code == 1
    assert (
        err == f"the database is at revision none, not {HEAD}: run `sprintbot db upgrade` first\n"
    )


def test_web_refuses_a_bad_sprint_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "sprint.toml"
    bad.write_text(EXAMPLE.read_text().replace("days = 14", "days = 0"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    code, _, err = run(capsys, "web")
    assert code == 1
    assert err.startswith("sprint.toml: sprint.days: Input should be greater than or equal to 1")
    assert err.count("\n") == 1


def test_job_list_and_unknown_job(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "job", "list")
    assert code == 0
    # DESIGN.md's job names, every one.
    names = [
        "daily-report",
        "weekly-report",
        "blocker-escalation",
        "standup-prompt",
        "standup-reminder",
        "standup-digest",
        "alert-followup",
        "quarantine-expiry",
        "outbox",
        "retention",
    ]
    assert [line.split()[0] for line in out.splitlines() if not line.startswith(" ")] == names
    code, _, err = run(capsys, "job", "run", "nope")
    assert (code, err) == (2, f"unknown job 'nope'; jobs: {', '.join(names)}\n")


def test_job_run_outbox_drains_once(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    clock: Clock,
) -> None:
    with db.session() as s:
        queries.enqueue(
            session=s,
            key="hello",
            method="chat.postMessage",
            payload={"channel": "#sprint-status", "text": "hello"},
            now=clock(),
        )
        s.commit()
    for name, value in (
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", fake_slack.url),
        ("DATABASE_URL", database_url),
        ("SPRINTBOT_CONFIG", str(EXAMPLE)),
    ):
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "job", "run", "outbox", "--at", "2025-10-31T10:00:00-04:00")
    assert (code, out) == (0, "outbox: sent 1, retrying 0, failed 0, waiting 0\n"), err
    assert [c.args["text"] for c in fake_slack.calls_to("chat.postMessage")] == ["hello"]
    code, out, _ = run(capsys, "job", "run", "outbox")
    assert out == "outbox: sent 0, retrying 0, failed 0, waiting 0\n"
    code, _, err = run(capsys, "job", "run", "outbox", "--at", "tomorrow")
    assert code == 2 and "not an ISO-8601 time" in err


def test_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "manifest", "https://bot.example.com/")
    assert code == 0
    m = json.loads(out)
    commands = m["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [
        "/standup",
        "/blocker",
        "/risk",
        "/readiness",
        "/sprint",
        "/tests",
    ]
    assert {c["url"] for c in commands} == {"https://bot.example.com/slack/events"}
    assert m["settings"]["interactivity"]["request_url"] == "https://bot.example.com/slack/events"
    assert "chat:write" in m["oauth_config"]["scopes"]["bot"]
    code, out, _ = run(capsys, "manifest", "--socket-mode")
    assert code == 0 and json.loads(out)["settings"]["socket_mode_enabled"] is True
    assert run(capsys, "manifest", "http://insecure.example.com")[0] == 2
    assert run(capsys, "manifest")[0] == 2


def test_version_is_the_installed_package_s(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    out, err = capsys.readouterr()
    assert (done.value.code, out, err) == (0, f"sprintbot {version('sprintbot')}\n", "")
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert version("sprintbot") == project["project"]["version"]  # as pip recorded it


def test_env_example_explains_every_setting_and_works_once_filled_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import re

    from bot.settings import Settings, build_settings

    text = (Path(__file__).parents[2] / ".env.example").read_text()
    lines = text.splitlines()
    given = {
        m[1]: (i, m[2])
        for i, line in enumerate(lines)
        if (m := re.fullmatch(r"(?:# )?([A-Z][A-Z0-9_]+)=(.*)", line))
    }
    assert set(given) == set(Settings.model_fields)
    for name, (i, value) in given.items():
        field = Settings.model_fields[name]
        above = lines[i - 1]
        assert above.startswith("# ") and not re.match(r"# [A-Z_]+=", above), name
        if "SecretStr" in str(field.annotation):
            assert value == "", f"{name}: a secret, given a value"
        elif value:
            assert value == str(field.default), f"{name}: not its default"
    # Copied as it is, it stops the bot with the line naming what to fill in.
    (tmp_path / ".env").write_text(text)
    code, _, err = run(capsys, "clock")
    assert (code, err) == (1, "SLACK_BOT_TOKEN is not set; it is needed to talk to Slack\n")
    # Filled in, with every default uncommented: the settings read are the defaults.
    filled = text.replace("SLACK_BOT_TOKEN=\n", f"SLACK_BOT_TOKEN={BOT_TOKEN}\n")
    filled = filled.replace("SLACK_SIGNING_SECRET=\n", f"SLACK_SIGNING_SECRET={SIGNING_SECRET}\n")
    (tmp_path / ".env").write_text(re.sub(r"^# ([A-Z_]+=.+)$", r"\1", filled, flags=re.M))
    settings = build_settings()
    settings.require_slack()
    assert settings.secret("SLACK_BOT_TOKEN") == BOT_TOKEN
    assert settings.model_dump(exclude={"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}) == {
        name: field.default
        for name, field in Settings.model_fields.items()
        if name not in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    }


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert err.startswith("sprintbot: argument command: invalid choice: 'frobnicate'")
    assert err.count("\n") == 1


@pytest.mark.skipif(not SPRINTBOT.exists(), reason="console script not installed")
def test_console_script_is_installed() -> None:
    done = subprocess.run(
        [str(SPRINTBOT), "config", "check", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "71.55 %" in done.stdout


def test_output_into_a_closed_pipe_stops_quietly() -> None:
    """`sprintbot config check | head -1`: once the reader has gone, the command stops
    without a traceback, with the status of a process SIGPIPE ends (found: BrokenPipeError,
    then "Exception ignored" while flushing at exit)."""
    proc = subprocess.Popen(
        [str(SPRINTBOT), "config", "check", str(EXAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes before the command writes a line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


TEAMS = Path(__file__).resolve().parents[2] / "examples" / "teams"


def test_config_check_summarises_each_team_of_a_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "config", "check", str(TEAMS), "--at", "2025-11-14T15:00Z")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{TEAMS}: valid, 2 teams",
        "team mobile: Mobile Apps (mobile.toml), zone Europe/Berlin",
        "  channels: team #mobile, status #sprint-status, blockers #mobile-blockers",
        "  people: 2 named in roles; participants members of #mobile",
        "  components: 2 in 2 groups (2 tests, 0 manual, 0 metrics): Sync, UI",
        "  sprints:",
        "    Offline Sync: 2025-11-03 to 2025-11-16, 14 days (current)",
        "team platform: Core Platform (platform.toml), zone America/New_York",
        "  channels: team #platform, status #sprint-status, blockers #critical-blockers",
        "  people: 4 named in roles; participants listed",
        "  components: 3 in 3 groups (1 tests, 1 manual, 1 metrics): Task Orchestration, "
        "API Performance, Runbooks",
        "  sprints:",
        "    Phase 4 Production Readiness: 2025-10-29 to 2025-11-11, 14 days (ended)",
        "    Phase 5 Hardening: 2025-11-12 to 2025-11-21, 10 days (current)",
    ]


def test_config_check_says_when_a_team_is_between_sprints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "config", "check", str(TEAMS / "platform.toml"), "--at", "2025-10-20T12:00Z"
    )
    assert code == 0
    assert "    Phase 4 Production Readiness: 2025-10-29 to 2025-11-11, 14 days (next)" in out
    assert "    Phase 5 Hardening: 2025-11-12 to 2025-11-21, 10 days (later)" in out
    assert "  no sprint running; the next starts on 2025-10-29" in out.splitlines()


def test_config_check_refuses_a_bad_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "config", "check", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == f"{tmp_path}: no team files (*.toml) in this directory\n"
    for f in TEAMS.glob("*.toml"):
        (tmp_path / f.name).write_text(f.read_text().replace('"#mobile"', '"#platform"'))
    code, out, err = run(capsys, "config", "check", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{tmp_path}: 1 error",
        '  platform.toml: channels.team: "#platform" is already the team channel of team '
        '"mobile" (mobile.toml)',
    ]


def test_config_check_warns_of_a_team_named_like_a_command_word(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / "mobile.toml").write_text((TEAMS / "mobile.toml").read_text(encoding="utf-8"))
    platform = (TEAMS / "platform.toml").read_text(encoding="utf-8")
    (teams / "review.toml").write_text(platform.replace('id = "platform"', 'id = "review"'))
    code, out, _ = run(capsys, "config", "check", str(teams))
    assert code == 0
    assert (
        'warning: team "review": `/sprint review` means /sprint\'s own "review", not the team; '
        "its people reach it from its channel or the team buttons"
    ) in out.splitlines()
    assert out.count("warning: team") == 1


def test_commands_that_need_no_runtime_do_not_load_it() -> None:
    """`sprintbot --help` and `config check` answer in a fraction of a second: neither loads
    the runtime (Bolt, the outbox, the figures), which took 0.9 s of `--help`'s 1.2."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        f"code = main(['config', 'check', {str(EXAMPLE)!r}])\n"
        "heavy = [m for m in ('bot.runtime', 'jobs.figures', 'slack_bolt') if m in sys.modules]\n"
        "print('loaded:', heavy, code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loaded: [] 0"
