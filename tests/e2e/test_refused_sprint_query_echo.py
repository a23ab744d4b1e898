"""GET /api/v1/sprint echoes an unknown `sprint=` (and a malformed or future `at=`) back
whole: a 5,000-character name comes back in the 404's error verbatim
(bot.web.Routes.sprint_figures: f'no sprint "{wanted}" ...', f"at {text!r} ...")."""

from __future__ import annotations

import pytest

from tests.e2e.test_ingest_bad_input import AUTH
from tests.support import httpc
from tests.support.server import Server

HUGE = "x" * 5000


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"sprint": HUGE}, 404),
        ({"at": HUGE}, 400),  # "at 'xxxx…' is not an ISO-8601 time"
        ({"at": "2025-10-31T13:00:00Z" + " " * 4000 + "x"}, 400),
    ],
    ids=["sprint", "at-garbage", "at-padded"],
)
def test_an_unknown_huge_value_is_not_echoed_whole(
    server: Server, params: dict[str, str], status: int
) -> None:
    resp = httpc.get(f"{server.url}/api/v1/sprint", params=params, headers=AUTH, timeout=30)
    assert resp.status_code == status, (resp.status_code, resp.text[:200])
    error = resp.json()["error"]
    assert len(error) < 1000, (len(error), error[:200])
