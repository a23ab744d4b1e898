"""People named as Slack shows them, where a message is plain text (`bot.people.named`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.outbox import make_client
from bot.people import NAMES_WITHIN, named
from tests.support.fakeslack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_users_by_display_name_and_groups_by_handle(slack: FakeSlack) -> None:
    slack.names["U0DANA"] = "Dana"
    slack.usergroups["S0EXECS"] = ["U0BOSS"]
    client = make_client("xoxb-test", slack.url)
    text = "Only <@U0DANA>, <@U0LEE> or <!subteam^S0EXECS> can resolve it; not <!channel>."
    assert named(text, client) == ("Only @Dana, @u0lee or @s0execs can resolve it; not <!channel>.")
    assert named("B-001 has no owner.", client) == "B-001 has no owner."


def test_with_slack_slow_the_ids_well_within_slacks_3_seconds(slack: FakeSlack) -> None:
    slack.slow("users.info", 5)
    client = make_client("xoxb-test", slack.url)
    start = time.monotonic()
    assert named("Ask <@U0DANA> or <@U0LEE>.", client) == "Ask @U0DANA or @U0LEE."
    assert time.monotonic() - start < 3 - NAMES_WITHIN  # (the form is answered in time)
    assert len(slack.calls_to("users.info")) == 1  # (after one failed, no more asked)


def test_with_slack_slow_but_in_time_for_each_the_names_still_fit_slacks_3_seconds(
    slack: FakeSlack,
) -> None:
    """Slack answers each users.info in 0.9 s, each within the second `named` waits: three
    mentions in a field error took 2.7 s of the 3 s the form's acknowledgement has (found
    by review). The second is for all the answers together; past it, the IDs."""
    slack.slow("users.info", 0.9, times=3)
    client = make_client("xoxb-test", slack.url)
    start = time.monotonic()
    shown = named("Ask <@U0DANA>, <@U0LEE> or <@U0KIM>.", client)
    assert time.monotonic() - start < 3 - NAMES_WITHIN, shown
    assert shown.endswith("or @U0KIM."), shown
