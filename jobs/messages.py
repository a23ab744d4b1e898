"""The messages jobs queue for the bot to render: their templates, the version of each
template's data (its TypedDict in the producing module) and the outbox payload carrying both."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Template(StrEnum):
    REGRESSION_ALERT = "regression_alert"
    REGRESSION_LIST = "regression_list"
    REGRESSION_EMAIL = "regression_email"
    ALERT_RESOLVED = "alert_resolved"
    ALERT_FOLLOWUP = "alert_followup"
    ALERT_ACKED = "alert_acked"
    TESTS_MUTED = "tests_muted"
    DECLINE_NOTICE = "decline_notice"
    EMERGENCY_STANDUP = "emergency_standup"
    PERFORMANCE_ALERT = "performance_alert"
    PERFORMANCE_RESOLVED = "performance_resolved"
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


# The version of each template's data. A queued row outlives the code that wrote it (Slack
# down, a deploy in between): bump a template's number whenever its TypedDict changes in a
# way the renderer of the old shape would misread, so that such a row is failed with a
# clear reason (or upgraded) rather than rendered wrong.
VERSIONS: dict[Template, int] = dict.fromkeys(Template, 1)

# Rows queued before versions existed carry no "v"; they hold version 1's shape.
UNVERSIONED = 1


def payload(
    template: Template, data: Mapping[str, object], **slack_args: object
) -> dict[str, object]:
    """The outbox payload of a message: its template and version, its data, and the Web API
    arguments (channel, user_id, to...) that go to Slack as they are."""
    return {"template": str(template), "v": VERSIONS[template], "data": data, **slack_args}


def mention(slack_id: str) -> str:
    """A mrkdwn mention of a user (`<@U…>`) or of a user group (`<!subteam^S…>`)."""
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def mentions(slack_ids: Iterable[str], *, sep: str = ", ") -> str:
    """Several mentions joined by `sep`; "" for none."""
    return sep.join(mention(i) for i in slack_ids)
