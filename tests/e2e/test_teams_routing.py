"""Two teams in one deployment, end to end: a command acts for the team of the channel it is
typed in, a person in both teams is asked which (buttons) or names it first, modals and DM
buttons carry their team, blocker codes are per team (and shown with the team in a channel
both teams use), the API and the CLI name their team."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import col, select

from bot import cli
from bot.blocks import render_email
from storage.models import Blocker, OutboxMessage, Standup, Team
from tests.support import httpc
from tests.support.e2e import (
    ANSWER,
    AUTH,
    FIXTURES,
    click,
    opened,
    posts,
    responses,
    risk_values,
    state,
    strings,
    text_of,
    view_submit,
)
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server, two_teams
from tests.support.slack import post_signed

# Both teams' sprints run: platform's first (day 7), mobile's (day 2), 9:00 in New York.
NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
CHANNELS = {"platform": "C0PLATFORM", "mobile": "C0MOBILE"}
PLATFORM_TOKEN = "platform-ci-token"


@pytest.fixture
def teams_dir(tmp_path: Path) -> Path:
    return two_teams(tmp_path / "teams")


@pytest.fixture
def org(
    make_server: Callable[..., Server], teams_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Server:
    monkeypatch.setenv("PLATFORM_INGEST_TOKEN", PLATFORM_TOKEN)
    server = make_server(SPRINTBOT_CONFIG=str(teams_dir))
    server.clock.at = NOW
    return server


def command(
    server: Server,
    name: str,
    text: str = "",
    *,
    user: str,
    channel: str,
    channel_name: str | None,
) -> httpx.Response:
    """A slash command as Slack sends it from `channel` (its ID and its name)."""
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            **({"channel_name": channel_name} if channel_name else {}),
            "user_id": user,
            "command": name,
            "text": text,
            "api_app_id": "A1",
            "response_url": server.slack.response_url("action"),
            "trigger_id": "1.2.3",
        }
    )
    return post_signed(server.url, body)


def in_channel(server: Server, team: str, name: str, text: str, *, user: str) -> httpx.Response:
    return command(server, name, text, user=user, channel=CHANNELS[team], channel_name=team)


def in_dm(server: Server, name: str, text: str = "", *, user: str) -> httpx.Response:
    return command(server, name, text, user=user, channel="D0BOB", channel_name="directmessage")


def blockers_of(server: Server) -> dict[str, list[Blocker]]:
    """Every blocker (unscoped), by its team's id."""
    with server.runtime.contexts.db.read() as s:
        slugs = {t.id: t.slug for t in s.exec(select(Team)).all()}
        rows = s.exec(select(Blocker).order_by(col(Blocker.id))).all()
    out: dict[str, list[Blocker]] = {}
    for b in rows:
        out.setdefault(str(slugs[b.team_id]), []).append(b)
    return out


def test_a_blocker_acts_for_the_team_of_its_channel(org: Server) -> None:
    resp = in_channel(
        org, "platform", "/blocker", "P1 Task Orchestration: queue stalls", user="U0ALICE"
    )
    assert resp.json()["text"] == ":no_entry: B-001 filed in #critical-blockers (2025-11-04)."
    resp = in_channel(org, "mobile", "/blocker", "P1 Sync: conflicts lost", user="U0DAVE")
    assert resp.json()["text"] == ":no_entry: B-001 filed in #critical-blockers (2025-11-04)."
    by_team = blockers_of(org)
    assert [(b.code, b.component) for b in by_team["platform"]] == [("B-001", "Task Orchestration")]
    assert [(b.code, b.component) for b in by_team["mobile"]] == [("B-001", "Sync")]

    org.runtime.sender.drain()
    # #critical-blockers is both teams' blockers channel: each code is shown with its team.
    shared = [text_of(p) for p in posts(org) if p.args.get("channel") == "#critical-blockers"]
    assert any(t.startswith("platform B-001 P1 · Task Orchestration") for t in shared), shared
    assert any(t.startswith("mobile B-001 P1 · Sync") for t in shared), shared
    # The first escalation step ("team") goes to each team's own channel.
    step_channels = {p.args.get("channel") for p in posts(org) if "escalation step" in text_of(p)}
    assert {"#platform", "#mobile"} <= step_channels

    # `/blocker resolve B-001` in #mobile resolves mobile's B-001, not platform's.
    resp = in_channel(org, "mobile", "/blocker", "resolve B-001 merged the fix", user="U0DAVE")
    assert resp.json()["text"] == ":white_check_mark: B-001 resolved."
    by_team = blockers_of(org)
    assert by_team["mobile"][0].resolved_by == "U0DAVE"
    assert by_team["platform"][0].resolved_at is None


