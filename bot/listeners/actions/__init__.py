"""Button listeners."""

import re

from slack_bolt import App

from bot.acks import after_ack
from bot.blocks.common import VALUE
from bot.ids import Action
from bot.listeners.actions import alerts, blocker, sprint, standup, team
from jobs.blockers import BlockerField


def register(app: App) -> None:
    """Attach the block action listeners."""
    app.action(Action.ALERT_ACK)(after_ack(alerts.on_ack))
    app.action(Action.ALERT_MUTE)(after_ack(alerts.on_mute))
    app.action(Action.FLAKY_QUARANTINE)(after_ack(alerts.on_flaky_quarantine))
    app.action(Action.EMERGENCY_STANDUP)(after_ack(alerts.on_emergency_standup))
    app.action(Action.STANDUP_OPEN)(after_ack(standup.on_open))
    app.action(Action.BLOCKER_ACK)(after_ack(blocker.on_ack))
    app.action(Action.BLOCKER_ESCALATE)(after_ack(blocker.on_escalate))
    app.action(Action.BLOCKER_RESOLVE)(after_ack(blocker.on_resolve))
    # The blocker form's component select dispatches its choice: owners are suggested.
    app.action({"block_id": BlockerField.COMPONENT, "action_id": VALUE})(
        after_ack(blocker.on_component_picked)
    )
    app.action(re.compile(f"^{Action.SIGNOFF}:"))(after_ack(sprint.on_signoff))
    app.action(Action.LESSON_ADD)(after_ack(sprint.on_lesson_add))
    app.action(re.compile(f"^{Action.TEAM_PICK}:"))(after_ack(team.on_pick))
