"""`/standup away day 0 …` / `day 99` (a sprint day outside 1..days) is taken: parse_day
turns any 1-3 digit day number into start + n - 1 (day 0 is the day before the sprint, day
99 weeks after it ends) and an absence is recorded there, answered ":palm_tree: Away …"."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import Away
from tests.support.server import Server
from tests.support.slack import slash


@pytest.mark.parametrize("text", ["day 0 day 0", "day 99 day 99", "day 3 day 99", "day 0 day 2"])
def test_away_outside_the_sprints_days_is_refused(server: Server, text: str) -> None:
    resp = slash(server.url, "/standup", f"away {text}", user_id="U0DEV")
    assert resp.status_code == 200
    body = resp.json()
    assert body.get("response_type") == "ephemeral", body
    assert "Away" not in body["text"], body["text"]
    assert "14" in body["text"], body["text"]  # says the sprint's days (1-14)
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Away)).one() == 0
