"""A risk edit form delivered twice is not a conflict with itself; but a second submission
of the same form by the same person was taken as a repeat and dropped in silence, whatever
it said: the first submission was slow, Slack showed "trouble connecting" and kept the
form open, the user corrected a field and pressed Submit again, and the form closed as if
saved with the correction lost (found by review). It is saved."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import Risk
from tests.support.e2e import risk_values, view_submit
from tests.support.server import Server


def test_a_changed_resubmission_of_the_same_form_is_saved_or_refused(server: Server) -> None:
    assert view_submit(server, "risk", "U0DEV", risk_values(), view_id="VADD").status_code == 200
    with server.runtime.db.read() as s:
        risk = s.exec(select(Risk)).one()
    opened = {"risk": risk.id, "as_of": risk.updated_at.isoformat()}
    server.clock.at += timedelta(minutes=1)
    first = view_submit(
        server, "risk", "U0DEV", risk_values(status="Mitigated"), opened, view_id="VEDIT"
    )
    assert first.text == ""
    server.clock.at += timedelta(seconds=5)
    corrected = risk_values(status="Resolved", mitigation="Rolled back the LRU change")
    again = view_submit(server, "risk", "U0DEV", corrected, opened, view_id="VEDIT")
    with server.runtime.db.read() as s:
        now = s.exec(select(Risk)).one()
    saved = (now.status, now.mitigation) == ("Resolved", "Rolled back the LRU change")
    assert again.text == "" and saved, (
        f"the form closed ({again.text!r}) but the risk is still {now.status!r}, {now.mitigation!r}"
    )
