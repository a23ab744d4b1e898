"""Test owners end to end: a sprint file with `[[owners]]` and a CODEOWNERS file, recorded
pytest runs posted to the HTTP API, and the alert, its follow-up and the mute notice the
fake Slack receives mentioning the owners of the tests that broke."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import clock as bot_clock
from tests.support.e2e import _alert_id, click, post_report, posts, responses, text_of
from tests.support.server import Server
from tests.support.slack import slash

ROOT = Path(__file__).resolve().parents[2]

CODEOWNERS = """\
# Default owners: the QA group.
*                  @acme/qa
/tests/memory/     @bob
/tests/cli/        @alice @acme/cli   # @acme/cli has no Slack group yet
"""

OWNED = """
[[owners]]
tests = ["tests/swarm/**", "swarm.*"]
notify = ["U0SWARMLEAD"]

[codeowners]
file = "CODEOWNERS"
handles = { "@acme/qa" = "S0QA", "@bob" = "U0BOB", "@alice" = "U0ALICE" }
"""


def owned_sprint(tmp_path: Path) -> Path:
    (tmp_path / "CODEOWNERS").write_text(CODEOWNERS)
    path = tmp_path / "sprint.toml"
    path.write_text((ROOT / "sprint.example.toml").read_text() + OWNED)
    return path


def alert_of(server: Server) -> tuple[str, str]:
    """The regression alert's text and key, from the second recorded run."""
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2", commit="bbb222")
    assert second.status_code == 201, second.text
    server.runtime.sender.drain()
    alert = next(p for p in posts(server) if "regressed on main" in text_of(p))
    return text_of(alert), second.json()["alert"]


def test_the_alert_mentions_each_owner_once_and_the_follow_up_pings_them(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    text, key = alert_of(server)
    # The swarm tests by [[owners]], the CLI and memory tests by CODEOWNERS' later rules.
    owners = next(line for line in text.splitlines() if line.startswith("*Owners:*"))
    assert owners == (
        "*Owners:* <@U0ALICE> (`test_list_json`) · <@U0BOB> (`test_snapshot`) · "
        "<@U0SWARMLEAD> (`test_leader_election`, `test_scale_out[64]`, "
        "`test_consensus_under_partition`)"
    )
    for who in ("<@U0SWARMLEAD>", "<@U0ALICE>", "<@U0BOB>"):
        assert text.count(who) == 1
    assert "S0QA" not in text  # `*` is overridden by the later rules
    assert "<!channel>" not in text and "<!here>" not in text
    assert "if no one picks it up, the owners are pinged again" in text

    # Nobody takes it within regression_ack: the owners are pinged, not the tech lead.
    server.clock.at += timedelta(hours=1, minutes=1)
    assert bot_clock.run_job(server.runtime, "alert-followup") == (
        "alert-followup: 1 alerts followed up"
    )
    followup = text_of(posts(server)[-1])
    assert "can you take a look or hand it to someone?" in followup
    for who in ("<@U0SWARMLEAD>", "<@U0ALICE>", "<@U0BOB>"):
        assert who in followup
    assert "U0TECHLEAD" not in followup

    # Muting the tests as flaky tells their owners.
    click(server, "alert_mute", str(_alert_id(server, key)), user="U0QALEAD")
    assert responses(server, 1)[-1].args["text"] == "Muted 5 tests as flaky."
    server.runtime.sender.drain()
    muted = text_of(posts(server)[-1])
    assert muted.startswith(":mute: <@U0QALEAD> muted 5 tests as flaky")
    assert "Owners: <@U0ALICE> <@U0BOB> <@U0SWARMLEAD>." in muted


def test_without_owners_the_tech_lead_is_still_pinged(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    # Only the example's own [[owners]] (tests/security/**): none of these tests.
    server = make_server()
    text, _ = alert_of(server)
    assert "*Owners:*" not in text
    assert "the tech lead is pinged" in text
    server.clock.at += timedelta(hours=1, minutes=1)
    bot_clock.run_job(server.runtime, "alert-followup")
    assert "<@U0TECHLEAD>, can you take a look" in text_of(posts(server)[-1])


def test_a_missing_codeowners_file_stops_the_server_with_its_key(tmp_path: Path) -> None:
    from jobs.config import ConfigError, load_org

    path = owned_sprint(tmp_path)
    (tmp_path / "CODEOWNERS").unlink()
    try:
        load_org(path)
    except ConfigError as exc:
        assert exc.problems == [
            f"codeowners.file: {tmp_path / 'CODEOWNERS'} not found "
            "(a relative path is read from the sprint file's folder)"
        ]
    else:
        raise AssertionError("a missing CODEOWNERS file was accepted")


def test_a_blocker_on_an_owned_component_suggests_its_owner(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    filed = slash(server.url, "/blocker", "P1 swarm coordination: leader flaps", user_id="U0DEV")
    assert filed.json()["text"].startswith(":no_entry: B-001 filed in #critical-blockers")
    server.runtime.sender.drain()
    [posted] = [p for p in posts(server) if p.args["channel"] == "#critical-blockers"]
    assert "*Owner*\nunowned (component owner: <@U0SWARMLEAD>)" in text_of(posted)

    # Taken: the suggestion goes, the owner shows.
    button = next(e for b in posted.args["blocks"] if b["type"] == "actions" for e in b["elements"])
    click(server, button["action_id"], button["value"], user="U0DEV")
    server.runtime.sender.drain()
    taken = text_of(server.slack.calls_to("chat.update")[-1])
    assert "*Owner*\n<@U0DEV>" in taken and "component owner" not in taken

    # A component without tests has no owner to suggest.
    slash(server.url, "/blocker", "P2 user guides: typo in the guide", user_id="U0DEV")
    server.runtime.sender.drain()
    guides = next(
        p for p in posts(server) if "User Guides" in text_of(p) and "thread_ts" not in p.args
    )
    assert "*Owner*\nunowned" in text_of(guides) and "component owner" not in text_of(guides)
