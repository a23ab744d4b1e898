"""A milestone's `signoffs` are checked like an escalation step's `notify`
(`jobs.config.Milestone._signoffs` calls `_check_notify`), so `config check` accepts a
channel key or a channel as a sign-off role. At run time no one holds such a "role": the
milestone asked for an approval nobody could ever give (found by review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from tests.e2e.test_weekly_and_milestones import SIGN_SPRINT


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("who", ["team", "status", "#eng-leads", "C0TEAM"])
def test_a_signoff_by_a_channel_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    """The admin writes `signoffs = ["team"]` ("the team signs the checkpoint off").
    `sprintbot config check` said the file was valid; `/sprint signoff` then posted a
    *Sign off as Team* button that refused everyone ("Only the Team can sign off as
    Team."): the milestone could never be signed. It is refused, naming what can sign."""
    path = tmp_path / "team.toml"
    path.write_text(SIGN_SPRINT.replace('signoffs = ["tech_lead"]', f'signoffs = ["{who}"]'))
    assert cli.main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f'"{who}" cannot sign off: name a role (admins, executives, ' in err, err
