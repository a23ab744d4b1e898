"""Found by reviewing this session's change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from storage.models import Event
from tests.e2e.test_risk_back_and_resolved_again import AUTH, _edit
from tests.support import httpc
from tests.support.e2e import T0, at, risk_values, view_submit
from tests.support.server import Server


def test_a_risk_back_before_an_upgrade_and_resolved_again_after_stays_in_its_figures(
    server: Server,
) -> None:
    """As tests/e2e/test_risk_back_and_resolved_again.py, but the team upgraded sprintbot
    between day 3 and day 4: R-001 (resolved before the sprint) was set Critical on day 3
    by the version before feb2f04, whose status events hold only {"old", "new"} (no
    "changes"; `_risks_as_of` still reads those). On day 4, on the new version, it is set
    Resolved. `_status_set` reads only "changes", so the day-3 event is not seen as the
    risk coming back: GET /api/v1/sprint lists no R-001 and counts 0 resolved, as before
    the fix. It should count R-001 among the sprint's resolved."""
    at(server, datetime(2025, 10, 27, 14, tzinfo=UTC))
    assert view_submit(server, "risk", "U0QA", risk_values(), view_id="V1").text == ""
    at(server, datetime(2025, 10, 28, 14, tzinfo=UTC))
    _edit(server, "Resolved", "V2")
    at(server, T0)  # day 3
    _edit(server, "Critical", "V3")
    # The events so far as the version before feb2f04 wrote them: old and new, no changes.
    with server.runtime.db.session() as s:
        for e in s.exec(select(Event).where(Event.subject == "risk")).all():
            if e.action == "status":
                e.detail = {k: v for k, v in e.detail.items() if k != "changes"}
                s.add(e)
        s.commit()
    at(server, T0 + timedelta(days=1))  # day 4: upgraded
    _edit(server, "Resolved", "V4")
    at(server, T0 + timedelta(days=2))  # day 5
    risks: dict[str, Any] = httpc.get(
        f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30
    ).json()["risks"]
    listed = sorted(x["id"] for x in risks["items"])
    assert (risks["by_status"]["Resolved"], listed) == (1, ["R-001"]), risks
