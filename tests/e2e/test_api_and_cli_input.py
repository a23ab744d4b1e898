"""Hostile and mistaken input to the HTTP API and the CLI (found in review): each gets a
clear 4xx or one line on stderr and changes nothing; input a real CI sends is taken."""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.cli import main
from storage.db import Database
from storage.models import MetricSample, OutboxMessage, TestReport
from tests.e2e.test_ingest_bad_input import AUTH, GOOD, XML, nothing_stored, post
from tests.support import httpc
from tests.support.server import EXAMPLE, Server

JSON = {**AUTH, "Content-Type": "application/json"}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "junit"


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


# -- POST /api/v1/metrics ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"metrics": {"memory_usage": Infinity}}',
        b'{"metrics": {"memory_usage": -Infinity}}',
        b'{"metrics": {"memory_usage": 1e400}}',  # json reads it as inf
    ],
)
def test_an_infinite_metric_is_400_and_stores_nothing(server: Server, body: bytes) -> None:
    """Python's json takes Infinity (and 1e400 overflows to it); `_figures` refuses only NaN,
    so inf is stored and alerted on, then the reply cannot be rendered: 500."""
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert resp.json()["error"].startswith("metric 'memory_usage' must be a number")
    nothing_stored(server)


def test_a_metric_too_big_for_a_float_is_400(server: Server) -> None:
    """float(10**400) raises OverflowError in `_figures`: a 500."""
    body = b'{"metrics": {"memory_usage": 1' + b"0" * 400 + b"}}"
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert "error" in resp.json()
    nothing_stored(server)


def test_a_metric_past_any_measurement_is_400_and_stores_nothing(server: Server) -> None:
    """1e308 s is a finite float, but against a 0.1 s target it is inf % beyond: the sample
    was stored and "Hook Execution degraded: 100,000,…(309 digits) s (… inf % beyond)"
    alerted, then the reply could not be written as JSON: CI got a bare 500 (found by
    review)."""
    body = b'{"metrics": {"hook_execution": 1e308}}'
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert resp.json()["error"] == (
        "metric 'hook_execution' is 1e308: past any measurement; send figures of at most "
        "1e15 either way"
    )
    nothing_stored(server)


def test_a_metric_given_twice_in_one_document_is_400_and_stores_nothing(server: Server) -> None:
    """JSON keeps the last of two equal keys: {"memory_usage": 120, "memory_usage": 999}
    stored 999 and alerted it degraded, the 120 dropped without a word (found by review)."""
    body = b'{"metrics": {"memory_usage": 120, "memory_usage": 999}}'
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert resp.json()["error"] == (
        "'memory_usage' is given twice; send each field and each metric once"
    )
    nothing_stored(server)


def test_deeply_nested_json_is_400_not_500(server: Server) -> None:
    """json.loads raises RecursionError (not JSONDecodeError) past ~1000 levels: a 500."""
    body = b"[" * 100_000 + b"]" * 100_000  # 200 kB, well under the 1 MB limit
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert resp.json()["error"].startswith("not valid JSON")


# -- GET /api/v1/tests/{id} ----------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["99999999999999999999999", "%C2%B2"])  # "²" isdigit()
def test_a_test_id_that_is_no_test_is_404_or_400_not_500(server: Server, wanted: str) -> None:
    resp = httpc.get(f"{server.url}/api/v1/tests/{wanted}", headers=AUTH, timeout=30)
    assert resp.status_code in (400, 404), (resp.status_code, resp.text)
    assert "error" in resp.json()


# -- query parameters an endpoint does not take, or takes once --------------------------


@pytest.mark.parametrize(
    ("query", "error"),
    [
        # A CI script's typo filed a release branch's report on the tracked branch (201).
        (
            "run=rel-1&brnach=release-1",
            'unknown query parameter "brnach": this endpoint takes run, commit, branch, url, '
            "at, team",
        ),
        # The last `branch` won, without a word.
        (
            "run=ci-1&branch=release-1&branch=main",
            'query parameter "branch" is given 2 times; give it once',
        ),
    ],
)
def test_a_report_with_a_query_parameter_mistyped_or_twice_is_400(
    server: Server, query: str, error: str
) -> None:
    resp = post(server, GOOD, query=f"?at=2025-10-31T13:00:00Z&{query}")
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert resp.json()["error"] == error
    nothing_stored(server)


def test_metrics_with_commit_and_at_on_the_url_are_400_saying_where_they_go(
    server: Server,
) -> None:
    """test-runs takes `commit` and `at` on its URL, metrics in its JSON body: on the URL
    they were dropped (201, "commit": null, the figure dated now)."""
    resp = httpc.post(
        f"{server.url}/api/v1/metrics?commit=abc123&at=2025-10-31T12:00:00Z",
        content=b'{"metrics": {"memory_usage": 120}}',
        headers=JSON,
        timeout=30,
    )
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert resp.json()["error"] == (
        'unknown query parameter "commit": this endpoint takes team (at and commit go in '
        "the JSON body)"
    )
    assert count(server.runtime.db, MetricSample) == 0


