"""Two CI tests whose names differ only by a character that draws nothing (a zero-width
space, as a copy-paste from a doc carries): every surface showed them as the same name,
so the regression alert named a test that looked like the passing one, and the lead who
typed the name it showed quarantined the passing test (found by review). A name shown as
code shows such a character as its escape, and the name typed back as shown finds it."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text, posts
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

PLAIN = "test_login"
HIDDEN = "test_lo\u200bgin"
SHOWN = "tests.auth.test_session::test_lo\\u200bgin"  # as the alert shows it


def junit(statuses: dict[str, str]) -> bytes:
    cases = "".join(
        f'<testcase classname="tests.auth.test_session" name="{name}" '
        'file="tests/auth/test_session.py">'
        + ("<failure>boom</failure>" if status == "failed" else "")
        + "</testcase>"
        for name, status in statuses.items()
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def send(server: Server, doc: bytes, run: str, at: str) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode({'run': run, 'at': at})}",
        content=doc,
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


def regressed(server: Server) -> None:
    send(server, junit({PLAIN: "passed", HIDDEN: "passed"}), "ci-1", "2025-10-31T12:00:00Z")
    send(server, junit({PLAIN: "passed", HIDDEN: "failed"}), "ci-2", "2025-10-31T13:00:00Z")


def test_a_name_with_an_invisible_character_shows_it_and_is_found_as_shown(
    server: Server,
) -> None:
    regressed(server)
    server.runtime.sender.drain()
    [alert] = [p for p in posts(server) if "regressed" in p.args.get("text", "")]
    said = blocks_text(alert.args["blocks"])
    assert f"`{SHOWN}`" in said, said
    assert "\u200b" not in said.replace("```", "")  # (nothing that draws nothing in a name)

    # The lead types the name as the alert shows it: the failing test's history.
    body = slash(server.url, "/tests", f"show {SHOWN}").json()
    shown = blocks_text(body.get("blocks") or []) or body["text"]
    assert ":x: *failed*" in shown and SHOWN in shown, shown
    # The look-alike typed as it is named: the passing test.
    body = slash(server.url, "/tests", f"show tests.auth.test_session::{PLAIN}").json()
    shown = blocks_text(body.get("blocks") or []) or body["text"]
    assert ":white_check_mark: *passed*" in shown and SHOWN not in shown, shown


def test_quarantining_the_name_the_alert_shows_quarantines_that_test(server: Server) -> None:
    regressed(server)
    resp = slash(
        server.url,
        "/tests",
        f"quarantine {SHOWN} for 7d because flaky on CI",
        response_url=server.slack.response_url("action"),
    )
    assert resp.status_code == 200, resp.text
    listeners_done()
    listing = httpc.get(
        f"{server.url}/api/v1/quarantine", headers={"Authorization": AUTH["Authorization"]}
    ).json()["tests"]
    assert [t["name"] for t in listing] == [HIDDEN]
