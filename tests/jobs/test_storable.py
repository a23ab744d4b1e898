"""Text the database can store: NUL and lone surrogates are refused up front."""

from __future__ import annotations

import pytest

from jobs import storable
from jobs.errors import SprintError


@pytest.mark.parametrize("text", ["nul \x00 byte", "lone \ud800 surrogate"])
def test_unstorable_text_is_refused_with_what_to_do(text: str) -> None:
    assert storable.problem(text) == storable.MESSAGE
    with pytest.raises(SprintError, match="remove it and try again"):
        storable.check("fine", text)


@pytest.mark.parametrize("text", [None, "", "emoji 🚀 and ünïcode", "<@U01> & *bold*"])
def test_storable_text_passes(text: str | None) -> None:
    assert storable.problem(text) is None
    storable.check(text)
