"""A refused slash command quotes what the user typed so they can see what was wrong; the
dispatcher lower-cases the word it quotes (`/sprint` lower-cases the whole text), so the
quote was not what was typed (found by review)."""

from __future__ import annotations

import pytest

from tests.e2e.test_mentions import slack_escaped
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash


@pytest.mark.parametrize(
    ("command", "typed", "quoted"),
    [
        ("/risk", "Updte R-001", '"Updte"'),
        ("/risk", "<@U0VICTIM>", '"&lt;@U0VICTIM&gt;"'),
        ("/sprint", "report Tomorrow", '"Tomorrow"'),
        ("/sprint", "signoff Day Nine", '"Day Nine"'),
        ("/sprint", "Lanch", '"Lanch"'),
    ],
)
def test_a_refusal_quotes_the_text_as_typed(
    server: Server, command: str, typed: str, quoted: str
) -> None:
    """`/risk Updte R-001` is answered 'Unknown option "updte"', `/sprint report Tomorrow`
    '... not "tomorrow"', `/risk <@U0VICTIM>` quotes "<@u0victim>": the user is shown a
    text they never typed. A refusal should quote the words as typed ("Updte",
    "Tomorrow", "<@U0VICTIM>" shown as text)."""
    at(server, T0)
    answer = slash(server.url, command, slack_escaped(typed), user_id="U0DEV").json()["text"]
    assert quoted in answer, answer
