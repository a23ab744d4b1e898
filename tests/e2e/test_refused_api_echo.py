"""Beyond GET /api/v1/sprint: the other API routes quote a refused value whole in their
400/404 error (`{value!r}` with no shortening), so a 5,000-character (metrics: up to the
1 MB body) hostile value comes straight back. `_shown` in jobs/ingest.py shortens a bad
metric *value* to 40 characters; names, fields, `at`, branch, run, commit, format and
test ids are quoted whole."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_ingest_bad_input import AUTH, GOOD, XML, nothing_stored
from tests.support import httpc
from tests.support.server import Server

JSON = {**AUTH, "Content-Type": "application/json"}
HUGE = "x" * 5000
LIMIT = 1000


def short(resp_text: str) -> int:
    return len(json.loads(resp_text)["error"])


@pytest.mark.parametrize(
    "params",
    [
        {"branch": "-" + HUGE},  # jobs.ingest.check_run_info: branch {info.branch!r}
        {"run": "r" * 201 + "!" + HUGE},  # run {info.run!r}
        {"commit": "c" * 5000},  # commit {info.commit!r}
    ],
    ids=["branch", "run", "commit"],
)
def test_test_runs_does_not_echo_a_huge_query_value(server: Server, params: dict[str, str]) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs",
        params={"at": "2025-10-31T13:00:00Z", **params},
        content=GOOD,
        headers=XML,
        timeout=30,
    )
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert short(resp.text) < LIMIT, resp.text[:200]
    nothing_stored(server)


@pytest.mark.parametrize(
    "body",
    [
        {"metrics": {"Bad Name " + HUGE * 20: 1}},  # metric name {name!r} (100 KB)
        {"metrics": {"memory_usage": 1}, "x" + HUGE * 20: 1},  # unknown field {key!r}
        {"metrics": {"memory_usage": 1}, "at": HUGE * 20},  # at {body['at']!r}
    ],
    ids=["metric-name", "unknown-field", "at"],
)
def test_metrics_does_not_echo_a_huge_value(server: Server, body: dict[str, object]) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/metrics", content=json.dumps(body), headers=JSON, timeout=30
    )
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert short(resp.text) < LIMIT, resp.text[:200]
    nothing_stored(server)


def test_quarantine_format_is_not_echoed_whole(server: Server) -> None:
    resp = httpc.get(
        f"{server.url}/api/v1/quarantine", params={"format": HUGE}, headers=AUTH, timeout=30
    )
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert short(resp.text) < LIMIT, resp.text[:200]


def test_a_test_id_is_not_echoed_whole(server: Server) -> None:
    resp = httpc.get(f"{server.url}/api/v1/tests/{'9' * 5000}", headers=AUTH, timeout=30)
    assert resp.status_code in (400, 404), (resp.status_code, resp.text[:200])
    assert short(resp.text) < LIMIT, resp.text[:200]


def test_a_content_type_is_not_echoed_whole(server: Server) -> None:
    """bot.web.Routes.test_runs: f"... not {media or 'nothing'}" (the metrics route too)."""
    for route in ("test-runs", "metrics"):
        resp = httpc.post(
            f"{server.url}/api/v1/{route}",
            content=GOOD,
            headers={**AUTH, "Content-Type": "x" * 5000},
            timeout=30,
        )
        assert resp.status_code == 415, (resp.status_code, resp.text[:200])
        assert short(resp.text) < LIMIT, resp.text[:200]
    nothing_stored(server)


def test_an_unknown_team_is_not_echoed_whole(make_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """bot.web.Routes.team_ctx: f'no team "{named}" (the teams: ...)'."""
    from tests.support.server import two_teams

    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    resp = httpc.get(f"{server.url}/api/v1/sprint", params={"team": HUGE}, headers=AUTH, timeout=30)
    assert resp.status_code == 404, (resp.status_code, resp.text[:200])
    assert short(resp.text) < LIMIT, resp.text[:200]
