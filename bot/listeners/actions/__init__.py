"""Button listeners."""

import re

from slack_bolt import App

from bot.ids import Action
from bot.listeners.actions import alerts, blocker, sprint, standup


def register(app: App) -> None:
    """Attach the block action listeners."""
    app.action(Action.ALERT_ACK)(alerts.on_ack)
    app.action(Action.ALERT_MUTE)(alerts.on_mute)
    app.action(Action.EMERGENCY_STANDUP)(alerts.on_emergency_standup)
    app.action(Action.STANDUP_OPEN)(standup.on_open)
    app.action(Action.BLOCKER_ACK)(blocker.on_ack)
    app.action(Action.BLOCKER_ESCALATE)(blocker.on_escalate)
    app.action(Action.BLOCKER_RESOLVE)(blocker.on_resolve)
    app.action(re.compile(f"^{Action.SIGNOFF}:"))(sprint.on_signoff)
    app.action(Action.LESSON_ADD)(sprint.on_lesson_add)
