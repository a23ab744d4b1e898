"""Block Kit for every message and modal, one module per domain, and the registry that
renders a queued outbox payload with the renderer of its template and version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.blocks import alerts, blockers, home, reports, review, risks, standups
from bot.blocks.common import Message, plain
from jobs.messages import UNVERSIONED, Template

# Each renderer takes its template's TypedDict (jobs.<domain>); the registry is where the
# JSON of a queued row meets it, and the version is what vouches for the shape.
Renderer = Callable[[Any], Message]
EmailRenderer = Callable[[Any], tuple[str, str]]
# (template, version) -> that version's data in the shape of the next version.
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


SLACK: dict[Template, tuple[int, Renderer]] = {
    Template.REGRESSION_ALERT: (1, alerts.regression_alert),
    Template.REGRESSION_LIST: (1, alerts.regression_list),
    Template.ALERT_RESOLVED: (1, alerts.alert_resolved),
    Template.ALERT_FOLLOWUP: (1, alerts.alert_followup),
    Template.ALERT_ACKED: (1, alerts.alert_acked),
    Template.TESTS_MUTED: (1, alerts.tests_muted),
    Template.DECLINE_NOTICE: (1, alerts.decline_notice),
    Template.EMERGENCY_STANDUP: (1, alerts.emergency_standup),
    Template.PERFORMANCE_ALERT: (1, alerts.performance_alert),
    Template.PERFORMANCE_RESOLVED: (1, alerts.performance_resolved),
    Template.STANDUP_DAY: (1, standups.standup_day),
    Template.STANDUP_REPLY: (1, standups.standup_reply),
    Template.STANDUP_PROMPT: (1, standups.standup_prompt),
    Template.STANDUP_REMINDER: (1, standups.standup_reminder),
    Template.BLOCKER: (1, blockers.blocker),
    Template.BLOCKER_STEP: (1, blockers.blocker_step),
    Template.BLOCKER_RESOLVED: (1, blockers.blocker_resolved),
    Template.RISK_CHANGE: (1, risks.risk_change),
    Template.DAILY_REPORT: (1, reports.daily_report),
    Template.CHANGE_LIST: (1, reports.change_list),
    Template.WEEKLY_REPORT: (1, reports.weekly_report),
    Template.SPRINT_REVIEW: (1, review.sprint_review),
    Template.SIGNOFF: (1, review.signoff),
    Template.APP_HOME: (1, home.app_home),
}
EMAIL: dict[Template, tuple[int, EmailRenderer]] = {
    Template.REGRESSION_EMAIL: (1, alerts.regression_email),
}
# Files the outbox uploads (drawn by bot.charts): the version of the data each takes.
FILES: dict[Template, int] = {Template.BURNDOWN_CHART: 1}
UPGRADES: dict[tuple[Template, int], Upgrade] = {}


class VersionMismatch(ValueError):
    """A queued row whose data this code cannot render: written by another version of
    sprintbot (a newer one, or an older one whose shape has no upgrade)."""


def data(payload: Mapping[str, Any], version: int) -> Any:
    """The payload's data in the shape of `version`, upgraded from an older one where an
    upgrade is registered; VersionMismatch when it cannot be."""
    template = Template(payload["template"])
    queued = int(payload.get("v", UNVERSIONED))
    v, d = queued, payload["data"]
    while v < version and (template, v) in UPGRADES:
        d, v = UPGRADES[template, v](d), v + 1
    if v != version:
        raise VersionMismatch(
            f"queued by another sprintbot version: template {template} v{queued}, "
            f"this one renders v{version}"
        )
    return d


def render(payload: Mapping[str, Any]) -> Message:
    """The Slack message of a queued payload ({"template", "v", "data", ...})."""
    version, renderer = SLACK[Template(payload["template"])]
    return renderer(data(payload, version))


def render_email(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of a queued e-mail payload: plain text, in which no Slack mention
    or link syntax survives from user or CI text."""
    version, renderer = EMAIL[Template(payload["template"])]
    subject, body = renderer(data(payload, version))
    return plain(subject), plain(body)


def file_data(payload: Mapping[str, Any]) -> Any:
    """The data of a queued file upload (a chart), in the shape its drawing takes."""
    return data(payload, FILES[Template(payload["template"])])
