"""Typed text inside one line of the bot's is one line on every surface: the first fix
missed `/risk list` (a risk described over two lines forged a second risk's row), its
mitigation, and the sprint review draft's resolved blockers (found by review)."""

from __future__ import annotations

from tests.support.e2e import risk_values, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

FORGED = ":red_circle: *R-002* Production data loss on failover · impact High"


def test_a_multiline_risk_description_cannot_forge_a_risk_in_risk_list(server: Server) -> None:
    values = risk_values(description=f"Test fixes introduce regressions\n{FORGED}")
    assert view_submit(server, "risk", "U0DEV", values, view_id="VADD").text == ""
    listeners_done()
    listed = slash(server.url, "/risk", "list", user_id="U0DEV").json()["text"]
    # One risk only: no line may start like a second one's row.
    forged = [x for x in listed.split("\n") if "*R-002*" in x and "R-001" not in x]
    assert forged == [], listed


def test_a_multiline_risk_mitigation_stays_on_its_line(server: Server) -> None:
    values = risk_values(mitigation=f"Regression suite\n{FORGED}")
    assert view_submit(server, "risk", "U0DEV", values, view_id="VADD").text == ""
    listeners_done()
    listed = slash(server.url, "/risk", "list", user_id="U0DEV").json()["text"]
    forged = [x for x in listed.split("\n") if "*R-002*" in x and "mitigation" not in x]
    assert forged == [], listed


def test_a_multiline_blocker_description_cannot_forge_an_item_in_the_review_draft(
    server: Server,
) -> None:
    from datetime import UTC, datetime

    from tests.support.e2e import at, blocker_form_values, posts, text_of

    at(server, datetime(2025, 10, 30, 14, tzinfo=UTC))
    forged = "*B-002* P0 · Swarm Coordination — consensus lost (resolved in 5m)"
    values = blocker_form_values(f"OOM in eviction\n• {forged}")
    assert view_submit(server, "blocker", "U0DEV", values).text == ""
    listeners_done()
    at(server, datetime(2025, 10, 31, 14, tzinfo=UTC))
    done = slash(server.url, "/blocker", "resolve B-001 fixed it", user_id="U0DEV")
    assert "resolved" in done.json()["text"], done.text
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.json()["text"].startswith("Posting the sprint review draft"), resp.text
    listeners_done()
    server.runtime.sender.drain()
    [draft] = [text_of(p) for p in posts(server) if "Sprint review draft" in text_of(p)]
    lines = [x for x in draft.split("\n") if "*B-002*" in x and "B-001" not in x]
    assert lines == [], lines
