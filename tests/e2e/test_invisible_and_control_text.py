"""Text that is no text: a description of only a zero-width space filed a blank blocker
(or risk), as "   " would not; control characters (ESC, BEL) were stored and reached the
terminal of whoever runs `sprintbot export tracker` (found by review)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.cli import main
from storage.models import Blocker, Risk
from tests.support.e2e import T0, at, blocker_form_values, risk_values, view_submit
from tests.support.server import EXAMPLE, Server, cli_env


@pytest.mark.parametrize("blank", ["\u200b", "\u200b\u200d\u2060", "\ufeff"])
def test_a_blocker_described_by_invisible_characters_only_is_refused(
    server: Server, blank: str
) -> None:
    resp = view_submit(server, "blocker", "U0DEV", blocker_form_values(blank), view_id="VB1")
    assert resp.status_code == 200
    body = resp.json() if resp.text else {}
    assert body.get("response_action") == "errors" and "description" in body["errors"], resp.text
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Blocker)).one() == 0


def test_a_risk_described_by_a_zero_width_space_only_is_refused(server: Server) -> None:
    resp = view_submit(server, "risk", "U0DEV", risk_values(description="\u200b"), view_id="VR1")
    body = resp.json() if resp.text else {}
    assert body.get("response_action") == "errors" and "description" in body["errors"], resp.text
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Risk)).one() == 0


def test_terminal_control_sequences_typed_in_slack_never_reach_the_clis_output(
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The form refuses the ESC/BEL under its field (as it does a NUL byte), and what the
    tracker shows of text stored before is neutralised."""
    typed = "OOM \x1b]0;pwned\x07\x1b[2J in eviction"
    resp = view_submit(server, "blocker", "U0DEV", blocker_form_values(typed), view_id="VB2")
    assert resp.status_code == 200
    refused = bool(resp.text) and resp.json().get("response_action") == "errors"
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["export", "tracker", "--at", "2025-10-31T14:00:00Z"]) == 0
    out, _ = capsys.readouterr()
    assert refused or "in eviction" in out  # the blocker is in the tracker
    assert refused
    assert "\x1b" not in out and "\x07" not in out, repr(out[out.find("OOM") - 5 :][:60])


def test_control_characters_stored_before_are_not_written_to_the_terminal(
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    at(server, T0)
    with server.runtime.db.session() as s:
        s.add(
            Blocker(
                component="Swarm Coordination",
                description="OOM \x1b[2J in eviction",
                severity="P1",
                reported_by="U0DEV",
                reported_at=T0,
            )
        )
        s.commit()
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["export", "tracker", "--at", "2025-10-31T14:00:00Z"]) == 0
    out, _ = capsys.readouterr()
    assert "OOM ?\\[2J in eviction" in out and "\x1b" not in out
