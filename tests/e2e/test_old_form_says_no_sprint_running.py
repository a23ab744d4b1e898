"""A standup form of Phase 4 (platform, New York) left open and sent two days later, when
Phase 5 is running: the user is told "No sprint running; the last ended on 2025-11-11" —
false, the team's next sprint runs — and the form they typed is replaced by that notice
(lost), where any other form of a day that has passed is refused on top of the form with
"This form was for …, which has passed: copy what you wrote …"."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.support.e2e import ANSWER, blocks_text, opened, submit
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"


def test_an_old_form_of_the_sprint_before_is_not_told_no_sprint_runs(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    shutil.copytree(TEAMS, tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    # Mon 2025-11-10, 17:00 New York: Phase 4 day 13. Alice opens /standup.
    server.clock.at = datetime(2025, 11, 10, 22, 0, tzinfo=UTC)
    slash(server.url, "/standup", "platform", user_id="U0ALICE")
    meta = json.loads(opened(server)[-1]["private_metadata"])
    assert meta["day"] == "2025-11-10"
    # Wed 2025-11-12, 09:05 New York: Phase 5 (platform's next sprint) day 1 is running.
    server.clock.at = datetime(2025, 11, 12, 14, 5, tzinfo=UTC)
    answer = submit(
        server,
        "U0ALICE",
        metadata=meta,
        **{**ANSWER, "components_improved": [], "current_blockers": "", "new_risks": ""},
    ).json()
    notice = blocks_text(answer["view"]["blocks"])
    assert "No sprint running" not in notice, notice
    # As every other form of a day that has passed: said on top, the typed form kept.
    assert answer["response_action"] == "push", answer["response_action"]
    assert "This form was for 2025-11-10, which has passed" in notice, notice
