"""An alert's message after its tests were quarantined from its button (found by review): it
keeps saying so when someone takes it, and stops once they are out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from storage.models import KnownTest, Quarantine
from tests.e2e.test_alert_lifecycle import regression
from tests.e2e.test_quarantine import ask
from tests.support.e2e import click, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server


def _card(server: Server) -> Any:
    """The alert's own message as it stands: its last chat.update."""
    updates = server.slack.calls_to("chat.update")
    assert updates, "the alert's message was never updated"
    return updates[-1]


def _buttons(call: Any) -> list[str]:
    return [
        e["action_id"]
        for b in call.args.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_alert_card_stops_saying_quarantined_once_the_quarantine_is_released(
    server: Server,
) -> None:
    """The QA lead clicks "Quarantine as flaky" on a regression alert: its message now says
    ":mute: QA quarantined its tests as flaky" and the Quarantine button is gone. A minute
    later the lead lets all five tests out (`/tests unquarantine ...`: "its failures alert
    again") and they keep failing; an hour on the follow-up pings "No one has
    acknowledged this alert". The alert's message still says its tests are quarantined
    and offers no Quarantine button: it should say no longer (or offer the button again)."""
    alert = regression(server)
    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    server.runtime.sender.drain()
    assert "quarantined its tests as flaky" in text_of(_card(server))
    server.clock.at += timedelta(minutes=1)
    with server.runtime.db.session() as s:
        held = s.exec(select(KnownTest).join(Quarantine, Quarantine.test_id == KnownTest.id)).all()
        names = sorted({f"{t.classname}::{t.name}" for t in held})
    assert len(names) == 5, names
    for name in names:  # every one of the alert's tests let out
        said = ask(server, f"unquarantine {name}")
        assert said.endswith("left quarantine: its failures alert again."), said
    server.runtime.sender.drain()
    card = _card(server)
    assert "quarantined its tests as flaky" not in text_of(card), text_of(card)
    assert "alert_mute" in _buttons(card), _buttons(card)


def test_im_on_it_after_a_quarantine_keeps_the_quarantine_on_the_card(server: Server) -> None:
    """The QA lead quarantines a regression alert's tests from its button (the message
    says so), then a developer clicks "I'm on it": the message is re-rendered from the
    alert as first posted plus "is on it", and the line saying its tests were quarantined
    disappears, although they still are."""
    alert = regression(server)
    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    server.runtime.sender.drain()
    server.clock.at += timedelta(minutes=1)
    click(server, "alert_ack", alert, user="U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    card = _card(server)
    assert "is on it" in text_of(card)
    assert "quarantined its tests as flaky" in text_of(card), text_of(card)
