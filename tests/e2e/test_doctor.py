"""`sprintbot doctor` against the fake Slack, a real database and the real web server: the
checklist an operator reads, a fix for each failure, and the exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.doctor import needed_scopes
from storage.migrate import HEAD, upgrade
from tests.support.fakeslack import FakeSlack, channel_id
from tests.support.server import BOT_TOKEN, EXAMPLE, SIGNING_SECRET, Server, two_teams

pytestmark = pytest.mark.usefixtures("clean_env")

# The example sprint file's channels, users and user group.
CHANNELS = ("#phase4-production-readiness", "#sprint-status", "#critical-blockers")
GROUPS = {"S0EXECUTIVES": ["U0EXEC1", "U0EXEC2"]}


def workspace(fake: FakeSlack, *channels: str) -> None:
    """A workspace where the app was installed as the manifest asks: every scope granted,
    `channels` exist (the bot in each), and every user and the example's user group exist."""
    fake.scopes = needed_scopes()
    fake.channels = {channel_id(c): {"name": c.removeprefix("#")} for c in channels}
    fake.usergroups = dict(GROUPS)


@pytest.fixture
def installed(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, database_url: str
) -> FakeSlack:
    """Settings for the fake Slack, the suite's migrated database and the example file."""
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(EXAMPLE),
    }.items():
        monkeypatch.setenv(name, value)
    workspace(fake_slack, *CHANNELS)
    return fake_slack


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def fixes(lines: list[str]) -> dict[str, str]:
    """Each failed line and the fix printed under it."""
    found = {}
    for i, line in enumerate(lines):
        if line.startswith("✗"):
            fix = next(x for x in lines[i + 1 :] if x.startswith("    fix: "))
            found[line] = fix.removeprefix("    fix: ")
    return found


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_copy(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_installation_passes_every_check(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, server: Server
) -> None:
    code, lines, err = doctor(capsys, "--url", server.url)
    assert code == 0, "\n".join(lines) + err
    assert lines == [
        "✓ settings: valid (Slack by HTTP)",
        f"✓ database: reachable, migrated to revision {HEAD}",
        f"✓ sprint files: {EXAMPLE} valid, 1 team (sprint-example); 4 warnings "
        "(`sprintbot config check` lists them)",
        "✓ Slack token: accepted, the bot is @sprintbot in Test",
        f"✓ scopes: all {len(needed_scopes())} the bot needs are granted",
        "✓ channel #phase4-production-readiness (channels.team in sprint.example.toml): "
        "found, the bot is a member",
        "✓ channel #sprint-status (channels.status in sprint.example.toml): found, the bot "
        "is a member",
        "✓ channel #critical-blockers (channels.blockers in sprint.example.toml): found, the "
        "bot is a member",
        "✓ users: 4 named, all found",
        "✓ user groups: 1 named, all found",
        f"✓ public URL {server.url}/slack/events: reachable, refuses unsigned requests (401)",
        "",
        "11 passed, 0 failed, 0 skipped",
    ]
    assert err == ""
    # It looked and changed nothing: no message posted, no channel joined.
    assert not installed.calls_to("chat.postMessage")
    assert not installed.calls_to("conversations.join")
    looked_up = {c.args["user"] for c in installed.calls_to("users.info")}
    assert looked_up == {"U0TECHLEAD", "U0QALEAD", "U0PRODOWNER", "U0SECURITY"}


def test_a_rejected_token_fails_and_skips_what_needs_slack(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    installed.fail("auth.test", error="invalid_auth")
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        "✗ Slack token: Slack rejected SLACK_BOT_TOKEN (invalid_auth)": "copy the Bot User "
        "OAuth Token (xoxb-…) from OAuth & Permissions at https://api.slack.com/apps into "
        "SLACK_BOT_TOKEN; if the app was uninstalled, install it again first"
    }
    assert lines[5:] == [
        "- scopes: skipped, no working Slack token",
        "- channels: skipped, no working Slack token",
        "- people: skipped, no working Slack token",
        "- public URL: skipped, give --url https://your-bot.example.com to check it (not "
        "needed with Socket Mode)",
        "",
        "3 passed, 1 failed, 4 skipped: fix the failures above and run `sprintbot doctor` again",
    ]
    assert not installed.calls_to("conversations.info")


def test_slack_out_of_reach_fails_the_token_check(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api/"
    monkeypatch.setenv("SLACK_API_URL", api)
    code, lines, _ = doctor(capsys)
    assert code == 1
    [(failed, fix)] = fixes(lines).items()
    assert failed.startswith(f"✗ Slack token: cannot reach Slack at {api} (")
    assert fix == "check that this machine reaches Slack (proxy, firewall) and SLACK_API_URL"


def test_a_scope_not_granted_is_named_with_the_way_to_grant_it(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    installed.scopes = [s for s in needed_scopes() if s not in ("files:write", "channels:join")]
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        "✗ scopes: not granted: files:write, channels:join": "add them under OAuth & "
        "Permissions → Bot Token Scopes at https://api.slack.com/apps (or create the app from "
        "`sprintbot manifest`), then reinstall the app: a token keeps the scopes it was "
        "installed with"
    }
    assert (
        "✓ channel #sprint-status (channels.status in sprint.example.toml): found, the bot "
        "is a member" in lines
    )  # the rest is still checked


def test_every_teams_channels_are_checked_and_a_missing_one_named_with_its_file(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(two_teams(tmp_path / "teams")))
    workspace(installed, "#platform", "#sprint-status", "#critical-blockers")  # no #mobile
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert [line for line in lines if " channel " in line] == [
        "✗ channel #mobile (channels.team in mobile.toml): not found",
        "✓ channel #sprint-status (channels.status in mobile.toml; channels.status in "
        "platform.toml): found, the bot is a member",
        "✓ channel #critical-blockers (channels.blockers in mobile.toml; channels.blockers "
        "in platform.toml): found, the bot is a member",
        "✓ channel #platform (channels.team in platform.toml): found, the bot is a member",
    ]
    assert fixes(lines) == {
        "✗ channel #mobile (channels.team in mobile.toml): not found": "create it or correct "
        "the name or ID in the file; if it is private, invite the bot: /invite @sprintbot in "
        "#mobile"
    }
    assert "✓ users: 5 named, all found" in lines  # both teams' people, each once


def test_a_channel_id_slack_does_not_know_is_not_found(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path = example_copy(tmp_path, ('status = "#sprint-status"', 'status = "CGONE"'))
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(path))
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        "✗ channel CGONE (channels.status in sprint.toml): not found": "create it or correct "
        "the name or ID in the file; if it is private, invite the bot: /invite @sprintbot in "
        "CGONE"
    }


def test_a_public_channel_without_the_bot_is_joined_with_join(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    installed.member_of = {"C0TEAM", "CCRITICALBLOCKERS"}
    code, lines, _ = doctor(capsys)
    # Public: posted to without joining; the sender joins it where Slack wants a member.
    assert code == 0, "\n".join(lines)
    assert (
        "✓ channel #sprint-status (channels.status in sprint.example.toml): found; the bot is "
        "not a member yet and joins it when it first shares a chart there (`sprintbot doctor "
        "--join` joins it now)" in lines
    )
    assert not installed.calls_to("conversations.join")  # only when asked

    code, lines, _ = doctor(capsys, "--join")
    assert code == 0, "\n".join(lines)
    assert (
        "✓ channel #sprint-status (channels.status in sprint.example.toml): found, the bot "
        "joined it" in lines
    )
    assert [c.args["channel"] for c in installed.calls_to("conversations.join")] == [
        "CSPRINTSTATUS"
    ]
    code, lines, _ = doctor(capsys)  # and it stays in
    assert code == 0, "\n".join(lines)


def test_a_join_slack_refuses_says_to_invite_the_bot(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    installed.member_of = {"C0TEAM", "CCRITICALBLOCKERS"}
    installed.fail("conversations.join", error="missing_scope")
    code, lines, _ = doctor(capsys, "--join")
    assert code == 1
    assert fixes(lines) == {
        "✗ channel #sprint-status (channels.status in sprint.example.toml): the bot could not "
        "join (missing_scope)": "invite the bot: /invite @sprintbot in #sprint-status"
    }


def test_a_private_channel_without_the_bot_says_to_invite_it(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path = example_copy(tmp_path, ('blockers = "#critical-blockers"', 'blockers = "GSECRET"'))
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(path))
    installed.channels["GSECRET"] = {"name": "incidents", "is_private": True}
    installed.member_of = {"C0TEAM", "CSPRINTSTATUS"}
    code, lines, _ = doctor(capsys, "--join")
    assert code == 1
    assert fixes(lines) == {
        "✗ channel #incidents (channels.blockers in sprint.toml): private, and the bot is not "
        "in it": "invite the bot: /invite @sprintbot in #incidents"
    }
    assert not installed.calls_to("conversations.join")  # Slack lets no bot join a private one


def test_unknown_users_and_user_groups_are_named_with_where_they_are_used(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    installed.users = {"U0TECHLEAD", "U0QALEAD", "U0SECURITY"}  # no U0PRODOWNER
    installed.usergroups = {}
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        "✗ user U0PRODOWNER (people.product_owner in sprint.example.toml): not found": "use "
        "the member ID from their Slack profile (⋮ → Copy member ID)",
        "✗ user group S0EXECUTIVES (people.executives in sprint.example.toml): not found": "use "
        "the group's ID (S…): "
        "in Slack, People → User groups, the group's ⋮ → Copy group ID",
    }


@pytest.mark.parametrize(
    ("answer", "failed", "fix"),
    [
        (
            "closed",
            "unreachable (",
            "check the URL, its DNS and TLS certificate, and that `sprintbot web` runs behind it",
        ),
        (
            "fake",  # the fake Slack answers anything 200: it checks no signature
            "accepted a request Slack did not sign (200)",
            "the server there does not verify Slack's signatures: point the URL at "
            "`sprintbot web`, which does with SLACK_SIGNING_SECRET",
        ),
    ],
)
def test_a_public_url_that_is_not_sprintbot_verifying_fails(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, answer: str, failed: str, fix: str
) -> None:
    port = closed_port() if answer == "closed" else installed.port
    url = f"http://127.0.0.1:{port}"
    code, lines, _ = doctor(capsys, "--url", url)
    assert code == 1
    [(line, said)] = fixes(lines).items()
    assert line.startswith(f"✗ public URL {url}/slack/events: {failed}")
    assert said == fix


def test_a_database_not_migrated_says_to_upgrade_it(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        f"✗ database: {tmp_path}/new.db does not exist": "run `sprintbot db upgrade` to create "
        "and migrate it, or correct DATABASE_URL (a relative path is read from the working "
        "directory)"
    }
    assert not (tmp_path / "new.db").exists()  # looking left nothing behind

    (tmp_path / "new.db").touch()
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        "✗ database: reachable but not migrated (no tables yet)": "run `sprintbot db upgrade` "
        "(the Procfile's release step does it on each deploy)"
    }
    assert lines[-1].startswith("9 passed, 1 failed, 1 skipped")  # Slack checked all the same

    upgrade(f"sqlite:///{tmp_path}/new.db", revision="0001")
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert fixes(lines) == {
        f"✗ database: at revision 0001, this sprintbot needs {HEAD}": "run `sprintbot db "
        "upgrade`; if the database is newer, run the release that migrated it"
    }


def test_a_database_out_of_reach_is_said(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{closed_port()}/none")
    code, lines, _ = doctor(capsys)
    assert code == 1
    [(line, fix)] = fixes(lines).items()
    assert line.startswith("✗ database: cannot connect (OperationalError: ")
    assert fix == "check DATABASE_URL and that the database server runs and lets this machine in"


def test_bad_settings_fail_first_and_skip_what_needs_them(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    code, lines, err = doctor(capsys)
    assert code == 1
    assert err == ""
    assert lines == [
        "✗ settings: SLACK_BOT_TOKEN: must be a bot token starting with xoxb-",
        "    fix: correct it in the environment or in .env",
        "- database: skipped, the settings are not valid",
        "- sprint files: skipped, the settings are not valid",
        "- Slack token: skipped, the settings are not valid",
        "- scopes: skipped, the settings are not valid",
        "- channels: skipped, the settings are not valid",
        "- people: skipped, the settings are not valid",
        "- public URL: skipped, give --url https://your-bot.example.com to check it (not "
        "needed with Socket Mode)",
        "",
        "0 passed, 1 failed, 7 skipped: fix the failures above and run `sprintbot doctor` again",
    ]
    assert not installed.calls


def test_missing_slack_secrets_are_named(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert lines[0] == (
        "✗ settings: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET not set (web, clock and run "
        "need them)"
    )
    assert "- Slack token: skipped, SLACK_BOT_TOKEN is not set" in lines
    assert "✓ sprint files:" in "\n".join(lines)


def test_an_invalid_sprint_file_lists_its_errors_and_skips_channels_and_people(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path = example_copy(tmp_path, ('notify = "executives"', 'notify = "cto"'))
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(path))
    code, lines, _ = doctor(capsys)
    assert code == 1
    at = lines.index(f"✗ sprint files: {path}: 1 error")
    assert lines[at + 1].startswith('      escalation[3].notify: unknown role "cto"')
    assert (
        lines[at + 2]
        == f"    fix: correct each key named; `sprintbot config check {path}` checks again"
    )
    assert "- channels: skipped, no valid sprint file" in lines
    assert "- people: skipped, no valid sprint file" in lines


def test_a_url_slack_cannot_call_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], installed: FakeSlack
) -> None:
    code, lines, err = doctor(capsys, "--url", "http://bot.example.com")
    assert code == 2
    assert lines == []
    assert err == (
        "--url 'http://bot.example.com': Slack calls https:// URLs only (http:// is for this "
        "machine, e.g. http://127.0.0.1:3000)\n"
    )
    assert not installed.calls


def test_the_process_prints_plain_ascii_where_the_output_cannot_show_marks(
    installed: FakeSlack, tmp_path: Path
) -> None:
    installed.scopes = ["commands"]  # its fix names a menu path: OAuth & Permissions → …
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))},
        "PYTHONIOENCODING": "ascii",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": installed.url,
        "DATABASE_URL": "sqlite:///bot.db",  # none in the working directory
        "SPRINTBOT_CONFIG": str(EXAMPLE),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "[ok] settings: valid (Slack by HTTP)"
    assert lines[1:3] == [
        "[FAIL] database: bot.db does not exist",
        "    fix: run `sprintbot db upgrade` to create and migrate it, or correct DATABASE_URL "
        "(a relative path is read from the working directory)",
    ]
    assert "[ok] Slack token: accepted, the bot is @sprintbot in Test" in lines
    missing = ", ".join(s for s in needed_scopes() if s != "commands")
    fix = lines[lines.index(f"[FAIL] scopes: not granted: {missing}") + 1]
    assert fix.startswith("    fix: add them under OAuth & Permissions -> Bot Token Scopes at ")
    assert lines[-1].startswith("8 passed, 2 failed, 1 skipped")
    assert done.stderr == ""
