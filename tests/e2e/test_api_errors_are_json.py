"""Starlette's own refusals of /api/v1 are JSON too (found by review)."""

from __future__ import annotations

import pytest

from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/test-runs", 405),  # a CI script's curl without -X POST
        ("POST", "/api/v1/readiness", 405),
        ("POST", "/api/v1/test-run", 404),  # a typo of the route
        ("GET", "/api/v1/tests/", 404),  # `/tests/$ID` with $ID unset
    ],
)
def test_api_errors_are_json(server: Server, method: str, path: str, status: int) -> None:
    """docs/api.md: "An error of `/api/v1/*` is JSON, `{"error": "..."}`, with a 4xx or 5xx
    status". A CI script that calls a route with the wrong method, a mistyped route, or
    `/api/v1/tests/$ID` with $ID empty gets Starlette's plain-text "Method Not Allowed" /
    "Not Found" (text/plain), so `jq .error` in the script fails on a parse error instead
    of printing what went wrong. It should get `{"error": "..."}` with the same status.
    (bot/web.py create_web_app: no exception handlers for HTTPException.)"""
    headers = {**AUTH, "Content-Type": "application/xml"}
    if method == "POST":
        response = httpc.post(f"{server.url}{path}", headers=headers, content=b"<testsuite/>")
    else:
        response = httpc.get(f"{server.url}{path}", headers=headers)
    assert response.status_code == status
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.headers.get("content-type"),
        response.text,
    )
    said = response.json().get("error")
    assert isinstance(said, str) and said.startswith(f"{method} '{path}': "), said
    if status == 405:  # (what it takes instead)
        assert said.endswith(" takes " + ("POST" if method == "GET" else "GET, HEAD")), said
