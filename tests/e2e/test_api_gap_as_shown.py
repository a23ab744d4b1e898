"""A group shown at its target ("88.33 % of 88.33 %") has a gap of 0 in GET
/api/v1/readiness and /api/v1/sprint, as on /readiness and in the tracker (found by review:
the JSON every surface renders from gave the unrounded difference, -0.01)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.e2e.test_group_target_as_shown import SPRINT
from tests.support import httpc
from tests.support.e2e import at, blocks_text
from tests.support.server import INGEST_TOKEN, Server, cli_env
from tests.support.slack import slash


@pytest.mark.usefixtures("quick_pace")
def test_api_gap_of_a_group_shown_at_its_target_agrees_with_slack_and_tracker(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "docs.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    cli_env(monkeypatch, server, path)
    now = datetime(2025, 10, 30, 14, tzinfo=UTC)
    at(server, now)

    text = blocks_text(slash(server.url, "/readiness", user_id="U0DEV").json()["blocks"])
    group = next(x for x in text.splitlines() if x.startswith("*Documentation*"))
    assert "on target" in group, group
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", now.isoformat()]) == 0
    row = next(x for x in out.read_text().splitlines() if x.startswith("| **Documentation**"))
    assert "| 88.33 % | 88.33 % | +0 % |" in row, row

    auth = {"Authorization": f"Bearer {INGEST_TOKEN}"}
    bd = httpc.get(f"{server.url}/api/v1/readiness", headers=auth).json()
    [docs] = [g for g in bd["groups"] if g["name"] == "Documentation"]
    assert (docs["score"], docs["target"]) == (88.33, 88.33), docs
    assert docs["gap"] == 0, docs  # as /readiness ("on target") and the tracker ("+0 %")
