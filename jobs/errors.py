"""Errors the domain raises for people to read: the bot shows them as they are."""


class SprintError(Exception):
    """Something a user asked for cannot be done; the message says what and how to fix it."""
