"""The tests' HTTP requests to the servers they start on loopback.

`httpx.get` and `httpx.post` build a client for each request, and each client a TLS
context, reading the CA bundle (~20 ms of the interpreter) for a plain-HTTP request: a
tenth of the suite's time. One client serves them all; it keeps no connection open
between requests, as those functions did not (servers come and go between tests)."""

from __future__ import annotations

from typing import Any

import httpx

_client = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))


def get(url: str, **kwargs: Any) -> httpx.Response:
    return _client.get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return _client.post(url, **kwargs)
