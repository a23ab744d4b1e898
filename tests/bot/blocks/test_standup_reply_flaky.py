"""The standup answer posted in the day's thread (the channel's copy of the form's
snapshot) still writes "12/13 tests passing" with the 13th unexplained and thousands
ungrouped ("1700/2000"), while the form it was sent from, the reports, Home, /sprint,
/readiness and the tracker say "· 1 flaky" beside the same figure (commit 8ae9d1b: "flaky
tests beside the tests passing on every surface"). The snapshot holds `flaky`."""

from __future__ import annotations

from bot.blocks.standups import standup_reply
from jobs.standups import MetricsSnapshot, StandupReplyMessage
from tests.bot.blocks.test_standups import empty_answers, texts


def test_the_answers_snapshot_says_the_flaky_tests_as_the_form_does() -> None:
    metrics: MetricsSnapshot = {
        "passed": 1200,
        "known": 1300,
        "pass_rate": 92.31,
        "readiness": 74.5,
        "plan": 76.0,
        "health": "At Risk",
        "flaky": 1,
    }
    reply: StandupReplyMessage = {
        "user": "U0DEV",
        "day": "2025-10-31",
        "sprint_day": 3,
        "days": 14,
        "answers": empty_answers(focus_areas="eviction"),
        "metrics": metrics,
        "edited": False,
    }
    snapshot = texts(standup_reply(reply))[-1]
    assert snapshot.startswith("Snapshot: 1,200/1,300 tests passing"), snapshot
    assert "1 flaky" in snapshot, snapshot
