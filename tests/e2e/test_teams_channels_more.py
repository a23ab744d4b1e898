"""Several teams, one channel written as #name in one file and as its ID in another (found
by review): a command there is both teams', as it is where both write it alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_teams_routing import NOW, command, in_channel
from tests.support.fakeslack import channel_id
from tests.support.server import Server, two_teams


@pytest.fixture
def id_and_name(
    make_server: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Server:
    """two_teams, but mobile.toml writes the shared #critical-blockers by its ID (README:
    a channel is written "by ID or #name")."""
    monkeypatch.setenv("PLATFORM_INGEST_TOKEN", "platform-ci-token")
    teams = two_teams(tmp_path / "teams")
    mobile = teams / "mobile.toml"
    mobile.write_text(
        mobile.read_text(encoding="utf-8").replace(
            'blockers = "#critical-blockers"', f'blockers = "{channel_id("#critical-blockers")}"'
        ),
        encoding="utf-8",
    )
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    server.clock.at = NOW
    return server


def test_a_person_in_both_teams_is_asked_in_the_shared_blockers_channel_written_by_id(
    id_and_name: Server,
) -> None:
    """U0BOB is in both teams; in #critical-blockers (both teams' blockers channel) he is
    asked which team, as in any channel two teams share; here it silently acts for mobile."""
    org = id_and_name
    in_channel(org, "platform", "/blocker", "P2 Task Orchestration: slow", user="U0ALICE")
    resp = command(
        org,
        "/blocker",
        "list",
        user="U0BOB",
        channel=channel_id("#critical-blockers"),
        channel_name="critical-blockers",
    )
    text = resp.json()["text"]
    assert "which is this for" in text, text