def test_every_api_endpoint_names_what_it_takes(server: Server) -> None:
    for path, takes in (
        ("/api/v1/readiness", "team"),
        ("/api/v1/sprint", "at, sprint, team"),
        ("/api/v1/sprints", "team"),
        ("/api/v1/quarantine", "format, team"),
        ("/api/v1/tests/1", "team"),
    ):
        resp = httpc.get(f"{server.url}{path}?tema=x", headers=AUTH, timeout=30)
        assert resp.status_code == 400, (path, resp.status_code, resp.text[:200])
        assert resp.json()["error"] == (
            f'unknown query parameter "tema": this endpoint takes {takes}'
        ), path


# -- GET /api/v1/sprint?at= ----------------------------------------------------------------


def test_sprint_at_the_first_instant_with_an_offset_is_4xx_not_500(server: Server) -> None:
    """`at=0001-01-01T00:00:00+01:00` parses, but its UTC instant is before year 1: the
    retention check converts it (OverflowError) and the server answers 500. The same time
    without an offset answers 410."""
    resp = httpc.get(
        f"{server.url}/api/v1/sprint?at=0001-01-01T00:00:00%2B01:00", headers=AUTH, timeout=30
    )
    assert resp.status_code in (400, 410), (resp.status_code, resp.text)
    assert "error" in resp.json()


# -- query parameters with a trailing line end --------------------------------------------


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("branch=main%0A", "is not a branch name"),
        ("commit=abc123%0A", "is not a commit id"),
        ("run=ci-1%0A", "is not a CI run id"),
    ],
)
def test_a_parameter_ending_in_a_line_end_is_400(server: Server, query: str, error: str) -> None:
    """`re.match(r"^...$")` lets one trailing "\\n" through: `branch=main\\n` is stored as
    a branch of its own (201) instead of refused."""
    resp = post(server, GOOD, query=f"?at=2025-10-31T13:00:00Z&{query}")
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert error in resp.json()["error"]
    nothing_stored(server)


# -- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, db: Database, database_url: str, tmp_path: Path
) -> Database:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    return db


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[object, str, str]:
    try:
        code: object = main(list(argv))
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "body",
    [
        b'{"metrics": {"memory_usage": Infinity}}',
        b'{"metrics": {"memory_usage": 1' + b"0" * 400 + b"}}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"metrics": {"hook_execution": 1e308}}',
        b'{"metrics": {"memory_usage": 120, "memory_usage": 999}}',
    ],
    ids=["infinity", "huge-int", "deep", "past-any-measurement", "given-twice"],
)
def test_cli_ingest_metrics_refuses_unusable_numbers_in_one_line(
    capsys: pytest.CaptureFixture[str], cli_env: Database, tmp_path: Path, body: bytes
) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(body)
    code, out, err = run_cli(capsys, "ingest", "metrics", str(path))
    assert (code, out, err.count("\n")) == (1, "", 1), (code, out[:200], err[:200])
    assert err.startswith(f"{path}: ")
    assert count(cli_env, MetricSample) == 0
    assert count(cli_env, OutboxMessage) == 0


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "junit", str(FIXTURES / "vitest-run1.xml")],
        ["config", "check", str(EXAMPLE)],
        ["export", "tracker"],
    ],
)
def test_cli_at_before_year_one_in_utc_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], cli_env: Database, argv: list[str]
) -> None:
    """`--at 0001-01-01T00:00:00+01:00` passes parse_instant; `.astimezone(UTC)` in
    bot.cli._parse_at then raises OverflowError: a traceback instead of exit 2."""
    code, out, err = run_cli(capsys, *argv, "--at", "0001-01-01T00:00:00+01:00")
    assert (code, out, err.count("\n")) == (2, "", 1), (code, err[:200])
    assert count(cli_env, TestReport) == 0


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("url", ["https://", "https://bot example.com", "https://?x"])
def test_manifest_refuses_a_url_with_no_host_or_a_space(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """Only `startswith("https://")` is checked: `https://` prints a manifest whose request
    URLs are `https:///slack/events`, which Slack refuses when the app is created."""
    code, out, err = run_cli(capsys, "manifest", url)
    assert (code, out, err.count("\n")) == (2, "", 1), (code, out[:120], err)


def test_one_infinite_metric_posts_an_inf_alert_and_breaks_the_sprint_api(server: Server) -> None:
    """The consequence of the above: the 500 came after the commit. The team channel gets
    "Memory Usage degraded: inf MB (… inf % beyond)", and GET /api/v1/sprint answers 500
    until a later sample of that metric arrives (and `?at=` that instant, for ever)."""
    resp = httpc.post(
        f"{server.url}/api/v1/metrics",
        content=b'{"metrics": {"memory_usage": Infinity}}',
        headers=JSON,
        timeout=30,
    )
    server.runtime.sender.drain()
    posted = [json.dumps(c.args) for c in server.slack.calls_to("chat.postMessage")]
    figures = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30)
    assert (resp.status_code, figures.status_code, count(server.runtime.db, MetricSample)) == (
        400,
        200,
        0,
    ), (resp.status_code, figures.status_code)
    assert not any("inf MB" in p for p in posted), posted


