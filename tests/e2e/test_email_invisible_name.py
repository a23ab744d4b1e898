"""The regression alert's e-mail copy names the regressed tests as the Slack alert does: a
name holding a zero-width space shows it (`test_lo\\u200bgin`), so a lead who types the
name the e-mail shows quarantines that test (found by review: it read as its passing
look-alike's)."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

import tests
from tests.e2e.test_invisible_characters_in_names import HIDDEN, SHOWN, regressed
from tests.e2e.test_metrics_and_email import smtp  # noqa: F401  (fixture)
from tests.support.server import Server

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"


def test_the_alert_email_shows_an_invisible_character_in_a_name_as_slack_does(
    make_server: Callable[..., Server],
    tmp_path: Path,
    smtp: tuple[int, list[Any]],  # noqa: F811
) -> None:
    port, received = smtp
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace("email_to = []", 'email_to = ["leads@example.com"]')
    )
    server = make_server(
        SPRINTBOT_CONFIG=str(sprint),
        SPRINTBOT_SMTP_URL=f"smtp://127.0.0.1:{port}?from=bot@example.com",
    )
    regressed(server)
    server.runtime.sender.drain()
    [envelope] = received
    body = message_from_bytes(envelope.content).get_payload(decode=True).decode()
    # What Slack's alert shows, the e-mail shows: the name as told apart from test_login.
    assert f"- {SHOWN} (" in body, body
    assert HIDDEN not in body, body
