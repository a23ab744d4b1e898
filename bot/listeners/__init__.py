"""Every listener, registered by package from one place."""

from slack_bolt import App

from bot.listeners import actions, commands, events, views


def register_listeners(app: App) -> None:
    """Attach all command, action, view and event listeners to `app`."""
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
