"""The risk *edit* form delivered twice (Slack's Submit pressed again while the first,
slow, submission was still being answered; or Slack's retry): the second was told the risk
"was changed since you opened this form ... Nothing was saved", as if someone else had
overwritten it, though the only change was this very form's own, saved by the first (found
by review). Another's edit in between is still a conflict."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import Risk
from tests.support.e2e import risk_values, view_submit
from tests.support.server import Server


def test_the_same_risk_edit_submitted_twice_is_not_called_a_conflict(server: Server) -> None:
    assert view_submit(server, "risk", "U0DEV", risk_values(), view_id="VADD").status_code == 200
    with server.runtime.db.read() as s:
        risk = s.exec(select(Risk)).one()
    opened = {"risk": risk.id, "as_of": risk.updated_at.isoformat()}
    server.clock.at += timedelta(minutes=1)
    first = view_submit(
        server, "risk", "U0DEV", risk_values(status="Mitigated"), opened, view_id="VEDIT"
    )
    assert first.status_code == 200 and first.text == "", first.text
    server.clock.at += timedelta(seconds=2)
    again = view_submit(
        server, "risk", "U0DEV", risk_values(status="Mitigated"), opened, view_id="VEDIT"
    )
    assert again.status_code == 200
    with server.runtime.db.read() as s:
        assert s.exec(select(Risk)).one().status == "Mitigated"  # the first saved it
    shown = again.text
    assert "changed since you opened this form" not in shown, shown
    assert "Nothing was saved" not in shown, shown


def test_another_edit_between_is_still_a_conflict(server: Server) -> None:
    assert view_submit(server, "risk", "U0DEV", risk_values(), view_id="VADD").status_code == 200
    with server.runtime.db.read() as s:
        risk = s.exec(select(Risk)).one()
    opened = {"risk": risk.id, "as_of": risk.updated_at.isoformat()}
    server.clock.at += timedelta(minutes=1)
    mine = risk_values(status="Mitigated")
    assert view_submit(server, "risk", "U0DEV", mine, opened, view_id="VMINE").text == ""
    server.clock.at += timedelta(minutes=1)
    theirs = view_submit(
        server, "risk", "U0QA", risk_values(status="Resolved"), opened, view_id="VQA"
    )
    assert "changed since you opened this form" in theirs.text, theirs.text
