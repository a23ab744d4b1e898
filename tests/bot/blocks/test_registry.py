"""The registry: every template rendered at the version its producers write, and a row of
another version upgraded or refused with the reason."""

from __future__ import annotations

import pytest

from bot import blocks
from bot.blocks import FILES, SLACK, UPGRADES, VersionMismatch, render
from jobs.messages import VERSIONS, Template, payload
from jobs.notices import ALERT_ACKED


def test_every_template_has_one_renderer_at_the_version_producers_write() -> None:
    registered = {t: v for t, (v, _) in (SLACK | blocks.EMAIL).items()} | FILES
    assert registered == VERSIONS


def test_a_payload_carries_its_template_version_and_slack_arguments() -> None:
    assert payload(ALERT_ACKED, {"user": "U0ANA"}, channel="C0TEAM") == {
        "template": "alert_acked",
        "v": 1,
        "data": {"user": "U0ANA"},
        "channel": "C0TEAM",
    }


def test_a_row_without_a_version_is_version_one_and_another_version_is_refused() -> None:
    acked = {"template": "alert_acked", "data": {"user": "U0ANA"}}
    assert render(acked)["text"] == ":eyes: <@U0ANA> is on it."
    with pytest.raises(VersionMismatch) as refused:
        render({**acked, "v": 2})
    assert str(refused.value) == (
        "queued by another sprintbot version: template alert_acked v2, this one renders v1"
    )


def test_an_older_version_is_upgraded_where_an_upgrade_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """How a TypedDict change ships: bump the version, register how v1 data becomes v2."""
    monkeypatch.setitem(SLACK, Template.ALERT_ACKED, (2, SLACK[Template.ALERT_ACKED][1]))
    monkeypatch.setitem(UPGRADES, (Template.ALERT_ACKED, 1), lambda d: {"user": d["who"]})
    message = render({"template": "alert_acked", "v": 1, "data": {"who": "U0ANA"}})
    assert message["text"] == ":eyes: <@U0ANA> is on it."
