"""A Critical risk is left out of App Home's "Open risks" (and the daily report's risk
lines) whenever ten older open risks come before it: those surfaces name the first ten
open risks by id, not the most urgent first as `/risk list` orders the register. The team
reads ten Active risks and "+1 more" while the one Critical risk is the one hidden."""

from __future__ import annotations

import json
from typing import Any

from tests.support.e2e import T0, at, blocks_text, home_opened, risk_values, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def _home_text(server: Server, user: str) -> str:
    home_opened(server, user)
    listeners_done()
    server.runtime.sender.drain()
    calls = server.slack.calls_to("views.publish")
    assert calls
    view: dict[str, Any] = calls[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return blocks_text(view["blocks"])


def test_a_critical_risk_is_named_on_app_home_before_active_ones(server: Server) -> None:
    at(server, T0)
    for n in range(1, 12):
        values = risk_values(description=f"Active risk number {n}", status="Active")
        assert view_submit(server, "risk", "U0PM", values, view_id=f"VR{n}").text == ""
    critical = risk_values(
        description="Production database migration may corrupt data",
        status="Critical",
        impact="High",
        probability="High",
    )
    assert view_submit(server, "risk", "U0PM", critical, view_id="VR12").text == ""

    # /risk list puts the Critical risk first.
    listing = slash(server.url, "/risk", "list", user_id="U0X").json()["text"]
    assert listing.splitlines()[1].startswith(":red_circle: *R-012*"), listing

    text = _home_text(server, "U0X")
    assert "R-012" in text and "Production database migration" in text, text
