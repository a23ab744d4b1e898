"""Bad input to the ingestion API gets a clear 4xx and stores nothing."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import KnownTest, MetricSample, OutboxMessage, TestReport
from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
XML = {**AUTH, "Content-Type": "application/xml"}
GOOD = (FIXTURES / "pytest-xunit1-run1.xml").read_bytes()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite name="x"><testcase classname="a" name="&lol9;"/></testsuite>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite name="x"><testcase classname="a" name="b"><failure message="&xxe;"/></testcase>
</testsuite>"""


def nothing_stored(server: Server) -> None:
    with server.runtime.db.session() as s:
        for model in (TestReport, KnownTest, MetricSample, OutboxMessage):
            assert s.exec(select(func.count()).select_from(model)).one() == 0, model


def post(
    server: Server, body: bytes, *, headers: dict[str, str] = XML, query: str = ""
) -> httpx.Response:
    return httpc.post(
        f"{server.url}/api/v1/test-runs{query}", content=body, headers=headers, timeout=30
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b'<?xml version="1.0"?>\n<testsuite name="x">\n  <testcase name="a">\n</testsuite>',
            "malformed XML at line 4, column 13",
        ),
        (b"", "the document is empty"),
        (b'<testsuite name="x"></testsuite>', "the report holds no <testcase> elements"),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            "the root element is <html>, not <testsuites> or <testsuite>",
        ),
        (
            BILLION_LAUGHS,
            "DTDs, entity declarations and external entities are not allowed in a report",
        ),
        (
            EXTERNAL_ENTITY,
            "DTDs, entity declarations and external entities are not allowed in a report",
        ),
        (
            b'<testsuite name="x"><testcase classname="a" name="b"'
            + b"".join(b' a%d=""' % i for i in range(1000))
            + b"/></testsuite>",
            "an element has more than 256 attributes (near byte 29); no JUnit report has so many",
        ),
    ],
)
def test_unreadable_reports_are_400(server: Server, body: bytes, error: str) -> None:
    resp = post(server, body)
    assert (resp.status_code, resp.json()) == (400, {"error": error})
    assert "root:" not in resp.text  # /etc/passwd was never read into anything
    nothing_stored(server)


def test_wrong_content_type_is_415(server: Server) -> None:
    resp = post(server, GOOD, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 415
    assert resp.json()["error"] == (
        "send the JUnit report as application/xml, not 'application/json'"
    )
    nothing_stored(server)


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/xml"},
        {"Content-Type": "application/xml", "Authorization": "Bearer nope"},
    ],
)
def test_bad_token_is_401(server: Server, headers: dict[str, str]) -> None:
    assert post(server, GOOD, headers=headers).status_code == 401
    nothing_stored(server)


def test_body_over_the_limit_is_413_without_reading_it_all(server: Server) -> None:
    from bot import web

    limit = web.MAX_REPORT_BYTES
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        chunk = b"<!-- " + b"x" * (1024 * 1024) + b" -->"
        while sent < limit + 5 * len(chunk):
            sent += len(chunk)
            yield chunk

    # No Content-Length: the server must count while streaming and stop.
    try:
        resp = httpc.post(
            f"{server.url}/api/v1/test-runs", content=chunks(), headers=XML, timeout=60
        )
        assert resp.status_code == 413
        assert resp.json() == {"error": "the report is over 50 MB"}
    except httpx.HTTPError:
        pass  # the server may close the connection as soon as it has answered
    # A declared length over the limit is refused before any of the body is read.
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/api/v1/test-runs")
    for name, value in {**XML, "Content-Length": str(limit + 1)}.items():
        conn.putheader(name, value)
    conn.endheaders()
    declared = conn.getresponse()
    assert declared.status == 413
    conn.close()
    nothing_stored(server)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?branch=../../etc", "branch '../../etc' is not a branch name (letters, digits, ._/+-)"),
        ("?branch=main;drop", "branch 'main;drop' is not a branch name (letters, digits, ._/+-)"),
        (
            "?at=1970-01-01T00:00:00Z",
            "at 1970-01-01T00:00:00+00:00 is not a plausible time for a CI run",
        ),
        (
            "?at=2999-01-01T00:00:00Z",
            "at 2999-01-01T00:00:00+00:00 is not a plausible time for a CI run",
        ),
        ("?at=yesterday", "at 'yesterday' is not an ISO-8601 time, e.g. 2025-10-30T09:00:00Z"),
        ("?at=2025-10-30T09:00:00", "at needs a UTC offset, e.g. 2025-10-30T09:00:00Z"),
        ("?url=javascript:alert(1)", "url must be an http(s) link to the CI run"),
    ],
)
def test_bad_query_parameters_are_400(server: Server, query: str, error: str) -> None:
    resp = post(server, GOOD, query=query)
    assert (resp.status_code, resp.json()) == (400, {"error": error})
    nothing_stored(server)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{", "not valid JSON"),
        (b"[]", 'send a JSON object: {"metrics": {"name": number, ...}}'),
        (b'{"metrics": {}}', "metrics is empty; send at least one figure"),
        (
            b'{"metrics": {"memory_usage": "lots"}}',
            "metric 'memory_usage' must be a number, not 'lots'",
        ),
        (
            b'{"metrics": {"Memory Usage": 1}}',
            "metric name 'Memory Usage' must be lower_snake_case",
        ),
        (
            b'{"metrics": {"memory_usage": 1}, "when": 1}',
            "unknown field 'when'; fields: at, commit, metrics",
        ),
        (
            b'{"metrics": {"memory_usage": 1}, "at": "1999-01-01T00:00:00Z"}',
            "at 1999-01-01T00:00:00+00:00 is not a plausible time for a CI run",
        ),
    ],
)
def test_bad_metrics_are_400(server: Server, body: bytes, error: str) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/metrics",
        content=body,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"].startswith(error)
    nothing_stored(server)


def test_metrics_need_json(server: Server) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/metrics",
        content=json.dumps({"metrics": {"a": 1}}),
        headers={**AUTH, "Content-Type": "text/plain"},
    )
    assert resp.status_code == 415
    nothing_stored(server)


def test_a_12_mb_output_is_a_report_not_malformed_xml(server: Server) -> None:
    """Issue 12, fault 10: a text node of 10 MB or more was refused as "malformed XML"."""
    trace = "E   AssertionError: the leader was not elected in time\n" * 240_000  # 12 MB
    body = (
        "<testsuite name='s'><testcase classname='tests.swarm.test_x' name='big'>"
        f"<failure message='timeout'>{trace}</failure><system-out>{trace}</system-out>"
        "</testcase></testsuite>"
    ).encode()
    resp = post(server, body, query="?run=ci-big")
    assert resp.status_code == 201, resp.text
    assert resp.json()["failed"] == 1
    with server.runtime.db.read() as s:
        [message] = s.exec(select(KnownTest.message)).all()
    # Kept as the product keeps every failure: its first lines, not 12 MB of them.
    assert message == "timeout\n" + "\n".join(
        ["E   AssertionError: the leader was not elected in time"] * 3
    )
