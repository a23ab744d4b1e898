"""Events listeners."""

from slack_bolt import App


def register(app: App) -> None:
    """Attach the events listeners (none yet: they arrive with standups, blockers and App Home)."""
    del app
