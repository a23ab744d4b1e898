"""A one-team deployment whose file is renamed (README: "A one-team deployment stays one
team whatever its file is called ... that team's data, messages and job slots carry on
under the new id") refuses the forms and buttons opened before the rename as of a team
"no longer served" (bot/routing.py `route`: the gone-team check now runs before the
one-team shortcut)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from storage.models import Standup
from tests.support.e2e import ANSWER, blocks_text, opened, submit
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]


def _file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        EXAMPLE.read_text()
        .replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
        .replace(
            'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
            'workdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
    )
    return path


def test_a_standup_form_opened_before_the_file_was_renamed_is_taken(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Ana opens /standup on a one-team deployment (SPRINTBOT_CONFIG=sprint.toml) and
    types her standup. Meanwhile the operator moves the file into a directory as
    teams/platform.toml and restarts, as the README allows (the one team carries on under
    the new id). Ana presses Submit: the form turns into "Team gone — That message is of
    the team `sprint`, which this deployment no longer serves: nothing was done", and her
    standup is lost. It should be taken, as before the change: there is only one team,
    and it is hers."""
    old = _file(tmp_path / "sprint.toml")
    server = make_server(SPRINTBOT_CONFIG=str(old))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    slash(server.url, "/standup", user_id="U0ANA")
    meta = json.loads(opened(server)[-1]["private_metadata"])
    assert meta.get("team") == "sprint", meta
    new = _file(tmp_path / "teams" / "platform.toml")
    old.unlink()
    server = make_server(SPRINTBOT_CONFIG=str(new))
    server.clock.at = datetime(2025, 10, 31, 13, 10, tzinfo=UTC)
    assert [t.id for t in server.runtime.teams.all] == ["platform"]
    resp = submit(server, "U0ANA", metadata=meta, **ANSWER)
    assert resp.status_code == 200, resp.text
    body = resp.json() if resp.text else {}
    listeners_done()
    shown = blocks_text(body.get("view", {}).get("blocks", [])) if body else ""
    assert "no longer serves" not in shown, shown
    with server.runtime.contexts.db.read() as s:
        rows = s.exec(select(Standup)).all()
    assert [r.user_id for r in rows] == ["U0ANA"], (rows, shown)
