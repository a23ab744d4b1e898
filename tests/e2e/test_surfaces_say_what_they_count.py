"""What a figure is said to count, beside it (found by review): a quarantined test counted
as failing, and files that are not all passing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.e2e.test_figures import SPRINT, hand_server, local, send_run, sprint_json
from tests.support.e2e import at, blocks_text
from tests.support.server import cli_env
from tests.support.slack import slash


def _slash_text(server: Any, command: str, text: str = "") -> str:
    resp = slash(server.url, command, text, user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return blocks_text(body.get("blocks") or []) or body.get("text", "")


def _tracker(tmp_path: Path, when: Any) -> str:
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", when.isoformat()]) == 0
    return out.read_text()


@pytest.mark.usefixtures("quick_pace")
def test_a_passing_quarantined_test_counted_as_failing_is_said_to_be(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[flaky] readiness = "failing"`. CI: Core c1, c2 pass, c3 fails; CLI x1, x2 pass.
    The QA lead quarantines c2, which still passes. `/readiness` said "Tests passing 4/5"
    beside "Core — 1/3 tests passing" and "CLI — 2/2": 1 + 2 is not 4, and nothing said
    why; the tracker's breakdown said the same beside its coverage table's 2 of 3. The
    component's line says its quarantined test is counted as failing."""
    path = tmp_path / "failing.toml"
    path.write_text(SPRINT + '\n[flaky]\nreadiness = "failing"\n')
    server = make_server(SPRINTBOT_CONFIG=str(path))
    cli_env(monkeypatch, server, path)
    send_run(server, local(1, 10), "r1", {"c1": "P", "c2": "P", "c3": "F", "x1": "P", "x2": "P"})
    at(server, local(1, 11))
    answer = _slash_text(server, "/tests", "quarantine core.test_a::c2 for 2d because races")
    assert "Quarantined" in answer, answer
    when = local(1, 12)
    at(server, when)
    tests = sprint_json(server)["tests"]
    assert (tests["passing"], tests["known"], tests["quarantined"]) == (4, 5, 1)
    shown = _slash_text(server, "/readiness")
    assert "4/5 (80 %)" in shown, shown
    [core] = [line for line in shown.splitlines() if line.startswith(":small_orange_diamond: Core")]
    assert "1/3 tests passing (1 quarantined, counted as failing)" in core, core
    md = _tracker(tmp_path, when)
    assert "| Core | 3 | 2 | 1 |" in md, md
    assert "1/3 tests passing (1 quarantined, counted as failing)" in md, md


@pytest.mark.usefixtures("quick_pace")
def test_a_file_with_a_skipped_test_is_not_called_a_file_with_failures(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI: core/test_a.py (c1 passes, c2 skipped), core/test_b.py (c3 passes),
    cli/test_x.py (x1 errors, x2 passes). One file has a failure; two are not all passing
    (the Definitions' "test files passing": files all of whose tests pass). The tracker
    said "1 / 3 | 2 files with failures", calling the skipped test's file failing."""
    server, path = hand_server(make_server, tmp_path)
    cli_env(monkeypatch, server, path)
    send_run(server, local(1, 10), "r1", {"c1": "P", "c2": "S", "c3": "P", "x1": "E", "x2": "P"})
    when = local(1, 12)
    at(server, when)
    tests = sprint_json(server)["tests"]
    assert (tests["failing"], tests["skipped"], tests["flaky"]) == (1, 1, 0)
    assert (tests["test_files_passing"], tests["test_files"]) == (1, 3)
    [row] = [
        line
        for line in _tracker(tmp_path, when).splitlines()
        if line.startswith("| **Test Files Passing**")
    ]
    assert "with failures" not in row, row
    assert "2 files not all passing" in row, row
