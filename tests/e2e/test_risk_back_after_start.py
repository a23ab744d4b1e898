"""Risks in the sprint's figures: `jobs.figures._risks` leaves out every risk that was
Resolved when the sprint began (so an earlier sprint's resolved risk is not this one's) —
also one that was open again now (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import select

from storage.models import Risk
from tests.support import httpc
from tests.support.e2e import T0, at, risk_values, view_submit
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def sprint_json(server: Server, **query: str) -> dict[str, Any]:
    resp = httpc.get(f"{server.url}/api/v1/sprint?{urlencode(query)}", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_a_risk_resolved_before_the_sprint_and_critical_again_in_it_counts(
    server: Server,
) -> None:
    """Two days before the sprint (it starts 2025-10-29) the QA lead adds R-001 "Test fixes
    introduce regressions" and marks it Resolved the next day. On day 3 it is back: `/risk
    update R-001` sets it Critical (announced in the team channel, and `/risk list` shows it
    Critical). Yet the sprint's figures leave it out — `GET /api/v1/sprint` says risks open
    0, Critical 0, and so do the daily report ("Risks: none open"), App Home and the tracker
    — because it was Resolved when the sprint began. A risk open during the sprint should
    count in it: open 1, Critical 1."""
    at(server, datetime(2025, 10, 27, 14, tzinfo=UTC))
    assert view_submit(server, "risk", "U0QA", risk_values(), {"risk": None}).text == ""
    with server.runtime.db.session() as s:
        risk = s.exec(select(Risk)).one()
    at(server, datetime(2025, 10, 28, 14, tzinfo=UTC))
    done = risk_values(status="Resolved")
    meta = {"risk": risk.id, "as_of": risk.updated_at.isoformat()}
    assert view_submit(server, "risk", "U0QA", done, meta, view_id="V3").text == ""
    with server.runtime.db.session() as s:
        risk = s.exec(select(Risk)).one()
    assert risk.status == "Resolved"

    at(server, T0)  # day 3
    back = risk_values(status="Critical")
    meta = {"risk": risk.id, "as_of": risk.updated_at.isoformat()}
    assert view_submit(server, "risk", "U0QA", back, meta, view_id="V4").text == ""
    listing = slash(server.url, "/risk", "list", user_id="U0QA").json()["text"]
    assert "R-001" in listing and "Critical" in listing, listing

    risks = sprint_json(server)["risks"]
    assert risks["open"] == 1 and risks["by_status"]["Critical"] == 1, risks


def test_a_risk_resolved_last_sprint_that_comes_back_counts_in_this_one(
    make_server, tmp_path
) -> None:
    """Phase 4: Alice's risk R-001 is marked Resolved on day 13. Phase 5, day 2: it is back,
    and she sets it Critical with `/risk update R-001` (announced; `/risk list` shows it
    Critical). Phase 5's figures (API, daily report, App Home, tracker) still say no risk
    is open — risks Resolved when the sprint began are left out whatever they are now.
    "Open blockers and risks carry over"; one open again in this sprint is this sprint's:
    open 1, Critical 1."""
    import shutil

    from tests.e2e.test_next_sprint import api
    from tests.support.e2e import opened
    from tests.support.listeners import listeners_done
    from tests.support.server import ROOT

    shutil.copytree(ROOT / "examples" / "teams", tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    at(server, datetime(2025, 11, 10, 15, tzinfo=UTC))  # Phase 4, day 13
    slash(server.url, "/risk", "platform", user_id="U0ALICE")
    opened(server)
    resp = view_submit(
        server, "risk", "U0ALICE", risk_values(status="Resolved"), {"team": "platform"}
    )
    assert resp.text == ""
    listeners_done()
    at(server, datetime(2025, 11, 13, 15, tzinfo=UTC))  # Phase 5, day 2
    with server.runtime.contexts.db.read() as s:
        risk = s.exec(select(Risk)).one()
    meta = {"risk": risk.id, "as_of": risk.updated_at.isoformat(), "team": "platform"}
    back = risk_values(status="Critical")
    assert view_submit(server, "risk", "U0ALICE", back, meta, view_id="V9").text == ""
    with server.runtime.contexts.db.read() as s:
        assert s.exec(select(Risk)).one().status == "Critical"
    now = api(server, "/api/v1/sprint", team="platform").json()
    assert now["sprint"]["name"] == "Phase 5 Hardening"
    assert now["risks"]["open"] == 1 and now["risks"]["by_status"]["Critical"] == 1, now["risks"]
