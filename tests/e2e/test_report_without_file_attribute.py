"""A report that gives no `file` attribute (pytest's default xunit2, a second CI job writing
its own report) after one that did (xunit1): the tests it changes lose the file the
branch knew, and every test it holds is mapped to a component by its class name alone,
though the classifier's own rule is that a file moves only "where the report names one"
(jobs.classify._moves). Test files passing, component pass rates, `/tests show` and the
owners all changed on a report that moved no test (found by review)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text
from tests.support.server import Server
from tests.support.slack import slash


def send(server: Server, body: bytes, **query: str) -> dict[str, Any]:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def sprint(server: Server) -> dict[str, Any]:
    resp = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def doc(cases: list[str]) -> bytes:
    return ('<testsuite name="pytest">' + "".join(cases) + "</testsuite>").encode()


CLASS = "tests.cli.swarm.test_init"
FILE = "tests/cli/swarm/test_init.py"


def xunit1(failing: set[str] = frozenset(), cls: str = CLASS, file: str = FILE) -> bytes:  # type: ignore[assignment]
    return doc(
        [
            f'<testcase classname="{cls}" name="{n}" file="{file}" line="{i}" time="0.1">'
            + ("<failure message='boom'>boom</failure>" if n in failing else "")
            + "</testcase>"
            for i, n in enumerate(("test_init", "test_join", "test_leave"))
        ]
    )


def xunit2(failing: set[str] = frozenset(), cls: str = CLASS) -> bytes:  # type: ignore[assignment]
    return doc(
        [
            f'<testcase classname="{cls}" name="{n}" time="0.1">'
            + ("<failure message='boom'>boom</failure>" if n in failing else "")
            + "</testcase>"
            for n in ("test_init", "test_join", "test_leave")
        ]
    )


def test_a_failing_test_in_a_report_without_file_still_fails_its_file(server: Server) -> None:
    """The xunit1 run names tests/cli/swarm/test_init.py; the next run (xunit2, no `file`)
    fails one of its tests. The sprint API (and the daily/weekly reports' "Test files
    passing") then say 1 of 1 test files passing, although the only file has a failing
    test: it should say 0 of 1. `/tests show` of the failing test shows no file."""
    mem, mem_file = "tests.memory.test_store", "tests/memory/test_store.py"
    send(server, xunit1(cls=mem, file=mem_file), run="ci-1", commit="a1", at="2025-10-31T12:00:00Z")
    before = sprint(server)["tests"]
    assert (before["test_files_passing"], before["test_files"]) == (1, 1), before

    reply = send(
        server, xunit2({"test_join"}, cls=mem), run="ci-2", commit="b2", at="2025-10-31T13:00:00Z"
    )
    assert [r["name"] for r in reply["regressions"]] == ["test_join"], reply

    t = sprint(server)["tests"]
    assert t["failing"] == 1, t
    assert (t["test_files_passing"], t["test_files"]) == (0, 1), (
        f"one file, one of its tests failing, yet the sprint says "
        f"{t['test_files_passing']} of {t['test_files']} test files passing"
    )


def test_a_report_without_file_does_not_move_tests_between_components(server: Server) -> None:
    """By file (tests/cli/swarm/**) these tests are Swarm Commands; by their dotted class
    name alone, `*.swarm.*` of the earlier Swarm Coordination matches first. A second run
    of the very same, all-passing tests without `file` moves all three to Swarm
    Coordination: Swarm Commands drops back to its starting 70 % and readiness moves on a
    run in which nothing changed. The file the branch knows should keep deciding."""
    send(server, xunit1(), run="ci-1", commit="a1", at="2025-10-31T12:00:00Z")
    body = sprint(server)
    before = body["readiness"]["score"]

    reply = send(server, xunit2(), run="ci-2", commit="b2", at="2025-10-31T13:00:00Z")
    assert (reply["passed"], reply["failed"]) == (3, 0), reply
    after = sprint(server)
    assert after["readiness"]["score"] == before, (
        f"readiness moved {before} -> {after['readiness']['score']} on a run in which every "
        "test passed as before (its tests moved from Swarm Commands to Swarm Coordination)"
    )


def test_tests_show_keeps_the_file_after_a_report_without_one(server: Server) -> None:
    """`/tests show` names the test's file; after a run without `file` fails the test, it
    shows none (and GET /api/v1/tests/{id} says "file": null), though the test never moved."""
    mem, mem_file = "tests.memory.test_store", "tests/memory/test_store.py"
    send(server, xunit1(cls=mem, file=mem_file), run="ci-1", commit="a1", at="2025-10-31T12:00:00Z")
    send(server, xunit2({"test_join"}, cls=mem), run="ci-2", commit="b2", at="2025-10-31T13:00:00Z")
    resp = slash(server.url, "/tests", f"show {mem}::test_join")
    assert resp.status_code == 200, resp.text
    text = blocks_text(resp.json().get("blocks", [])) + resp.json().get("text", "")
    assert mem_file in text, text
