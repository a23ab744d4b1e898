"""An alert's message after its tests left quarantine and were quarantined again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import KnownTest, Quarantine
from tests.e2e.test_alert_card_after_release import _buttons, _card
from tests.e2e.test_alert_lifecycle import regression
from tests.e2e.test_quarantine import ask
from tests.support.e2e import click, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server


def test_requarantined_alert_offers_a_button_that_only_refuses(server: Server) -> None:
    """The QA lead clicks "Quarantine as flaky" on a regression alert (the message says
    ":mute: ... quarantined its tests as flaky"). A minute later she lets the tests out
    with `/tests unquarantine` to try a fix, and a minute after that puts them all back
    with `/tests quarantine NAME for 7d`. Every test of the alert is in quarantine again
    (no follow-up will ping anyone), yet the alert's message, re-rendered at the release
    (jobs/quarantine.py `_unmuted_alerts`), now offers "Quarantine as flaky" again and
    says "Investigate within 1h; if no one picks it up, ... pinged". Clicking the button
    only refuses ("tests are quarantined already"). Before today's change the message kept
    the quarantine line. It should not offer a button that can only refuse (nor promise a
    ping that will not come)."""
    alert = regression(server)
    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    server.runtime.sender.drain()
    server.clock.at += timedelta(minutes=1)
    with server.runtime.db.session() as s:
        held = s.exec(select(KnownTest).join(Quarantine, Quarantine.test_id == KnownTest.id)).all()
        names = sorted({f"{t.classname}::{t.name}" for t in held})
    for name in names:
        said = ask(server, f"unquarantine {name}")
        assert said.endswith("left quarantine: its failures alert again."), said
    server.runtime.sender.drain()
    server.clock.at += timedelta(minutes=1)
    for name in names:
        said = ask(server, f"quarantine {name} for 7d because flaky on CI")
        assert said.startswith("Quarantined"), said
    server.runtime.sender.drain()
    # The button, clicked now, only refuses: every test is held already.
    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    server.runtime.sender.drain()
    card = _card(server)
    assert "alert_mute" not in _buttons(card), (
        "the alert's message offers 'Quarantine as flaky' although every one of its tests "
        f"is quarantined again (clicking it only refuses): {text_of(card)}"
    )