def test_a_channel_known_only_by_its_id_is_its_teams(org: Server) -> None:
    in_channel(org, "platform", "/blocker", "P2 Task Orchestration: slow", user="U0ALICE")
    org.runtime.sender.drain()  # the escalation's post to #platform: Slack names its ID
    # U0BOB is in both teams; the request names only the channel's ID, which the team file
    # writes as "#platform": its name is learned from Slack.
    resp = command(org, "/blocker", "list", user="U0BOB", channel="CPLATFORM", channel_name=None)
    assert "Task Orchestration" in resp.json()["text"]
    assert len(org.slack.calls_to("conversations.list")) == 1
    resp = command(org, "/blocker", "list", user="U0BOB", channel="CPLATFORM", channel_name=None)
    assert "Task Orchestration" in resp.json()["text"]
    assert len(org.slack.calls_to("conversations.list")) == 1


def test_risk_and_link_codes_are_the_teams(org: Server) -> None:
    in_channel(org, "platform", "/blocker", "P2 Task Orchestration: slow", user="U0ALICE")
    in_channel(org, "mobile", "/blocker", "P2 Sync: drops", user="U0DAVE")
    # Mobile's risk form (its metadata names mobile): mobile's R-001; platform has none.
    resp = view_submit(org, "risk", "U0BOB", risk_values(), {"risk": None, "team": "mobile"})
    assert resp.status_code == 200
    listeners_done()
    resp = in_channel(org, "platform", "/risk", "update R-001", user="U0ALICE")
    assert resp.json()["text"].startswith("There is no risk R-001.")
    resp = in_channel(org, "platform", "/blocker", "link B-1 R-1", user="U0ALICE")
    assert resp.json()["text"].startswith("There is no risk R-001.")
    resp = in_channel(org, "mobile", "/blocker", "link b-1 r1", user="U0DAVE")
    assert resp.json()["text"] == ":link: B-001 is linked to R-001."
    in_channel(org, "mobile", "/risk", "update R-001", user="U0DAVE")
    [view] = opened(org)
    assert view["title"]["text"] == "Edit R-001"
    assert json.loads(view["private_metadata"])["team"] == "mobile"


def test_a_blocker_button_in_a_shared_channel_acts_for_the_blockers_team(org: Server) -> None:
    in_channel(org, "platform", "/blocker", "P2 Task Orchestration: slow", user="U0ALICE")
    in_channel(org, "mobile", "/blocker", "P2 Sync: drops", user="U0DAVE")
    [mine] = blockers_of(org)["mobile"]
    # U0BOB is in both teams; #critical-blockers is both teams': the blocker says whose.
    resp = click(org, "blocker_ack", str(mine.id), "U0BOB", channel="CCRITICALBLOCKERS")
    assert resp.status_code == 200
    listeners_done()
    by_team = blockers_of(org)
    assert by_team["mobile"][0].owner == "U0BOB"
    assert by_team["platform"][0].owner is None


def test_an_unknown_code_is_refused_within_the_team(org: Server) -> None:
    in_channel(org, "platform", "/blocker", "P2 Task Orchestration: flaky", user="U0ALICE")
    resp = in_channel(org, "mobile", "/blocker", "resolve B-001 nothing", user="U0DAVE")
    assert resp.json()["text"].startswith("There is no blocker B-001.")
    assert blockers_of(org)["platform"][0].resolved_at is None


