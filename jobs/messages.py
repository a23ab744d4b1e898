"""The messages jobs queue for the bot to render: their templates, the version of each
template's data (its TypedDict in the producing module) and the outbox payload carrying both."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Template(StrEnum):
    REGRESSION_ALERT = "regression_alert"
    REGRESSION_LIST = "regression_list"
    REGRESSION_EMAIL = "regression_email"
    ALERT_RESOLVED = "alert_resolved"
    ALERT_FOLLOWUP = "alert_followup"
    ALERT_ACKED = "alert_acked"
    TESTS_MUTED = "tests_muted"
    QUARANTINE_CHANGE = "quarantine_change"
    FLAKY_FOUND = "flaky_found"
    DECLINE_NOTICE = "decline_notice"
    EMERGENCY_STANDUP = "emergency_standup"
    PERFORMANCE_ALERT = "performance_alert"
    PERFORMANCE_RESOLVED = "performance_resolved"
    PERFORMANCE_EMAIL = "performance_email"
    STANDUP_DAY = "standup_day"
    STANDUP_REPLY = "standup_reply"
    STANDUP_PROMPT = "standup_prompt"
    STANDUP_REMINDER = "standup_reminder"
    BLOCKER = "blocker"
    BLOCKER_STEP = "blocker_step"
    BLOCKER_RESOLVED = "blocker_resolved"
    RISK_CHANGE = "risk_change"
    DAILY_REPORT = "daily_report"
    CHANGE_LIST = "change_list"
    BURNDOWN_CHART = "burndown_chart"
    WEEKLY_REPORT = "weekly_report"
    SPRINT_REVIEW = "sprint_review"
    SIGNOFF = "signoff"
    APP_HOME = "app_home"
    SPRINT_HISTORY = "sprint_history"


# The version of each template's data. A queued row outlives the code that wrote it (Slack
# down, a deploy in between): bump a template's number whenever its TypedDict changes in a
# way the renderer of the old shape would misread, so that such a row is failed with a
# clear reason (or upgraded) rather than rendered wrong.
# EMERGENCY_STANDUP carries a stored DECLINE_NOTICE's data at that data's version: bump
# the two together.
VERSIONS: dict[Template, int] = dict.fromkeys(Template, 1)

# Rows queued before versions existed carry no "v"; they hold version 1's shape.
UNVERSIONED = 1


@dataclass(frozen=True)
class Spec(Generic[T]):
    """A template together with the type of its data (T, a TypedDict), declared beside that
    TypedDict in the producing module: `payload`, `notices.post` and the renderers'
    registry take one, so that mypy holds a message's data and its renderer to the template."""

    template: Template


def payload(
    spec: Spec[T], data: T, *, version: int | None = None, **slack_args: object
) -> dict[str, object]:
    """The outbox payload of a message: its template and version (the current one unless
    the data was stored at another, see jobs.notices), its data, and the Web API arguments
    (channel, user_id, to...) that go to Slack as they are."""
    v = VERSIONS[spec.template] if version is None else version
    return {"template": str(spec.template), "v": v, "data": data, **slack_args}


def short(text: str, limit: int) -> str:
    """Plain text (a header, a button label, a risk in a report) shortened to `limit`
    characters, ending "…" where it is cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Characters that draw nothing: a soft hyphen, zero-width spaces and marks, word joiners,
# fillers. In a name shown as code (a test's id, a run, a commit), two tests differing by
# one looked the same, and the lead quarantined the passing one for the failing one (found
# by review). Shown as `\u200b`, as pytest writes a character it cannot show in a test's
# id; what is typed back that way is read as the character (`typed_back`). Not the
# zero-width joiner and non-joiner: they join an emoji's parts and shape Indic and Persian
# letters (shown as escapes, they split the emoji in a blocker's text; found by review).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u180e\u200b\u200e\u200f\u2060-\u2064\u3164\ufeff\uffa0]"
)
_SHOWN_INVISIBLE = re.compile(r"\\u([0-9a-fA-F]{4})")


def visible(text: str) -> str:
    """`text` with each character that draws nothing written as its escape ("\\u200b")."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def typed_back(text: str) -> str:
    """What `visible` showed, typed back: its escapes of characters that draw nothing read
    as those characters (the escape of any other character, "\\u00e9", stays as typed)."""

    def char(m: re.Match[str]) -> str:
        c = chr(int(m.group(1), 16))
        return c if _INVISIBLE.fullmatch(c) else m.group()

    return _SHOWN_INVISIBLE.sub(char, text)


def mention(slack_id: str) -> str:
    """A mrkdwn mention of a user (`<@U…>`) or of a user group (`<!subteam^S…>`)."""
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def mentions(slack_ids: Iterable[str], *, sep: str = ", ") -> str:
    """Several mentions joined by `sep`; "" for none."""
    return sep.join(mention(i) for i in slack_ids)
