"""Callback, block and action ids, in one place."""

from enum import StrEnum


class Command(StrEnum):
    STANDUP = "/standup"
    BLOCKER = "/blocker"
    RISK = "/risk"
    READINESS = "/readiness"
    SPRINT = "/sprint"
