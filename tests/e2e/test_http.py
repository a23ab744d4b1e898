"""/healthz and /api/v1 through the real server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.web import create_web_app
from storage.db import Database
from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server, serve
from tests.support.slack import slash

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def test_healthz_ok(server: Server) -> None:
    resp = httpc.get(f"{server.url}/healthz")
    assert (resp.status_code, resp.json()) == (
        200,
        {
            "status": "ok",
            "database": "ok",
            "clock": "not started",  # no clock has ticked on this database yet
            "clock_last_tick": None,
            "outbox": "ok",
            "outbox_oldest_pending_seconds": 0,
            "max_age_seconds": 900,
        },
    )


def test_healthz_503_when_database_unreachable(server: Server) -> None:
    # PostgreSQL on a port nobody listens on.
    dead = Database.from_url("postgresql://postgres@127.0.0.1:1/none")
    app = create_web_app(
        server.runtime.settings,
        bolt_app=server.runtime.bolt,
        sprint=server.runtime.sprint,
        db=dead,
        now=server.runtime.now,
    )
    url, stop = serve(app)
    try:
        resp = httpc.get(f"{url}/healthz", timeout=15)
    finally:
        stop()
    assert (resp.status_code, resp.json()) == (503, {"status": "error", "database": "unreachable"})


def test_api_readiness_json(server: Server) -> None:
    resp = httpc.get(f"{server.url}/api/v1/readiness", headers=AUTH)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["score"], body["target"], body["gap"]) == (71.55, 85.0, -13.45)
    # Nothing measured: the plan runs from the starting scores' 71.55 % (day 3: 5/18 of the
    # way to 85 %), and 71.55 % is more than 2 points below it.
    assert (body["day"], body["plan"], body["health"]) == (3, 75.29, "Critical")
    assert body["health_reason"].startswith("3.74 pts below plan")
    assert [g["name"] for g in body["groups"]][:2] == ["Core Infrastructure", "CLI Commands"]
    assert body["groups"][0]["score"] == 75.2
    leaf = body["groups"][3]["components"][1]
    assert leaf == {
        "name": "User Guides",
        "weight": 5.0,
        "score": 50.0,
        "target": 100.0,
        "gap": -50.0,
        "source": "manual",
        "detail": "starting score",
    }


def test_api_readiness_follows_a_manual_change(server: Server) -> None:
    slash(server.url, "/readiness", "set API Documentation 100")
    body = httpc.get(f"{server.url}/api/v1/readiness", headers=AUTH).json()
    assert body["score"] == 73.05


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {INGEST_TOKEN}"},
        # Padding around the token is not the token (it was stripped and accepted).
        {"Authorization": f"Bearer  {INGEST_TOKEN}"},
        {"Authorization": f"Bearer \t{INGEST_TOKEN}"},
    ],
)
def test_api_needs_the_bearer_token(server: Server, headers: dict[str, str]) -> None:
    resp = httpc.get(f"{server.url}/api/v1/readiness", headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {"error": "missing or wrong bearer token (Authorization: Bearer <token>)"}


def test_api_is_503_without_an_ingest_token(make_server: Callable[..., Server]) -> None:
    server = make_server(SPRINTBOT_INGEST_TOKEN=None)
    resp = httpc.get(f"{server.url}/api/v1/readiness", headers=AUTH)
    assert resp.status_code == 503
    assert "SPRINTBOT_INGEST_TOKEN" in resp.json()["error"]


def test_admin_through_a_user_group(make_server: Callable[..., Server], tmp_path: object) -> None:
    from pathlib import Path

    from tests.support.server import EXAMPLE

    path = Path(str(tmp_path)) / "sprint.toml"
    path.write_text(
        EXAMPLE.read_text().replace('admins = ["U0TECHLEAD", "U0QALEAD"]', 'admins = ["S0LEADS"]')
    )
    server = make_server(SPRINTBOT_CONFIG=str(path))
    server.slack.usergroups["S0LEADS"] = ["U0MEMBER"]
    ok = slash(server.url, "/readiness", "set User Guides 60", user_id="U0MEMBER").json()
    assert ok["text"].startswith(":pencil2: *User Guides*: 50 % → *60 %*")
    refused = slash(server.url, "/readiness", "set User Guides 90", user_id="U0OUTSIDER").json()
    assert refused["text"] == "Only sprint admins can set scores; ask <!subteam^S0LEADS>."
    assert [c.args["usergroup"] for c in server.slack.calls_to("usergroups.users.list")] == [
        "S0LEADS",
        "S0LEADS",
    ]


def test_events_url_verification(server: Server) -> None:
    from tests.support.slack import post_signed

    body = '{"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}'  # noqa: E501
    resp = post_signed(server.url, body, content_type="application/json")
    assert resp.status_code == 200
    assert resp.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
