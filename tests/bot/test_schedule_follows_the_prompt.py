"""cc01c0e refuses a schedule whose reminder or digest comes before the prompt. The check
runs on the defaults too: a sprint file that moves only its prompt (docs/sprint-file.md:
every [schedule] key is optional, reminder "09:25", digest "09:30") to a 10:00 standup is
now refused, naming keys the file never wrote."""

from __future__ import annotations

import tomllib

import pytest

from jobs.config import ConfigError, validate_sprint
from tests.support.server import EXAMPLE


def test_a_file_setting_only_a_later_prompt_is_not_refused() -> None:
    raw = tomllib.loads(EXAMPLE.read_text())
    raw["schedule"] = {"standup_prompt": "10:00"}
    try:
        validate_sprint(raw)
    except ConfigError as exc:
        raise AssertionError(f"refused: {exc.problems}") from None


@pytest.mark.parametrize(
    ("given", "reminder", "digest"),
    [
        ({"standup_prompt": "10:00"}, "10:25", "10:30"),
        ({"standup_prompt": "10:00", "standup_digest": "10:20"}, "10:20", "10:20"),
        ({"standup_digest": "09:20"}, "09:20", "09:20"),
        ({"standup_reminder": "09:40"}, "09:40", "09:40"),
        ({"standup_prompt": "23:50"}, "23:59", "23:59"),
        ({}, "09:25", "09:30"),
    ],
)
def test_a_reminder_or_digest_left_out_follows_what_the_file_gives(
    given: dict[str, str], reminder: str, digest: str
) -> None:
    """Never refused over a time the file did not write (a digest at 10:20 after a 10:00
    prompt was refused over the 10:25 reminder it implied; found by review)."""
    from jobs.config import Schedule

    schedule = Schedule.model_validate(given)
    assert (f"{schedule.standup_reminder:%H:%M}", f"{schedule.standup_digest:%H:%M}") == (
        reminder,
        digest,
    )
