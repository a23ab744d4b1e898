"""`sprintbot config check` and the CLI where they misled (found by review): a one-sprint
file's own token, `[[sprint]]`, `--team`, a team table too long for one sprint, a malformed
setting beside SPRINTBOT_CONFIG."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE, TEAMS

pytestmark = pytest.mark.usefixtures("clean_env")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_one_sprint_files_own_api_token_is_not_sent_in_a_circle(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """README: "`[team]` may also name `branch` and `ingest_token_env`". In a one-sprint file
    (`[sprint]`, e.g. one of a directory's teams) config check refuses [team] ingest_token_env
    saying "a file with [sprint] keeps it in [sprint]"; moved there, it is refused again as
    an unknown key: the advice leads nowhere. Either take it or say what does work."""
    text = EXAMPLE.read_text(encoding="utf-8")
    in_team = text.replace(
        "[sprint]\n", '[team]\nid = "core"\ningest_token_env = "CORE_TOKEN"\n\n[sprint]\n', 1
    )
    in_sprint = text.replace("[sprint]\n", '[sprint]\ningest_token_env = "CORE_TOKEN"\n', 1)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "core.toml", tmp_path / "b" / "core.toml"
    first.write_text(in_team, encoding="utf-8")
    second.write_text(in_sprint, encoding="utf-8")
    code, _, err = run(capsys, "config", "check", str(first))
    if code == 0:
        return  # taken, as the README says [team] may name it
    code2, _, err2 = run(capsys, "config", "check", str(second))
    # Refused where it is, then refused where the first error said to put it.
    assert not ("keeps it in [sprint]" in err and code2 != 0), err + err2


def test_sprints_misspelled_as_sprint_array_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A team file whose `[[sprints]]` is typed `[[sprint]]` is told about [team]'s
    timezone and workdays only ("keeps it in [sprint]"): nothing names the real mistake,
    the sprint list's name. The reply should name `sprint` and say `[[sprints]]`."""
    text = (TEAMS / "mobile.toml").read_text(encoding="utf-8")
    text = text.replace("[[sprints]]", "[[sprint]]").replace(
        "[[sprints.milestones]]", "[[sprint.milestones]]"
    )
    path = tmp_path / "mobile.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "config", "check", str(path))
    assert code == 1
    problems = [line.strip() for line in err.splitlines()[1:]]
    assert any("[[sprints]]" in p for p in problems), problems


def test_a_command_without_team_says_how_to_name_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With several teams `sprintbot export tracker` (job run, ingest) without --team exits 1
    with "SPRINTBOT_CONFIG names 2 teams (mobile, platform): say which" — it never says
    how (`--team ID`), which the README's table documents."""
    from bot.settings import build_settings
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'x.db'}"
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "secret",
        "DATABASE_URL": url,
        "SPRINTBOT_CONFIG": str(TEAMS),
    }.items():
        monkeypatch.setenv(name, value)
    upgrade(build_settings().DATABASE_URL)
    code, out, err = run(capsys, "export", "tracker")
    assert code != 0 and out == ""
    assert "--team" in err, err


def test_a_team_table_too_long_for_one_sprint_names_that_sprint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """platform.toml's sprints have 14 and 10 days; `weekly_report_days = [7, 14]` is
    refused with "day 14 is out of range: the sprint has days 1-10" — which sprint? The
    file's first sprint (the one a reader sees first) has 14 days; the line should name
    the sprint that is too short (sprints[1] / "Phase 5 Hardening")."""
    (tmp_path / "teams").mkdir()
    text = (TEAMS / "platform.toml").read_text(encoding="utf-8")
    text = text.replace("[schedule]", "[schedule]\nweekly_report_days = [7, 14]", 1)
    (tmp_path / "teams" / "platform.toml").write_text(text, encoding="utf-8")
    (tmp_path / "teams" / "mobile.toml").write_text(
        (TEAMS / "mobile.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, _, err = run(capsys, "config", "check", str(tmp_path / "teams"))
    assert code == 1
    [line] = [line for line in err.splitlines() if "weekly_report_days" in line]
    assert line.endswith('(in sprints[1] "Phase 5 Hardening")'), line


def test_config_check_reads_sprintbot_config_even_when_another_setting_is_malformed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPRINTBOT_CONFIG=teams/ and a typo in an unrelated setting (SPRINTBOT_LOG_LEVEL=verbose):
    `sprintbot config check` silently falls back to ./sprint.toml — "sprint.toml: file not
    found (set SPRINTBOT_CONFIG)" though it is set, or, where an old sprint.toml lies in the
    directory, "valid" for a file the bot does not read. It should check SPRINTBOT_CONFIG
    (or name the malformed setting)."""
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(TEAMS))
    monkeypatch.setenv("SPRINTBOT_LOG_LEVEL", "verbose")
    # An old one-team file left in the working directory (clean_env chdirs to tmp_path).
    (tmp_path / "sprint.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run(capsys, "config", "check")
    assert code == 0, err
    assert out.startswith(f"{TEAMS}: valid, 2 teams"), out.splitlines()[:1]
