"""Someone in two teams types a command in a DM: the "which team?" answer quotes what they
typed inside a code span as the example to type again. A backtick in it ends the span early
(the rest then reads as formatting), and the text is cut at 99 characters of Slack's
*escaped* form, in the middle of an `&amp;` (found by review: the example must be one
span, cut whole)."""

from __future__ import annotations

from tests.e2e.test_teams_routing import in_dm, org, teams_dir  # noqa: F401  (fixtures)
from tests.support.server import Server


def test_the_example_shows_a_typed_backtick_inside_its_code_span(org: Server) -> None:  # noqa: F811
    typed = "P1 Sync: `SyncEngine.merge()` drops edits"
    # (Slack escapes &, < and > in a command's text; a backtick comes as typed.)
    answer = in_dm(org, "/blocker", typed, user="U0BOB").json()
    text = answer["text"]
    example = text[text.index("e.g. ") + len("e.g. ") :]
    # (It was "`/blocker mobile P1 Sync: `SyncEngine.merge()` drops edits`.": Slack showed
    # "SyncEngine.merge()" as plain text between two code spans.)
    assert example.count("`") == 2, example


def test_the_example_never_cuts_an_ampersand_in_half(org: Server) -> None:  # noqa: F811
    typed = "P1 Sync: " + "x" * 86 + " R&D sync fails"
    escaped = typed.replace("&", "&amp;")
    answer = in_dm(org, "/blocker", escaped, user="U0BOB").json()
    text = answer["text"]
    # (It was "… xxxx R&am…`": Slack showed the broken entity as the letters "&am".)
    assert "&am…" not in text and "&a…" not in text and "&amp…" not in text, text
