"""Reading what Slack sends: a submitted view's values, a button's value."""

from __future__ import annotations

from typing import Any

from jobs.errors import SprintError
from jobs.numbers import row_id


def button_int(body: dict[str, Any]) -> int:
    """The integer id a button carries in its value (an alert, a blocker), before any
    "@step" (`button_step`)."""
    try:
        found = row_id(str(body["actions"][0]["value"]).partition("@")[0])
    except (KeyError, IndexError):
        found = None
    if found is None:  # (a forged value: no row's id)
        raise SprintError("That button is not attached to anything sprintbot knows.")
    return found


def button_shown(body: dict[str, Any]) -> str | None:
    """What a button's value says its message showed, after its id ("7@1": "1", "7@": ""),
    if it says anything (a message posted before buttons carried it does not)."""
    try:
        _, at, shown = str(body["actions"][0]["value"]).partition("@")
    except (KeyError, IndexError):
        raise SprintError("That button is not attached to anything sprintbot knows.") from None
    return shown if at else None


def button_step(body: dict[str, Any]) -> int | None:
    """The step a button's value says its message showed ("7@1": 1), if it says one."""
    shown = button_shown(body)
    try:
        return int(shown) if shown is not None else None
    except ValueError:
        raise SprintError("That button is not attached to anything sprintbot knows.") from None


def button_ints(body: dict[str, Any]) -> list[int]:
    """The integer ids a button carries, comma-separated (the tests of a notice)."""
    try:
        found = [row_id(x) for x in str(body["actions"][0]["value"]).split(",")]
    except (KeyError, IndexError):
        found = [None]
    ids = [x for x in found if x is not None]
    if len(ids) != len(found):
        raise SprintError("That button is not attached to anything sprintbot knows.")
    return ids


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """A submitted view's state as {block_id: value}: text, number, one choice or a list."""
    out: dict[str, Any] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for action in actions.values():
            kind = action.get("type")
            if kind in ("plain_text_input", "number_input"):
                out[block_id] = action.get("value")
            elif kind == "static_select":
                out[block_id] = (action.get("selected_option") or {}).get("value")
            elif kind == "users_select":
                out[block_id] = action.get("selected_user")
            elif kind == "multi_static_select":
                out[block_id] = [o["value"] for o in action.get("selected_options") or []]
    return out
