"""Block Kit for every message and modal, one module per domain, and the registry that
renders a queued outbox payload with the renderer of its template and version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.blocks import (
    alerts,
    blockers,
    history,
    home,
    reports,
    review,
    risks,
    standups,
    tests,
)
from bot.blocks.common import Message, plain
from jobs import blockers as blocker_msgs
from jobs import history as history_msgs
from jobs import milestones as milestone_msgs
from jobs import notices, quarantine
from jobs import reports as report_msgs
from jobs import review as review_msgs
from jobs import risks as risk_msgs
from jobs import standups as standup_msgs
from jobs.messages import UNVERSIONED, VERSIONS, Spec, Template

T = TypeVar("T")
# The registry's tables hold each renderer as it takes JSON from a queued row; `register`
# is where mypy holds a renderer's TypedDict to its template's (the spec's).
Renderer = Callable[[Any], Message]
EmailRenderer = Callable[[Any], tuple[str, str]]
# (template, version) -> that version's data in the shape of the next version.
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

SLACK: dict[Template, tuple[int, Renderer]] = {}
EMAIL: dict[Template, tuple[int, EmailRenderer]] = {}
# Files the outbox uploads (drawn by bot.charts): the version of the data each takes.
FILES: dict[Template, int] = {}
UPGRADES: dict[tuple[Template, int], Upgrade] = {}


# A renderer takes the version of its template's data that this code writes (VERSIONS):
# one number per template, so a bump cannot leave the renderer behind.


def register(spec: Spec[T], renderer: Callable[[T], Message]) -> None:
    """Render `spec`'s messages of the current version with `renderer`."""
    SLACK[spec.template] = (VERSIONS[spec.template], renderer)


def register_email(spec: Spec[T], renderer: Callable[[T], tuple[str, str]]) -> None:
    """Render `spec`'s e-mails of the current version with `renderer` (subject, body)."""
    EMAIL[spec.template] = (VERSIONS[spec.template], renderer)


def register_file(spec: Spec[T]) -> None:
    """`spec`'s data of the current version is drawn into a file (bot.charts)."""
    FILES[spec.template] = VERSIONS[spec.template]


register(notices.REGRESSION_ALERT, alerts.regression_alert)
register(notices.REGRESSION_LIST, alerts.regression_list)
register(notices.ALERT_RESOLVED, alerts.alert_resolved)
register(notices.ALERT_FOLLOWUP, alerts.alert_followup)
register(notices.ALERT_ACKED, alerts.alert_acked)
register(notices.TESTS_MUTED, alerts.tests_muted)  # (rows queued before quarantines)
register(quarantine.QUARANTINE_CHANGE, tests.quarantine_change)
register(quarantine.FLAKY_FOUND, tests.flaky_found)
register(notices.DECLINE_NOTICE, alerts.decline_notice)
register(notices.EMERGENCY_STANDUP, alerts.emergency_standup)
register(notices.PERFORMANCE_ALERT, alerts.performance_alert)
register(notices.PERFORMANCE_RESOLVED, alerts.performance_resolved)
register(standup_msgs.STANDUP_DAY, standups.standup_day)
register(standup_msgs.STANDUP_REPLY, standups.standup_reply)
register(standup_msgs.STANDUP_PROMPT, standups.standup_prompt)
register(standup_msgs.STANDUP_REMINDER, standups.standup_reminder)
register(blocker_msgs.BLOCKER, blockers.blocker)
register(blocker_msgs.BLOCKER_STEP, blockers.blocker_step)
register(blocker_msgs.BLOCKER_RESOLVED, blockers.blocker_resolved)
register(risk_msgs.RISK_CHANGE, risks.risk_change)
register(report_msgs.DAILY_REPORT, reports.daily_report)
register(report_msgs.CHANGE_LIST, reports.change_list)
register(report_msgs.WEEKLY_REPORT, reports.weekly_report)
register(review_msgs.SPRINT_REVIEW, review.sprint_review)
register(milestone_msgs.SIGNOFF, review.signoff)
register(report_msgs.APP_HOME, home.app_home)
register(history_msgs.SPRINT_HISTORY, history.sprint_history)
register_email(notices.REGRESSION_EMAIL, alerts.regression_email)
register_email(notices.PERFORMANCE_EMAIL, alerts.performance_email)
register_file(report_msgs.BURNDOWN_CHART)


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
