"""An action item's due day outside the sprint was taken: `day 99` in a 14-day sprint,
`day 0`, a date a year back. `/standup away day 99 …` is refused (the sprint has days
1-14); the form checked only that the due day is *a* day, and stored the answer (found by
review). A date after the sprint's end is taken: work goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import Standup
from tests.support.e2e import ANSWER, submit
from tests.support.server import Server


@pytest.mark.parametrize("due", ["day 99", "day 0", "2024-10-31"])
def test_an_action_item_due_outside_the_sprint_is_refused_under_its_field(
    server: Server, due: str
) -> None:
    resp = submit(
        server, "U0DEV", **{**ANSWER, "action_items": f"Pair on eviction | <@U0BEN> | {due}"}
    )
    assert resp.status_code == 200
    body = resp.json() if resp.text else {}
    assert body.get("response_action") == "errors", resp.text
    assert "action_items" in body["errors"], body
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Standup)).one() == 0


def test_an_action_item_due_after_the_sprint_is_taken(server: Server) -> None:
    resp = submit(
        server, "U0DEV", **{**ANSWER, "action_items": "Write it up | <@U0BEN> | 2026-01-05"}
    )
    assert resp.status_code == 200 and resp.text == "", resp.text
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Standup)).one() == 1
