"""Text the database can store: PostgreSQL refuses NUL in text and JSON, and no database
driver encodes a lone surrogate, so such text is refused with a field error up front rather
than failing half-way through a transaction."""

from __future__ import annotations

import re

from jobs.errors import SprintError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "This text contains a character that can't be stored (a NUL byte or a broken "
    "surrogate); remove it and try again."
)


def problem(text: str | None) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    return MESSAGE if text and _UNSTORABLE.search(text) else None


def check(*texts: str | None) -> None:
    """SprintError when any of `texts` cannot be stored."""
    for text in texts:
        if (why := problem(text)) is not None:
            raise SprintError(why)
