"""A button of a team removed from the files is refused, not acted on for another team
(found by review)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from storage.models import Blocker, Team
from tests.e2e.test_teams_routing import command
from tests.support.e2e import click
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server, two_teams

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


def _blockers(server: Server) -> dict[str, list[Blocker]]:
    with server.runtime.contexts.db.read() as s:
        slugs = {t.id: t.slug for t in s.exec(select(Team)).all()}
        rows = s.exec(select(Blocker).order_by(col(Blocker.id))).all()
    out: dict[str, list[Blocker]] = {}
    for b in rows:
        out.setdefault(str(slugs[b.team_id]), []).append(b)
    return out


def test_a_removed_teams_blocker_button_in_a_shared_channel_is_refused(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Mobile files B-001 (posted in #critical-blockers, which platform shares). Mobile's
    file is then removed from the directory and the bot redeployed. Bob (in platform) clicks
    *Acknowledge* and *Resolve* on mobile's old "mobile B-001" message in #critical-blockers.
    He is told "There is no blocker B-002. `/blocker list` shows them." -- a code that
    exists nowhere (the button's row id read as a platform code). He should be told the
    message is of a team no longer served (nothing done); mobile's row kept as it was and
    platform's B-001 untouched."""
    teams = two_teams(tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW
    command(
        org,
        "/blocker",
        "P1 Task Orchestration: stalls",
        user="U0ALICE",
        channel="C0PLATFORM",
        channel_name="platform",
    )
    command(
        org, "/blocker", "P1 Sync: crash", user="U0DAVE", channel="C0MOBILE", channel_name="mobile"
    )
    listeners_done()
    org.runtime.sender.drain()
    [mine] = _blockers(org)["mobile"]
    (teams / "mobile.toml").unlink()
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW
    assert [t.id for t in org.runtime.teams.all] == ["platform"]
    for action in ("blocker_ack", "blocker_resolve"):
        resp = click(org, action, str(mine.id), "U0BOB", channel="CCRITICALBLOCKERS")
        assert resp.status_code == 200, resp.text
    listeners_done()
    org.runtime.sender.drain()
    after = _blockers(org)
    assert after["platform"][0].owner is None and after["platform"][0].resolved_at is None
    assert after["mobile"][0].owner is None and after["mobile"][0].resolved_at is None
    said = [r.args.get("text", "") for r in org.slack.calls_to("response/action")]
    assert len(said) == 2 and all("no longer" in t for t in said), said


def _removed(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    teams = two_teams(tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    (teams / "mobile.toml").unlink()
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW
    assert [t.id for t in org.runtime.teams.all] == ["platform"]
    return org


def test_a_removed_teams_standup_prompt_does_not_open_another_teams_standup(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob got ':wave: Time for today's *mobile* standup' in his DM; mobile's file is then
    removed. He clicks the prompt's button: platform's standup form opens, answering
    a prompt that was mobile's. He should be told mobile is no longer served."""
    org = _removed(make_server, tmp_path)
    click(org, "standup_open", '{"team": "mobile"}', "U0BOB", channel="D0BOB")
    listeners_done()
    views = org.slack.calls_to("views.open")
    assert views == []
    said = [r.args.get("text", "") for r in org.slack.calls_to("response/action")]
    assert said == [
        "That message is of the team `mobile`, which this deployment no longer serves: "
        "nothing was done. Use a message or command of your team's."
    ], said


def test_a_renamed_team_files_buttons_still_act_for_it(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """One team, its file renamed (no `[team] id`: the id is the file's name, and the
    database's row takes the new one). A standup prompt sent before the rename names the
    old id: its button opens the team's standup as before, not "no longer served"."""
    old = tmp_path / "alpha.toml"
    old.write_text(EXAMPLE.read_text())
    make_server(SPRINTBOT_CONFIG=str(old))
    new = old.rename(tmp_path / "beta.toml")
    org = make_server(SPRINTBOT_CONFIG=str(new))
    org.clock.at = NOW
    assert [t.id for t in org.runtime.teams.all] == ["beta"]
    click(org, "standup_open", '{"team": "alpha"}', "U0DEV", channel="D0DEV")
    listeners_done()
    said = [r.args.get("text", "") for r in org.slack.calls_to("response/action")]
    assert org.slack.calls_to("views.open"), said
