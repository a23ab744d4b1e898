"""An alert holding only quarantined tests once the others passed again (found by review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.test_alert_card_after_release import _buttons
from tests.e2e.test_alert_lifecycle import regression
from tests.e2e.test_quarantine import ask
from tests.support.e2e import post_report, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server


def _alert_card(server: Server) -> Any:
    """The alert's own message as Slack shows it now: its last update, else as posted."""
    calls = [
        c
        for c in server.slack.calls_to("chat.postMessage") + server.slack.calls_to("chat.update")
        if "5 tests regressed on" in text_of(c)
    ]
    calls.sort(key=lambda c: server.slack.calls.index(c))
    return calls[-1]


def test_alert_whose_other_tests_recovered_offers_a_button_that_only_refuses(
    server: Server,
) -> None:
    """Five tests regress (one alert). The QA lead quarantines the one that looks flaky,
    `tests.swarm.test_coordination::test_scale_out[64]`, with `/tests quarantine ... for
    7d` (the alert's other four still fail: the message rightly keeps its button). The next
    CI run fixes the other four: they leave the alert, which is left holding only the
    quarantined test — every test it holds is in quarantine, so no follow-up pings anyone.
    Yet its message still offers "Quarantine as flaky" and says "Investigate within 1h; if
    no one picks it up, the owners are pinged again"; clicking the button only refuses
    ("The alert's tests are quarantined already"). jobs/quarantine.py `_alerts_say`
    syncs the message only on a quarantine or a release, not when the alert's other tests
    leave it (jobs/ingest.py `_resolve_recovered`). It should say its tests are
    quarantined and offer no button that can only refuse."""
    regression(server)
    listeners_done()
    server.clock.at += timedelta(minutes=1)
    said = ask(server, "quarantine tests.swarm.test_coordination::test_scale_out[64] for 7d")
    assert said.startswith("Quarantined"), said
    server.runtime.sender.drain()
    post_report(server, "pytest-xunit1-run3.xml", run="ci-3", at="2025-10-31T14:00:00Z")
    server.runtime.sender.drain()
    card = _alert_card(server)
    assert "Resolved" not in text_of(card), text_of(card)
    assert "alert_mute" not in _buttons(card), text_of(card)
    assert "quarantined its tests as flaky" in text_of(card), text_of(card)
