"""cc01c0e refuses a schedule whose reminder or digest comes before the prompt. The check
runs on the defaults too: a sprint file that moves only its prompt (docs/sprint-file.md:
every [schedule] key is optional, reminder "09:25", digest "09:30") to a 10:00 standup is
now refused, naming keys the file never wrote."""

from __future__ import annotations

import tomllib

from jobs.config import ConfigError, validate_sprint
from tests.support.server import EXAMPLE


def test_a_file_setting_only_a_later_prompt_is_not_refused() -> None:
    raw = tomllib.loads(EXAMPLE.read_text())
    raw["schedule"] = {"standup_prompt": "10:00"}
    try:
        validate_sprint(raw)
    except ConfigError as exc:
        raise AssertionError(f"refused: {exc.problems}") from None
