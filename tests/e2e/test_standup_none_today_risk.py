"""README: "Blockers and risks typed there are recorded ("None", "n/a" and the like are
none)". `jobs.standups._NOTHING` is a fixed list of whole answers, so the commonest ways of
saying "none" with a word more ("None today", "No new risks today", "Nothing to report")
become risks: added to the register, announced in the team channel and counted open in
every report."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import Risk
from tests.support.e2e import ANSWER, T0, at, posts, submit, text_of
from tests.support.server import Server


@pytest.mark.parametrize("typed", ["None today", "No new risks today", "Nothing to report"])
def test_saying_no_new_risks_adds_no_risk(server: Server, typed: str) -> None:
    """Ana answers today's standup with "New risks identified: None today" (or "No new
    risks today", "Nothing to report"). The team channel gets ":clipboard: New risk *R-001*
    (Active …) None today", the register holds R-001 "None today", and the next daily
    report counts 1 active risk. Her answer said there is no new risk: nothing should be
    added or announced."""
    at(server, T0)
    ok = submit(server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": typed})
    assert (ok.status_code, ok.text) == (200, "")
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        added = [r.description for r in s.exec(select(Risk)).all()]
    announced = [
        text_of(p)[:80] for p in posts(server) if text_of(p).startswith(":clipboard: New risk")
    ]
    assert (added, announced) == ([], []), (added, announced)
