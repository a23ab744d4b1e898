"""Text the database can store: PostgreSQL refuses NUL in text and JSON, and no database
driver encodes a lone surrogate, so such text is refused with a field error up front rather
than failing half-way through a transaction. Control characters (ESC, BEL, …: all but tab
and line ends) are refused with them: typed in Slack, they reached the terminal of whoever
ran `sprintbot export tracker` (a window title set, the screen cleared; found by review)."""

from __future__ import annotations

import re
import unicodedata

from jobs.errors import SprintError

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MESSAGE = (
    "This text contains a character that can't be stored (a NUL byte, a control character "
    "or a broken surrogate); remove it and try again."
)


def problem(text: str | None) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    return MESSAGE if text and _UNSTORABLE.search(text) else None


def blank(text: str | None) -> bool:
    """Whether `text` shows nothing: spaces, and invisible format characters (zero-width
    spaces and joiners, a byte-order mark: a blocker described by one was filed blank,
    where "   " was refused; found by review)."""
    return not any(not c.isspace() and unicodedata.category(c) != "Cf" for c in (text or ""))


def check(*texts: str | None) -> None:
    """SprintError when any of `texts` cannot be stored."""
    for text in texts:
        if (why := problem(text)) is not None:
            raise SprintError(why)