def test_a_person_in_two_teams_is_asked_which_in_a_dm(org: Server) -> None:
    resp = in_dm(org, "/standup", user="U0BOB")
    answer = resp.json()
    assert answer["response_type"] == "ephemeral"
    assert "You are in several teams (`mobile`, `platform`)" in answer["text"]
    assert "`/standup mobile`" in answer["text"]
    [buttons] = [b["elements"] for b in answer["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], json.loads(e["value"])) for e in buttons] == [
        ("Mobile Apps", {"team": "mobile", "command": "/standup", "text": ""}),
        ("Core Platform", {"team": "platform", "command": "/standup", "text": ""}),
    ]
    assert org.slack.calls_to("views.open") == []

    # Choosing a team runs the command for it: platform's standup opens.
    click_pick(org, buttons[1], user="U0BOB")
    [view] = opened(org)
    assert json.loads(view["private_metadata"])["team"] == "platform"
    assert "Phase 4 Production Readiness" in json.dumps(view)
    [gone] = responses(org, 1)  # the question goes once answered
    assert gone.args["delete_original"]


def test_a_choice_answers_in_place_of_the_question(org: Server) -> None:
    answer = in_dm(org, "/readiness", user="U0BOB").json()
    [buttons] = [b["elements"] for b in answer["blocks"] if b["type"] == "actions"]
    click_pick(org, buttons[0], user="U0BOB")
    [reply] = responses(org, 1)
    assert reply.args["response_type"] == "ephemeral" and reply.args["replace_original"]
    shown = " ".join(strings(reply.args))
    assert "Offline Sync" in shown and "Phase 4" not in shown


def test_a_button_or_form_of_no_one_team_is_answered_privately(org: Server) -> None:
    # U0BOB is in both teams; the button names no team and its channel is neither's.
    resp = click(org, "lesson_add", "add", "U0BOB", channel="CSPRINTSTATUS")
    assert resp.status_code == 200
    [said] = responses(org, 1)
    assert said.args["response_type"] == "ephemeral" and not said.args["replace_original"]
    assert said.args["text"].startswith("This isn't one team's channel")
    assert org.slack.calls_to("views.open") == []
    # A form that names no team (opened before teams) is answered in the modal.
    resp = view_submit(org, "lesson", "U0BOB", {"values": {}}, {})
    assert resp.json()["response_action"] == "update"
    assert "`mobile`, `platform`" in json.dumps(resp.json()["view"])


def test_naming_the_team_first_opens_its_standup_and_each_answer_is_its_teams(
    org: Server,
) -> None:
    resp = in_dm(org, "/standup", "mobile", user="U0BOB")
    assert resp.status_code == 200 and resp.text == ""
    [view] = opened(org)
    metadata = json.loads(view["private_metadata"])
    assert metadata["team"] == "mobile"
    assert "Offline Sync" in json.dumps(view)

    # The modal's submission acts for the team it names, whatever the person's teams.
    values = {k: v for k, v in ANSWER.items() if k not in ("components_improved",)}
    values["current_blockers"] = ""
    for team in ("mobile", "platform"):
        resp = submit_standup(org, "U0BOB", {"day": "2025-11-04", "team": team}, **values)
        assert resp.status_code == 200, resp.text
    listeners_done()
    with org.runtime.contexts.db.read() as s:
        slugs = {t.id: t.slug for t in s.exec(select(Team)).all()}
        rows = s.exec(select(Standup).where(Standup.user_id == "U0BOB")).all()
    assert sorted(str(slugs[r.team_id]) for r in rows) == ["mobile", "platform"]


def test_a_standup_prompt_carries_its_team(org: Server) -> None:
    from bot import clock as bot_clock

    for team in org.runtime.teams.all:
        bot_clock.run_job(org.runtime.for_team(team), "standup-prompt")
    org.runtime.sender.drain()
    dms = [p for p in posts(org) if p.args.get("channel") == "U0BOB"]
    values = sorted(
        e["value"]
        for p in dms
        for b in p.args.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
    )
    assert values == ['{"team": "mobile"}', '{"team": "platform"}']
    # Each says which team's standup it is.
    assert sorted(p.args["text"].split(" — ")[0] for p in dms) == [
        ":wave: Time for today's *mobile* standup",
        ":wave: Time for today's *platform* standup",
    ]
    # Its button, clicked in the DM, opens that team's standup (which the form then names,
    # with its sprint: sent after the next sprint began, it still answers this one).
    click(org, "standup_open", '{"team": "mobile"}', "U0BOB", channel="D0BOB")
    [view] = opened(org)
    assert "Offline Sync" in json.dumps(view)
    assert json.loads(view["private_metadata"]) == {
        "day": "2025-11-04",
        "team": "mobile",
        "sprint": "2025-11-03",
    }


def test_the_api_names_its_team_or_uses_a_teams_token(org: Server) -> None:
    def readiness(query: str, token: str = INGEST_TOKEN) -> httpx.Response:
        return httpc.get(
            f"{org.url}/api/v1/readiness{query}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    missing = readiness("")
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "this deployment serves several teams (mobile, platform): add team=ID"
    }
    unknown = readiness("?team=web")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no team 'web' (the teams: mobile, platform)"}

    def groups(resp: httpx.Response) -> list[str]:
        assert resp.status_code == 200, resp.text
        return [g["name"] for g in resp.json()["groups"]]

    assert groups(readiness("?team=mobile")) == ["Data", "Apps"]
    # Platform's own token acts for platform without team=, and for platform only.
    assert "Core Infrastructure" in groups(readiness("", PLATFORM_TOKEN))
    assert "Core Infrastructure" in groups(readiness("?team=platform", PLATFORM_TOKEN))
    other = readiness("?team=mobile", PLATFORM_TOKEN)
    assert other.status_code == 403
    assert "mobile" in other.json()["error"]
    assert readiness("", "wrong").status_code == 401

    # Platform's CI posts a report with its own token: platform's tests, not mobile's.
    report = (FIXTURES / "pytest-xunit1-run1.xml").read_bytes()
    xml = {"Authorization": f"Bearer {PLATFORM_TOKEN}", "Content-Type": "application/xml"}
    posted = httpc.post(
        f"{org.url}/api/v1/test-runs?run=ci-1&at=2025-11-04T13:00:00Z",
        content=report,
        headers=xml,
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    assert readiness("", PLATFORM_TOKEN).json()["tests"]["known"] > 0
    assert readiness("?team=mobile").json()["tests"]["known"] == 0


def test_the_cli_takes_team(
    org: Server,
    quick_pace: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    settings = org.runtime.settings
    for name, value in (
        ("SLACK_BOT_TOKEN", settings.secret("SLACK_BOT_TOKEN")),
        ("SLACK_SIGNING_SECRET", settings.secret("SLACK_SIGNING_SECRET")),
        ("SLACK_API_URL", settings.SLACK_API_URL),
        ("DATABASE_URL", settings.DATABASE_URL),
        ("SPRINTBOT_CONFIG", settings.SPRINTBOT_CONFIG),
    ):
        monkeypatch.setenv(name, str(value))
    monkeypatch.chdir(tmp_path)
    at = "--at=2025-11-04T14:00:00Z"
    # (The day: `job run standup-prompt` runs as of it only.)
    monkeypatch.setattr(cli, "utcnow", lambda: datetime(2025, 11, 4, 14, tzinfo=UTC))

    assert cli.main(["export", "tracker", at]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == (
        "SPRINTBOT_CONFIG names 2 teams (mobile, platform): say which with --team ID"
    )
    assert cli.main(["export", "tracker", at, "--team", "web"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        'no team "web" in SPRINTBOT_CONFIG (its teams: mobile, platform)'
    )
    assert cli.main(["export", "tracker", at, "--team", "mobile"]) == 0
    out = capsys.readouterr().out
    assert "Offline Sync" in out and "Phase 4" not in out

    # A job acts for one team too: mobile's prompts, each with mobile's button.
    assert cli.main(["job", "run", "standup-prompt", at]) == 1
    assert "say which" in capsys.readouterr().err
    assert cli.main(["job", "run", "standup-prompt", at, "--team", "mobile"]) == 0
    assert capsys.readouterr().out.startswith("standup-prompt: 3 prompts sent")

    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"metrics": {"api_throughput": 900}}), encoding="utf-8")
    assert cli.main(["ingest", "metrics", str(metrics), "--team", "platform"]) == 0
    reply = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert reply["metrics"]["api_throughput"]["value"] == 900.0


def click_pick(server: Server, button: dict[str, Any], *, user: str) -> httpx.Response:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1"},
        "channel": {"id": "D0BOB", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "D0BOB"},
        "trigger_id": "7.8.9",
        "response_url": server.slack.response_url("action"),
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b",
                "value": button["value"],
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }
    resp = post_signed(server.url, urlencode({"payload": json.dumps(payload)}))
    assert resp.status_code == 200
    return resp


def submit_standup(
    server: Server, user: str, metadata: dict[str, Any], **values: Any
) -> httpx.Response:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "4.5.6",
        "view": {
            "id": f"V{metadata.get('team')}",
            "type": "modal",
            "callback_id": "standup",
            "private_metadata": json.dumps(metadata),
            "state": state(**values),
        },
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)}))


