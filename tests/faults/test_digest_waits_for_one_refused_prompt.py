"""The standup reminder and digest wait for *every* prompt of the day to reach Slack
(bot/clock.py `_not_yet`, `delivery_of`): one participant's DM that Slack keeps refusing
holds back the whole team's reminder and digest, for the whole day. Found by review."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import JobRun
from tests.support.server import EXAMPLE, Server

PEOPLE = ["U0ANA", "U0BEN"]


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 New York
    return server


pytestmark = pytest.mark.faults


def test_one_refused_prompt_holds_back_the_teams_digest_all_day(
    team: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Friday 09:00 New York: the prompts go to U0ANA and U0BEN. Slack takes U0BEN's DM but
    keeps answering 500 to the DM to U0ANA (nothing else is posted meanwhile, so the outbox
    never fails it as 'choked': it is retried all day). The clock looks every 5 minutes
    until past midnight. The 09:25 reminder (to U0BEN, who has not answered) and the 09:30
    digest ('who answered, who is missing') never run: each says 'waits for today's prompts
    to reach Slack (1 to go)' until Friday is over, and Friday's slot is lost for good.
    Before 80279a6 the digest ran at 09:30. Should: one person's undeliverable DM does not
    cost the others their reminder and the team its day's digest (at worst both run at the
    day's last look, as 4b9a754 promises for a late prompt)."""
    slack = team.slack
    original = slack._answer

    def refusing(method: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
        if method == "chat.postMessage" and args.get("channel") == "U0ANA":
            return 500, {"ok": False, "error": "internal_error"}, {}
        return original(method, args, headers)

    monkeypatch.setattr(slack, "_answer", refusing)
    runtime = team.runtime
    start = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    said: list[str] = []
    for minutes in range(0, 65, 5):  # 09:00 to 10:00 Friday (it waited until midnight)
        team.clock.at = start + timedelta(minutes=minutes)
        said += bot_clock.catch_up(runtime, started=minutes == 0)
        runtime.sender.drain()
    with runtime.db.read() as s:
        slots = {(r.job, r.slot) for r in s.exec(select(JobRun))}
    to_ben = [
        json.dumps([m.get("text"), m.get("blocks")])
        for m in slack.messages
        if m["channel"] == "D0BEN"
    ]
    waits = sorted({x for x in said if "waits" in x})
    assert ("standup-digest", "2025-10-31") in slots, (
        f"Friday's digest never ran (one refused DM held it all day): {waits}"
    )
    assert any("still open" in m for m in to_ben), "U0BEN never got Friday's reminder"
