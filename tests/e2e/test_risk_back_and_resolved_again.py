"""`jobs.figures._risks` leaves out a risk Resolved when the sprint began and Resolved at the
instant — also one that was open again *during* the sprint in between (Critical for a day)
and resolved again: the sprint's figures, the daily report's "resolved" count and the
tracker's Risk Tracking Matrix then have no trace of a risk this sprint dealt with, while a
risk added and resolved in the sprint is listed "Resolved"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from storage.models import Risk
from tests.support import httpc
from tests.support.e2e import T0, at, risk_values, view_submit
from tests.support.server import INGEST_TOKEN, Server

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def _edit(server: Server, status: str, view_id: str, description: str | None = None) -> None:
    with server.runtime.db.session() as s:
        risk = s.exec(select(Risk).order_by(Risk.id)).all()
    r = next(x for x in risk if description is None or x.description == description)
    meta = {"risk": r.id, "as_of": r.updated_at.isoformat()}
    values = risk_values(status=status, **({"description": description} if description else {}))
    assert view_submit(server, "risk", "U0QA", values, meta, view_id=view_id).text == ""


def test_a_risk_critical_in_the_sprint_and_resolved_again_stays_in_its_figures(
    server: Server,
) -> None:
    """R-001 "Test fixes introduce regressions" was added on 2025-10-27 and marked Resolved
    the next day, before the sprint (day 1 = 2025-10-29). On day 3 it is back: the QA lead
    sets it Critical (announced; the day's figures count it open and Critical). On day 4
    it is mitigated for good and set Resolved. From then on GET /api/v1/sprint says
    `by_status.Resolved` 0 and lists no R-001 — the daily report says "Risks: none open"
    with nothing resolved, the tracker's matrix has no R-001 — as if it never came up
    this sprint. R-002, added and resolved on day 4, is listed Resolved. R-001 should be
    too: Resolved 2, both listed."""
    at(server, datetime(2025, 10, 27, 14, tzinfo=UTC))
    assert view_submit(server, "risk", "U0QA", risk_values(), view_id="V1").text == ""
    at(server, datetime(2025, 10, 28, 14, tzinfo=UTC))
    _edit(server, "Resolved", "V2")
    at(server, T0)  # day 3
    _edit(server, "Critical", "V3")
    day3 = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30).json()["risks"]
    assert day3["by_status"]["Critical"] == 1, day3  # (counted while it is open)
    at(server, T0 + timedelta(days=1))  # day 4
    _edit(server, "Resolved", "V4")
    other = risk_values(description="Runner pool too small")
    assert view_submit(server, "risk", "U0QA", other, view_id="V5").text == ""
    _edit(server, "Resolved", "V6", description="Runner pool too small")
    at(server, T0 + timedelta(days=2))  # day 5
    risks: dict[str, Any] = httpc.get(
        f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30
    ).json()["risks"]
    listed = sorted(x["id"] for x in risks["items"])
    assert (risks["by_status"]["Resolved"], listed) == (2, ["R-001", "R-002"]), risks
