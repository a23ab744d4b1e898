"""A milestone's sign-off request posted to a status channel two teams share does not say
whose milestone it is, while the daily and weekly reports in that same channel do
("platform · Daily report — …", README "Which team a request is for")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.support.e2e import blocks_text, posts
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams
from tests.support.slack import slash


def test_a_signoff_request_in_a_shared_status_channel_names_its_team(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    # platform and mobile both post to #sprint-status; platform's day 14 (New York).
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = datetime(2025, 11, 11, 15, 0, tzinfo=UTC)
    resp = slash(server.url, "/sprint", "platform signoff", user_id="U0ALICE")
    assert resp.status_code == 200
    listeners_done()
    server.runtime.sender.drain()
    [request] = [
        p
        for p in posts(server)
        if p.args.get("channel") == "#sprint-status" and "Sign-off" in p.args.get("text", "")
    ]
    header = request.args["blocks"]
    header = header if isinstance(header, list) else json.loads(header)
    title = header[0]["text"]["text"]
    assert "Production go/no-go" in title, title
    # Mobile's people read this channel too: the request must say it is platform's, as
    # the reports there do.
    assert "platform" in title.lower() or "core platform" in title.lower(), (
        title,
        blocks_text(header),
    )