def test_config_check_says_whether_a_teams_own_token_is_set(
    teams_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PLATFORM_INGEST_TOKEN", raising=False)
    assert cli.main(["config", "check", str(teams_dir)]) == 0
    out = capsys.readouterr().out
    assert "  API token of its own: $PLATFORM_INGEST_TOKEN (not set)" in out.splitlines()
    monkeypatch.setenv("PLATFORM_INGEST_TOKEN", PLATFORM_TOKEN)
    assert cli.main(["config", "check", str(teams_dir)]) == 0
    out = capsys.readouterr().out
    assert "  API token of its own: $PLATFORM_INGEST_TOKEN (set)" in out.splitlines()
    assert PLATFORM_TOKEN not in out


def test_the_standup_names_blockers_by_the_teams_codes(org: Server) -> None:
    """Blocker codes are per team (mobile's first blocker is mobile's B-001): the
    standup's "Blockers resolved" picker and the posted answer wrote `B-{row id}`, so
    mobile's B-001 was offered and reported as "B-002", a code `/blocker resolve` does not
    find."""
    in_channel(org, "platform", "/blocker", "P1 Task Orchestration: queue stalls", user="U0ALICE")
    resp = in_channel(org, "mobile", "/blocker", "P1 Sync: conflicts lost", user="U0DAVE")
    assert resp.json()["text"] == ":no_entry: B-001 filed in #critical-blockers (2025-11-04)."

    in_channel(org, "mobile", "/standup", "", user="U0DAVE")
    [view] = opened(org)
    picker = next(b for b in view["blocks"] if b.get("block_id") == "blockers_resolved")
    labels = [o["text"]["text"] for o in picker["element"]["options"]]
    value = picker["element"]["options"][0]["value"]
    assert [label.split()[0] for label in labels] == ["B-001"], labels

    # Marked resolved in the standup: the posted answer names it too.
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U0DAVE"},
        "api_app_id": "A1",
        "trigger_id": "4.5.6",
        "view": {
            "id": "VSTANDUP",
            "type": "modal",
            "callback_id": "standup",
            "private_metadata": view["private_metadata"],
            "state": state(blockers_resolved=[value], notes="merged the sync fix"),
        },
    }
    assert post_signed(org.url, urlencode({"payload": json.dumps(payload)})).status_code == 200
    org.runtime.sender.drain()
    [answer] = [text_of(p) for p in posts(org) if "Standup from" in text_of(p)]
    assert "Blockers resolved: B-001" in answer, answer


