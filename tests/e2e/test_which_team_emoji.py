"""The 'which team?' answer's example ("Or type the team first, e.g. `…`") is what was
typed, to type again: an emoji joined by a zero-width joiner stays whole (found by review:
it showed as an escape between its parts, and the blocker filed by typing the example
said "\\u200d" for good)."""

from __future__ import annotations

import re

from tests.e2e.test_teams_routing import blockers_of, in_dm, org, teams_dir  # noqa: F401
from tests.support.server import Server

DEV = "\U0001f469\u200d\U0001f4bb"  # 👩‍💻: woman, zero-width joiner, laptop


def test_the_which_team_example_keeps_an_emoji_as_typed(org: Server) -> None:  # noqa: F811
    typed = f"P1 Sync: the {DEV} dev build crashes"
    answer = in_dm(org, "/blocker", typed, user="U0BOB").json()
    assert "You are in several teams" in answer["text"], answer
    [example] = re.findall(r"e\.g\. `([^`]*)`", answer["text"])
    assert example == f"/blocker mobile {typed}", example  # what to type: as typed

    # Typed as the example shows it: the blocker says what the person wrote.
    in_dm(org, "/blocker", example.removeprefix("/blocker "), user="U0BOB")
    [filed] = blockers_of(org)["mobile"]
    assert "\\u200d" not in filed.description, filed.description
