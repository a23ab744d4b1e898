"""A team whose participants are its channel's people (`participants = "team"`): who is
in it is known in time to route a first command, what was read holds for the process
(every request has a client of its own), an app is never a participant, an account
deactivated mid-sprint leaves by the next morning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_org_edges import running_org
from tests.support.e2e import home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    return running_org(make_server, tmp_path)


def _twenty_in_mobile(org: Server) -> None:
    org.slack.channels["C0MOBILE"] = {"name": "mobile"}
    org.slack.team_members = ["U0FRANK", "U0DAVE"] + [f"U0P{i:02d}" for i in range(18)]
    org.slack.latency = 0.06  # Slack's round trip from a server far from it


def test_a_20_person_channel_team_is_still_found_for_the_first_command(org: Server) -> None:
    """#mobile (participants = "team") has 20 people; Frank is in mobile only by that
    channel. Slack answers each call in 60 ms. His first /sprint (outside a team channel)
    after the bot starts must be routed to mobile: reading the channel's members takes 3-4
    calls (~0.25 s), within routing's 1 s wait (bot.members.WAIT). Routing needs who is in
    the channel, not who of them is an app: asking users.info of each (24 calls, ~1.4 s)
    ran out the wait, and he was asked which team, offered teams he is not in."""
    _twenty_in_mobile(org)
    resp = slash(org.url, "/sprint", user_id="U0FRANK").json()
    listeners_done()
    assert resp.get("text", "").startswith("Offline Sync"), resp.get("text")


# ---- per-request Bolt clients: what a listener's client read of the channel is lost ----

DAY3 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # 9:00 in New York, day 3


def _status_texts(server: Server) -> list[str]:
    return [
        c.args.get("text", "")
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]


def test_sprint_report_with_slack_failing_members_goes_by_the_members_as_last_read(
    server: Server,
) -> None:
    """9:00 read #phase4-production-readiness's members. At 10:00 conversations.members
    answers `ratelimited` (or 5xx) for a while; the tech lead types /sprint report: it goes
    by the members as last read. Kept per client, they were never there for a request
    (Bolt builds a client for each), and the report failed though the user was told it
    was being posted."""
    from bot import clock as bot_clock

    server.slack.team_members = ["UBOT", "U0TECHLEAD", "U0QALEAD", "U0ALICE"]
    server.clock.at = DAY3
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    assert len(_status_texts(server)) == 1
    server.clock.at = DAY3 + timedelta(hours=1)
    server.slack.fail(
        "conversations.members",
        error="ratelimited",
        status=429,
        headers={"Retry-After": "30"},
        times=10,
    )
    resp = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD")
    assert resp.status_code == 200
    listeners_done()
    server.runtime.sender.drain()
    texts = _status_texts(server)
    assert len(texts) == 2, texts


def test_home_asks_users_info_once_per_member_not_on_every_open(server: Server) -> None:
    """users.info is asked once a day per member, whichever request asks: every Home
    opened (each request with a client of its own) cost 20 calls for a 20-person channel,
    and Slack's users.info allows ~100 a minute."""
    server.slack.team_members = ["UBOT"] + [f"U0P{i:02d}" for i in range(20)]
    home_opened(server, "U0P00")
    listeners_done()
    first = len(server.slack.calls_to("users.info"))
    assert first == 20
    home_opened(server, "U0P01")
    home_opened(server, "U0P02")
    listeners_done()
    asked = len(server.slack.calls_to("users.info"))
    assert asked == first, asked


def test_a_github_app_known_as_an_app_is_not_missing_in_an_on_demand_report(
    server: Server,
) -> None:
    """9:00: users.info said UGITHUB (the GitHub app in the team channel) is an app, and the
    day's report left it out. At 10:00 users.info is rate-limited for a minute (Homes opened
    all morning); /sprint report goes by what 9:00 learnt (its own client had never asked:
    the GitHub app was listed among those who had not answered their standup)."""
    from bot import clock as bot_clock

    server.slack.team_members = ["UBOT", "U0TECHLEAD", "U0QALEAD", "UGITHUB"]
    server.slack.bots = {"UGITHUB"}
    server.clock.at = DAY3
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    server.clock.at = DAY3 + timedelta(hours=1)
    server.slack.storm(5, retry_after=30, methods={"users.info"})
    slash(server.url, "/sprint", "report", user_id="U0TECHLEAD")
    listeners_done()
    server.runtime.sender.drain()
    from tests.support.e2e import text_of

    reports = [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]
    assert len(reports) == 2
    assert "missing <@U0QALEAD>, <@U0TECHLEAD>\n" in reports[0] + "\n"
    # the on-demand one: "Standups yesterday: 0 of 3; missing ..., <@UGITHUB>"
    assert "UGITHUB" not in reports[1], reports[1]


# ---- a standup form of a sprint's last evening, the next sprint weeks away ----


def test_an_account_deactivated_mid_sprint_is_left_out_of_the_next_days_report(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day 3, 9:00: U0LEAVER is a person in the team channel. That afternoon their account
    is deactivated (Slack keeps deactivated accounts in conversations.members, hence the
    `deleted` check). Day 4's report no longer counts them: users.info's answer is asked
    again each morning (it was kept until the process restarted)."""
    from bot import clock as bot_clock
    from tests.support.e2e import text_of

    fake = server.slack
    deleted: set[str] = set()
    original = fake._api

    def api(method: str, args: dict[str, Any]) -> Any:
        status, answer, headers = original(method, args)
        if method == "users.info" and answer.get("user", {}).get("id") in deleted:
            answer = {**answer, "user": {**answer["user"], "deleted": True}}
        return status, answer, headers

    monkeypatch.setattr(fake, "_api", api)
    fake.team_members = ["UBOT", "U0TECHLEAD", "U0LEAVER"]
    server.clock.at = DAY3
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    deleted.add("U0LEAVER")
    server.clock.at = DAY3 + timedelta(days=1)  # day 4, 9:00 New York
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    reports = [
        text_of(c)
        for c in fake.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status" and "Daily report" in c.args.get("text", "")
    ]
    assert len(reports) == 2, reports
    assert "U0LEAVER" not in reports[1], [x for x in reports[1].splitlines() if "Standup" in x]


def test_slack_down_the_morning_after_asks_no_one_of_slack(server: Server) -> None:
    """Slack down at 9:00 the day after the channel was read: the report goes by its
    members as last read and who of them is an app as last answered. Each users.info
    (retried with backoff) was asked again of every member, in every try and every Home
    opened: 57 calls and 24 s for a 20-person channel, per team, in the 9:00 wave."""
    from bot import clock as bot_clock

    server.slack.team_members = ["UBOT", "U0TECHLEAD", "U0QALEAD"] + [
        f"U0P{i:02d}" for i in range(17)
    ]
    server.clock.at = DAY3
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.clock.at = DAY3 + timedelta(days=1)
    server.slack.outage("503")
    try:
        before = len(server.slack.calls_to("users.info"))
        assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
        asked = len(server.slack.calls_to("users.info")) - before
    finally:
        server.slack.recover()
    assert asked == 0
