"""A refusal quotes what the user typed: a `<@U…>` or `<!subteam^S…>` typed there was shown
as a live mention, because `reply()` kept every such sequence as the bot's own (found by
review). What was typed is shown as typed."""

from __future__ import annotations

import pytest

from tests.e2e.test_mentions import slack_escaped
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash


@pytest.mark.parametrize(
    ("command", "typed"),
    [
        ("/blocker", "list <@U0VICTIM>"),
        ("/blocker", "list <!subteam^S0EXEC>"),
        ("/blocker", "resolve <@U0VICTIM> done"),
        ("/risk", "list <@U0VICTIM>"),
        ("/risk", "update <@U0VICTIM>"),
        ("/readiness", "show <@U0VICTIM>"),
        ("/readiness", "set User Guides <@U0VICTIM>"),
    ],
)
def test_a_mention_typed_into_a_refused_command_is_shown_as_typed(
    server: Server, command: str, typed: str
) -> None:
    at(server, T0)
    answer = slash(server.url, command, slack_escaped(typed), user_id="U0DEV").json()["text"]
    assert "<@U0VICTIM>" not in answer and "<!subteam^S0EXEC>" not in answer, answer
