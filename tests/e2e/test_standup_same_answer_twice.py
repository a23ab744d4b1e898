"""The standup form delivered twice with the same answers (Submit pressed again after
Slack's timeout error, before the late "Saved." replaced the form): the second was taken
as an edit — the answer counted one edit and its post in the day's thread was updated to
read "· edited", though nothing was edited (found by review)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Standup
from tests.support.e2e import ANSWER, submit
from tests.support.listeners import listeners_done
from tests.support.server import Server


def test_the_same_standup_view_twice_is_not_an_edit(server: Server) -> None:
    assert submit(server, "U0DEV", **ANSWER).text == ""
    assert submit(server, "U0DEV", **ANSWER).text == ""  # same view id "V1"
    listeners_done()
    with server.runtime.db.read() as s:
        row = s.exec(select(Standup).where(Standup.user_id == "U0DEV")).one()
    assert row.edits == 0, f"counted {row.edits} edit(s)"
    server.runtime.sender.drain()
    assert [c for c in server.slack.calls_to("chat.update") if "edited" in str(c.args)] == []
    # A real edit is one.
    assert submit(server, "U0DEV", **{**ANSWER, "notes": "and the cache"}).text == ""
    listeners_done()
    with server.runtime.db.read() as s:
        assert s.exec(select(Standup).where(Standup.user_id == "U0DEV")).one().edits == 1
    server.runtime.sender.drain()
    assert [c for c in server.slack.calls_to("chat.update") if "edited" in str(c.args)]
