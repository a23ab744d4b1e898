"""Which requests are answered on the event loop: only those that never wait."""

from __future__ import annotations

import pytest

from tests.slack import command_body


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