# -- `at=` written by `date -Iseconds` straight into the URL --------------------------------


def test_at_with_an_unencoded_plus_offset_is_read_as_the_offset(server: Server) -> None:
    """curl "...?at=$(date -Iseconds)" sends `+01:00` unencoded; the query's `+` reads as a
    space and the run is refused (400 "not an ISO-8601 time") although a trailing
    " HH:MM" can only be a `+HH:MM` offset."""
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?run=ci-plus&at=2025-10-31T14:00:00+01:00",
        content=GOOD,
        headers=XML,
        timeout=30,
    )
    assert resp.status_code == 201, (resp.status_code, resp.text)
    assert count(server.runtime.db, TestReport) == 1


# -- DATABASE_URL with a scheme SQLAlchemy does not know -------------------------------------


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("argv", [["db", "upgrade"], ["job", "run", "outbox"]])
def test_a_database_url_typo_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    """`sqlite3:///x.db` (for sqlite:///) passes the settings' check; SQLAlchemy's
    NoSuchModuleError is not the ImportError that bot.startup.open_database turns into
    "DATABASE_URL: ...", so the command ends in a traceback."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite3:///{tmp_path}/x.db")
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (1, ""), (code, err[-300:])
    assert err.startswith("DATABASE_URL: ") and err.count("\n") == 1, err


def test_a_ci_run_id_with_a_letter_beyond_ascii_is_taken(server: Server) -> None:
    """Jenkins' BUILD_TAG holds the job's name (`jenkins-Développement-12`): taken as a run
    id, as it always was (only a final line end is refused)."""
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?at=2025-10-31T13:00:00Z&run=jenkins-D%C3%A9veloppement-12",
        content=GOOD,
        headers=XML,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


@pytest.mark.usefixtures("clean_env")
def test_cli_ingests_a_gzip_compressed_report_as_the_api_does(
    capsys: pytest.CaptureFixture[str], cli_env: Database, tmp_path: Path
) -> None:
    """Found by review: `ingest junit report.xml.gz` said "malformed XML at line 1, column
    1", though the API takes a gzip body. The same report plain is then a replay, as a gzip
    body and a plain one are to the API; a gzip file cut short is one line, stores nothing."""
    xml = (FIXTURES / "vitest-run1.xml").read_bytes()
    packed = tmp_path / "report.xml.gz"
    packed.write_bytes(gzip.compress(xml))
    code, out, err = run_cli(capsys, "ingest", "junit", str(packed), "--run", "v1")
    assert code == 0, err
    assert json.loads(out)["tests"] == 6
    plain = tmp_path / "report.xml"
    plain.write_bytes(xml)
    code, out, err = run_cli(capsys, "ingest", "junit", str(plain), "--run", "v1")
    assert (code, json.loads(out)["replay"]) == (0, True), err
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(gzip.compress(xml)[:-20])
    code, out, err = run_cli(capsys, "ingest", "junit", str(cut), "--run", "v2")
    assert (code, out, err.count("\n")) == (1, "", 1), (code, err)
    assert err.startswith(f"{cut}: not a whole gzip file")
    assert count(cli_env, TestReport) == 1


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_cli_ingests_a_report_piped_in(
    capsys: pytest.CaptureFixture[str], cli_env: Database, packed: bool
) -> None:
    """`zcat report.xml.gz | sprintbot ingest junit /dev/stdin` (or `<(zcat …)`): a pipe is
    ingested (found by review: the file was opened for its digest and again to be parsed,
    and the parse read a pipe already drained: "the document is empty")."""
    xml = (FIXTURES / "vitest-run1.xml").read_bytes()
    body = gzip.compress(xml) if packed else xml
    read, write = os.pipe()

    def feed() -> None:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(body)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code, out, err = run_cli(capsys, "ingest", "junit", f"/dev/fd/{read}", "--run", "piped")
    finally:
        writer.join()
        os.close(read)
    assert code == 0, err
    assert json.loads(out)["tests"] == 6
