"""A regression reported by a Windows CI runner mentions the wrong owners.

pytest's junit `file` attribute is an OS path: on a Windows runner it is
`tests\\memory\\test_store.py`. The ingester treats `\\` and `/` as one file
(`jobs.classify.file_path`: "a matrix of Linux and Windows runners names one file both
ways"), and components map it, but CODEOWNERS is matched against the raw path: the
`/tests/memory/ @bob` rule never matches, the catch-all `*` does, and the alert pings the
QA group instead of the test's owner (the follow-up too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.test_owners import owned_sprint
from tests.support import httpc
from tests.support.e2e import AUTH, posts, text_of
from tests.support.server import Server


def doc(status: str, sep: str) -> bytes:
    file = sep.join(["tests", "memory", "test_store.py"])
    body = "<failure message='boom'>boom</failure>" if status == "failed" else ""
    return (
        '<testsuite name="pytest"><testcase classname="tests.memory.test_store" '
        f'name="test_snapshot" file="{file}" line="3">{body}</testcase></testsuite>'
    ).encode()


def upload(server: Server, body: bytes, **query: str) -> dict:
    got = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=AUTH, timeout=30
    )
    assert got.status_code == 201, got.text
    return got.json()


@pytest.mark.parametrize("sep", ["/", "\\"], ids=["linux-runner", "windows-runner"])
def test_the_alert_mentions_the_codeowner_of_the_file_on_any_runner(
    make_server: Callable[..., Server], tmp_path: Path, sep: str
) -> None:
    # owned_sprint's CODEOWNERS: `*  @acme/qa` (S0QA), then `/tests/memory/  @bob` (U0BOB).
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    upload(server, doc("passed", sep), run="ci-1")
    assert upload(server, doc("failed", sep), run="ci-2")["alert"] is not None
    server.runtime.sender.drain()
    alert = text_of(next(p for p in posts(server) if "regressed on main" in text_of(p)))
    owners = next(line for line in alert.splitlines() if line.startswith("*Owners:*"))
    assert owners == "*Owners:* <@U0BOB> (`test_snapshot`)", owners
