"""The answer to a button of a sprint the team's file no longer has names the team by its
[team] `name` — sprint-file text — straight into mrkdwn (bot/routing.py `gone_sprint`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.e2e.test_next_sprint import platform
from tests.e2e.test_signoff_of_a_dropped_sprint import (
    PHASE4_START,
    PHASE5_START,
    S1_LAST,
    S2_DAY3,
    _file,
)
from tests.e2e.test_sprint_rollover_buttons import button, sent
from tests.support.e2e import at, click, responses
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

NAME = "Core Platform <https://evil.example/login|(sign in again)> <!here>"


def test_a_dropped_sprints_button_answer_shows_the_team_name_as_typed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The platform team's file names the team "Core Platform <https://evil.example/login|
    (sign in again)> <!here>". Bob clicks *Sign off as QA Lead* on Phase 4's request after
    Phase 4 was dropped from the file. He is told "That message is of Core Platform
    <https://…|(sign in again)> <!here>'s sprint that began 2025-10-29, …" with the name
    raw: Slack draws a link "(sign in again)" to evil.example and an @here. Every other
    surface escapes sprint-file names (the team's name on /sprint history is `esc`'d); this
    one should show it as typed (`&lt;https://…&gt;`)."""
    path, text = _file(tmp_path)
    text = text.replace('name = "Core Platform"', f'name = "{NAME}"', 1)
    assert NAME in text
    path.write_text(text)
    org = make_server(SPRINTBOT_CONFIG=str(path))
    at(org, S1_LAST)
    slash(org.url, "/sprint", "signoff 14", user_id="U0ALICE")
    request, ts = sent(org, "Sign-off: Production go/no-go")
    signoff = button(request, "signoff:qa_lead")

    head, _, rest = text.partition(PHASE4_START)
    _, _, phase5 = rest.partition(PHASE5_START)
    path.write_text(head + PHASE5_START + phase5)
    at(org, S2_DAY3)
    org = make_server(SPRINTBOT_CONFIG=str(path))
    assert [s.sprint.name for s in platform(org).sprints] == ["Phase 5 Hardening"]

    click(org, "signoff:qa_lead", signoff["value"], user="U0BOB", channel="C0STATUS", ts=ts)
    listeners_done()
    [said] = [r.args["text"] for r in responses(org, 1)]
    assert "which its sprint file no longer has" in said, said
    assert "<https://evil" not in said and "<!here>" not in said, said
    assert "&lt;!here&gt;" in said, said
