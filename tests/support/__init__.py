"""Helpers shared by test modules: sprints, JUnit reports, the fake Slack, outbox reads."""
