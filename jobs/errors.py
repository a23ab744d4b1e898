"""Errors the domain raises for people to read: the bot shows them as they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.messages import short


class SprintError(Exception):
    """Something a user asked for cannot be done; the message says what and how to fix it.

    Plain text, escaped where it is shown. `quoted`: text of the sprint file's or of
    another user's that the message quotes (a milestone's name): a mention or link in it
    shows as typed, as what the user typed does (the bot's own mentions stay mentions; a
    milestone named with `<@U…>` mentioned them in a refusal; found by review)."""

    def __init__(self, *args: object, quoted: tuple[str, ...] = ()) -> None:
        super().__init__(*args)
        self.quoted = quoted


class FieldErrors(SprintError):
    """What is wrong with a form, field by field: `{block_id: message}`.

    A modal's submission shows each message under its field; anywhere else (a command) the
    messages are the error's text, one after another."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))

    @classmethod
    def raise_any(cls, errors: Mapping[str, str]) -> None:
        """Raise for `errors` unless there are none (what a `field_errors()` returned)."""
        if errors:
            raise cls(errors)


def shown(value: Any, limit: int = 40, *, bare: bool = False) -> str:
    """A refused value as an error quotes it: its repr (`bare`: a string as it is, e.g. an
    id of digits), cut short (an error never sends a huge or hostile input back whole)."""
    text = value if bare and isinstance(value, str) else repr(value)
    return short(text, limit)