# -- one CI token that two team files name as their own ----------------------------------

SHARED_TOKEN = "one-ci-token-for-the-monorepo"
WORKDAYS = 'workdays = ["mon", "tue", "wed", "thu", "fri"]\n'


@pytest.fixture
def shared_token(
    make_server: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Server:
    """Both files say `ingest_token_env = "CI_TOKEN"`: one CI, one secret, two teams."""
    monkeypatch.setenv("CI_TOKEN", SHARED_TOKEN)
    teams = two_teams(tmp_path / "teams")
    platform = teams / "platform.toml"
    platform.write_text(
        platform.read_text(encoding="utf-8").replace("PLATFORM_INGEST_TOKEN", "CI_TOKEN"),
        encoding="utf-8",
    )
    mobile = teams / "mobile.toml"
    text = mobile.read_text(encoding="utf-8")
    assert WORKDAYS in text
    mobile.write_text(
        text.replace(WORKDAYS, WORKDAYS + 'ingest_token_env = "CI_TOKEN"\n', 1), encoding="utf-8"
    )
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    server.clock.at = NOW
    return server


def test_a_token_two_team_files_name_acts_for_either_when_named(shared_token: Server) -> None:
    """It acted for the first file's team alone: platform's CI was refused `team=platform`
    (403, "this token is team mobile's"), and a report without `team=` was filed in
    mobile's sprint (found by review)."""
    auth = {"Authorization": f"Bearer {SHARED_TOKEN}"}
    for team in ("platform", "mobile"):
        resp = httpc.get(f"{shared_token.url}/api/v1/readiness?team={team}", headers=auth)
        assert resp.status_code == 200, resp.text
    posted = httpc.post(
        f"{shared_token.url}/api/v1/test-runs?run=ci-1&at=2025-11-04T13:00:00Z",
        content=(FIXTURES / "pytest-xunit1-run1.xml").read_bytes(),
        headers={**auth, "Content-Type": "application/xml"},
        timeout=30,
    )
    assert posted.status_code == 400, posted.text
    assert posted.json()["error"] == ('this token is teams "mobile" and "platform"\'s: add team=ID')
    for team in ("platform", "mobile"):
        resp = httpc.get(f"{shared_token.url}/api/v1/readiness?team={team}", headers=auth)
        assert resp.json()["tests"]["known"] == 0, (team, resp.json()["tests"])


def test_someone_in_no_team_is_not_told_they_are_in_several(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """U0ZED, named by neither file, typed /standup in a DM and was told "You are in several
    teams (`mobile`, `platform`)" (found by review). They may still pick one."""
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    answer = in_dm(server, "/standup", user="U0ZED").json()
    assert answer["text"].startswith(
        "This serves several teams (`mobile`, `platform`) and you are in none of them: which is "
        "this for?"
    ), answer["text"]


def test_each_teams_alert_email_says_whose_it_is(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Two teams e-mail their alerts to one on-call address: the same report's regressions
    came as two e-mails alike, "5 tests regressed on main (bbb222)", naming neither team
    nor sprint (found by review)."""
    teams = two_teams(tmp_path / "teams")
    for name in ("platform.toml", "mobile.toml"):
        path = teams / name
        path.write_text(
            path.read_text(encoding="utf-8") + '\n[alerts]\nemail_to = ["oncall@example.com"]\n',
            encoding="utf-8",
        )
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    server.clock.at = NOW
    for team in ("platform", "mobile"):
        runs = (
            ("pytest-xunit1-run1.xml", "ci-1", "aaa111"),
            ("pytest-xunit1-run2.xml", "ci-2", "bbb222"),
        )
        for name, run, commit in runs:
            query = urlencode({"team": team, "run": run, "commit": commit})
            resp = httpc.post(
                f"{server.url}/api/v1/test-runs?{query}&at=2025-11-04T13:00:00Z",
                content=(FIXTURES / name).read_bytes(),
                headers=AUTH,
                timeout=30,
            )
            assert resp.status_code == 201, resp.text
    with server.runtime.contexts.db.read() as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.method == "email.send")
            .order_by(col(OutboxMessage.id))
        ).all()
    assert [render_email(r.payload)[0] for r in rows] == [
        "[sprintbot] platform · 5 tests regressed on main (bbb222)",
        "[sprintbot] mobile · 5 tests regressed on main (bbb222)",
    ]
    body = render_email(rows[0].payload)[1]
    assert body.startswith("Sprint: Phase 4 Production Readiness (team platform)\n"), body


def test_a_link_by_the_code_a_shared_channel_shows_is_made(org: Server) -> None:
    """#critical-blockers shows mobile's blocker as "mobile B-001", and `/blocker resolve
    mobile B-001` typed there resolves it; `/blocker link mobile B-001 R-001` was refused with
    the usage, the team's word not taken."""
    in_channel(org, "mobile", "/blocker", "P2 Sync: drops", user="U0DAVE")
    view_submit(org, "risk", "U0BOB", risk_values(), {"risk": None, "team": "mobile"})
    listeners_done()
    resp = command(
        org,
        "/blocker",
        "link mobile B-001 R-001",
        user="U0DAVE",
        channel="CCRITICALBLOCKERS",
        channel_name="critical-blockers",
    )
    assert resp.json()["text"] == ":link: B-001 is linked to R-001.", resp.json()["text"]
