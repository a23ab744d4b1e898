"""A command that waits for Slack to learn its team holds no other answer back.

`/readiness` is answered on the event loop when every team's figures are ready (nothing to
wait for: `bot.web`). Routing it can still wait: a command typed outside any team channel,
by someone a team has only as a member of its channel, waits up to routing's second
(`bot.members.WAIT`) for Slack to say who is in that channel, the first time after the bot
starts. Waiting on the event loop, it held back every other request meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import members
from tests.e2e.test_org_edges import running_org
from tests.support.server import Server
from tests.support.slack import command_body, post_signed

pytestmark = pytest.mark.faults

# Routing's wait, Slack's slowness and when the other command comes, at half their
# production (or first) values: the same order of events in half the time.
SCALE = 0.5


def test_a_command_waiting_for_slack_to_route_it_holds_no_other_answer_back(
    make_server: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(members, "WAIT", members.WAIT * SCALE)  # (TeamMembers' default)
    org = running_org(make_server, tmp_path)
    org.slack.channels["C0MOBILE"] = {"name": "mobile"}
    org.slack.team_members = ["U0FRANK", "U0DAVE"]  # #mobile's (participants = "team")
    refresher = org.runtime.keep_ready()  # every team's figures kept fresh, as `web` does
    try:
        deadline = time.monotonic() + 10
        while not org.runtime.contexts.fresh():  # (the first team's is ready at once)
            assert time.monotonic() < deadline, "the figures were never all ready"
            time.sleep(0.01)
        # Slack answers slowly: reading #mobile takes longer than routing waits
        org.slack.latency = 0.6 * SCALE
        answered: dict[str, tuple[float, dict[str, Any]]] = {}

        def send(who: str, body: str) -> None:
            answer = post_signed(org.url, body)
            answered[who] = (time.monotonic(), answer.json())

        # Frank is in mobile only by #mobile; his /readiness comes from elsewhere.
        frank = threading.Thread(
            target=send, args=("frank", command_body("/readiness", user_id="U0FRANK"))
        )
        frank.start()
        time.sleep(0.3 * SCALE)  # while his request waits for Slack
        in_platform = command_body("/readiness").replace(
            "channel_name=phase4-production-readiness", "channel_name=platform"
        )
        send("platform", in_platform)
        frank.join(timeout=10)
    finally:
        refresher.stop()
    assert answered["platform"][0] < answered["frank"][0], "held back by Frank's wait"
    assert answered["platform"][1]["text"].startswith("Readiness"), answered["platform"]
    # Frank is answered too: for mobile, or asked which team once the wait ran out.
    assert answered["frank"][1].get("text"), answered["frank"]
