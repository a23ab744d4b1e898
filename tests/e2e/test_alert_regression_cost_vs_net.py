"""A report whose only change is one regression: what the regression cost on its own is
the net, and both are the difference of the two scores as shown (`numbers.change`): "1
regressed (-33.34 pts): net -33.34 pts (66.67 % → 33.33 %)" (found by review: the cost
read -33.33, of the unrounded scores, beside a net of -33.34)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.core_sprint import send, sprint_file
from tests.support.e2e import posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server

SPRINT = sprint_file("Alert sprint")


@pytest.mark.usefixtures("quick_pace")
def test_a_lone_regressions_cost_is_the_net(make_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "alert.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    send(server, datetime(2025, 10, 29, 14, tzinfo=UTC), "r1", "PPF")  # 66.67 %
    send(server, datetime(2025, 10, 29, 16, tzinfo=UTC), "r2", "PFF")  # t1 regresses: 33.33 %
    listeners_done()
    server.runtime.sender.drain()
    lines = [
        x
        for p in posts(server)
        for x in text_of(p).splitlines()
        if "regressed (" in x and "net" in x
    ]
    assert lines, [text_of(p)[:300] for p in posts(server)]
    line = lines[0]
    assert "(66.67 % → 33.33 %)" in line, line
    assert "net \u221233.34 pts" in line, line
    assert "1 regressed (\u221233.34 pts)" in line, line  # its cost alone is the whole move
