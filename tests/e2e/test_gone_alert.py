"""An alert message deleted in Slack, then "I'm on it" and "Quarantine as flaky": the
alert is posted anew once and the second change updates that new copy (found by review:
each change posted another copy of the alert in the team channel)."""

from __future__ import annotations

from tests.e2e.test_alert_lifecycle import regression
from tests.support.e2e import click, sent_ts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server


def top_level(server: Server, needle: str) -> list[str]:
    return [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if needle in text_of(c) and not c.args.get("thread_ts")
    ]


def alert_key(server: Server, alert_id: str) -> str:
    from tests.e2e.test_alert_lifecycle import alert_row

    return alert_row(server, alert_id).key


def test_a_deleted_alert_changed_twice_is_posted_anew_once(server: Server) -> None:
    alert = regression(server)
    assert len(top_level(server, "regressed on")) == 1
    server.slack.delete(sent_ts(server, alert_key(server, alert)))  # someone deletes it

    click(server, "alert_ack", alert, user="U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    server.runtime.sender.drain()
    assert len(top_level(server, "regressed on")) == 2  # the original + the one posted anew

    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    server.runtime.sender.drain()
    server.runtime.sender.drain()
    shown = top_level(server, "regressed on")
    # One live copy of the alert, showing both changes: not a third copy posted.
    assert len(shown) == 2, [s[:200] for s in shown]


def test_a_deleted_message_s_failed_update_keeps_its_slack_error_label(server: Server) -> None:
    """The operator's dashboard counts failures by Slack's error code: the update refused
    because its message was deleted should count as message_not_found, not 'other'."""
    from tests.e2e.test_metrics_endpoint import scrape, value

    alert = regression(server)
    server.slack.delete(sent_ts(server, alert_key(server, alert)))
    before = scrape(server)
    click(server, "alert_ack", alert, user="U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    after = scrape(server)
    name = "sprintbot_outbox_failures_total"
    other = {"method": "chat.update", "error": "other", "outcome": "failed"}
    coded = {"method": "chat.update", "error": "message_not_found", "outcome": "failed"}
    assert value(after, name, **other) == value(before, name, **other)
    assert value(after, name, **coded) == value(before, name, **coded) + 1
