"""Which requests are answered on the event loop (only those that never wait), and what the
one error handler answers."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from jobs.errors import FieldErrors
from tests.support.slack import command_body


@pytest.mark.parametrize(
    ("command", "text", "inline"),
    [
        ("/readiness", "", True),
        ("/readiness", "show", True),
        ("/readiness", "help", True),
        ("/readiness", "set User Guides 70", False),  # a write: it may wait for the lock
        ("/sprint", "", False),
        ("/standup", "help", False),
        ("/blocker", "P0 text=help& is not a field", False),
    ],
)
def test_only_answers_from_memory_skip_the_thread(command: str, text: str, inline: bool) -> None:
    from bot.acks import answered_from_memory

    assert answered_from_memory(command_body(command, text).encode()) is inline


def _request(payload: dict[str, object]) -> BoltRequest:
    body = urlencode({"payload": json.dumps(payload)})
    return BoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})


def test_field_errors_in_a_submission_keep_the_modal_open_with_them() -> None:
    from bot.acks import answer_error

    errors = {"component": 'No component called "Nope".', "description": "Describe the blocker."}
    request = _request({"type": "view_submission", "user": {"id": "U0DEV"}, "view": {"id": "V1"}})
    answer = answer_error(FieldErrors(errors), request, BoltResponse(status=200), None)
    assert answer is not None and answer.status == 200
    assert json.loads(answer.body) == {"response_action": "errors", "errors": errors}


def test_field_errors_outside_a_modal_are_the_messages_in_turn() -> None:
    from bot.acks import answer_error

    request = BoltRequest(body=command_body("/blocker", "P7 Nope: x"))
    errors = FieldErrors({"component": "No such component.", "severity": "Not P0, P1, P2."})
    answer = answer_error(errors, request, BoltResponse(status=200), None)
    assert answer is not None
    assert json.loads(answer.body) == {
        "response_type": "ephemeral",
        "text": "No such component. Not P0, P1, P2.",
    }
