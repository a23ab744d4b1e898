"""Callback, block and action ids, in one place."""

from enum import StrEnum


class Command(StrEnum):
    STANDUP = "/standup"
    BLOCKER = "/blocker"
    RISK = "/risk"
    READINESS = "/readiness"
    SPRINT = "/sprint"
    TESTS = "/tests"


class Action(StrEnum):
    ALERT_ACK = "alert_ack"
    ALERT_MUTE = "alert_mute"  # the regression alert's "Quarantine" button
    FLAKY_QUARANTINE = "flaky_quarantine"  # value: the ids of the tests found flaky
    EMERGENCY_STANDUP = "emergency_standup"
    STANDUP_OPEN = "standup_open"
    BLOCKER_ACK = "blocker_ack"
    BLOCKER_ESCALATE = "blocker_escalate"
    BLOCKER_RESOLVE = "blocker_resolve"
    RISK = "risk"
    SIGNOFF = "signoff"
    LESSON_ADD = "lesson_add"
    TEAM_PICK = "team_pick"  # `team_pick:<team>`: run a command again for the team chosen
    HOME_TEAM = "home_team"  # `home_team:<team>`: show that team's dashboard on the Home tab


class View(StrEnum):
    STANDUP = "standup"
    BLOCKER = "blocker"
    BLOCKER_RESOLVE = "blocker_resolve"
    RISK = "risk"
    LESSON = "lesson"
