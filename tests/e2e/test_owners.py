"""Test owners end to end: a sprint file with `[[owners]]` and a CODEOWNERS file, recorded
pytest runs posted to the HTTP API, and the alert, its follow-up and the mute notice the
fake Slack receives mentioning the owners of the tests that broke."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.support.e2e import (
    _alert_id,
    blocks_text,
    click,
    opened,
    post_report,
    posts,
    responses,
    text_of,
)
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import post_signed, slash

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

    # Quarantining the tests as flaky tells their owners, in the alert's thread.
    click(server, "alert_mute", str(_alert_id(server, key)), user="U0QALEAD")
    assert responses(server, 1)[-1].args["text"].startswith("Quarantined 5 tests until ")
    server.runtime.sender.drain()
    muted = posts(server)[-1]
    assert muted.args["thread_ts"] == posts(server)[0].args.get("ts", muted.args["thread_ts"])
    assert text_of(muted).startswith(":mute: <@U0QALEAD> quarantined 5 tests until ")
    assert "Owners: <@U0ALICE> <@U0BOB> <@U0SWARMLEAD>." in text_of(muted)


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


def test_the_blocker_form_suggests_the_owner_of_the_component_picked(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    assert slash(server.url, "/blocker").status_code == 200
    [form] = opened(server)
    assert form["blocks"][0]["dispatch_action"] is True  # picking a component tells us
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DEV", "username": "dev", "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "test"},
        "container": {"type": "view", "view_id": "V0FORM"},
        "trigger_id": "1.2.3",
        "view": {**form, "id": "V0FORM", "hash": "h1", "state": {"values": {}}},
        "actions": [
            {
                "action_id": "value",
                "block_id": "component",
                "type": "static_select",
                "selected_option": {"value": "Swarm Coordination"},
                "action_ts": "1.3",
            }
        ],
    }
    resp = post_signed(server.url, urlencode({"payload": json.dumps(payload)}))
    assert resp.status_code == 200
    listeners_done()
    [update] = server.slack.calls_to("views.update")
    assert (update.args["view_id"], update.args["hash"]) == ("V0FORM", "h1")
    view = update.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "Swarm Coordination"
    assert "*Swarm Coordination* is owned by <@U0SWARMLEAD> — suggested as its owner." in (
        blocks_text(view["blocks"])
    )
    owner = next(b for b in view["blocks"] if b.get("block_id", "").startswith("owner"))
    assert owner["block_id"] == "owner-U0SWARMLEAD"  # a block Slack has not seen: shown
    assert owner["element"]["initial_user"] == "U0SWARMLEAD"

    def pick(component: str, owner_block: str, owner: str) -> dict[str, Any]:
        """Pick `component` with the Owner field as it stands; the form Slack is sent."""
        state = {owner_block: {"value": {"type": "users_select", "selected_user": owner}}}
        payload["view"] = {**view, "id": "V0FORM", "hash": "h2", "state": {"values": state}}
        payload["actions"][0]["selected_option"] = {"value": component}
        assert post_signed(server.url, urlencode({"payload": json.dumps(payload)})).is_success
        listeners_done()
        sent = server.slack.calls_to("views.update")[-1].args["view"]
        return cast(dict[str, Any], json.loads(sent) if isinstance(sent, str) else sent)

    # Another component, the suggestion untouched: its owner is suggested instead.
    memory = pick("Memory Management", "owner-U0SWARMLEAD", "U0SWARMLEAD")
    owner = next(b for b in memory["blocks"] if b.get("block_id", "").startswith("owner"))
    assert (owner["block_id"], owner["element"]["initial_user"]) == ("owner-U0BOB", "U0BOB")
    # Someone chosen by hand stays chosen, in the block Slack keeps them in.
    kept = pick("Swarm Coordination", "owner-U0BOB", "U0DEV")
    owner = next(b for b in kept["blocks"] if b.get("block_id", "").startswith("owner"))
    assert owner["block_id"] == "owner-U0BOB"
    assert "is owned by <@U0SWARMLEAD>" in blocks_text(kept["blocks"])
