"""sprintbot's Slack and HTTP surface: settings, Bolt app, listeners, web server, CLI."""
