"""Driving the app as Slack and CI do in end-to-end tests: clicks, forms, reports, and
reading what reached the fake Slack."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support import httpc
from tests.support.fakeslack import Call
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import post_signed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
_TICKS = itertools.count(1)


def slack_ts(server: Server) -> str:
    """A timestamp as Slack gives an event or a click (`event_ts`, `action_ts`): when it
    happened, on the test's clock, each one apart by a microsecond (they key what they do:
    Slack's retries of one event carry its timestamp)."""
    return f"{server.clock.at.timestamp() + next(_TICKS) / 1e6:.6f}"


AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}


def post_report(server: Server, name: str, **query: str) -> httpx.Response:
    query.setdefault("at", "2025-10-31T13:00:00Z")
    return httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}",
        content=(FIXTURES / name).read_bytes(),
        headers=AUTH,
        timeout=30,
    )


def responses(server: Server, count: int) -> list[Call]:
    """response_url posts: Bolt sends them after the ack, from a worker thread; all of them,
    once every listener has finished, so a late extra response is among them."""
    listeners_done()
    found = server.slack.calls_to("response/action")
    assert len(found) >= count, f"only {len(found)} responses"
    return found


def posts(server: Server) -> list[Call]:
    return server.slack.calls_to("chat.postMessage")


def text_of(call: Call) -> str:
    """A sent message's text, then every text its blocks show."""
    return "\n".join([call.args.get("text", ""), blocks_text(call.args.get("blocks") or [])])


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text shown by blocks: sections, fields, context elements, button labels."""
    out = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)]
        out += [e["text"]["text"] for e in b.get("elements", []) if isinstance(e.get("text"), dict)]
    return "\n".join(out)


def click(
    server: Server,
    action_id: str,
    value: str,
    user: str = "U0DEV",
    *,
    channel: str = "C0TEAM",
    ts: str = "1.2",
) -> httpx.Response:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "dev", "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "test"},
        "channel": {"id": "C0TEAM", "name": "phase4-production-readiness"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "trigger_id": "1.2.3",
        "response_url": server.slack.response_url("action"),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "type": "button",
                "action_ts": slack_ts(server),  # (when clicked, as Slack sends it)
            }
        ],
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)}))


def _alert_id(server: Server, key: str) -> int:
    from sqlmodel import select

    from storage.models import Alert

    with server.runtime.db.session() as s:
        alert = s.exec(select(Alert).where(Alert.key == key)).one()
    assert alert.id is not None
    return alert.id


T0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)


def at(server: Server, when: datetime) -> None:
    server.runtime.now.at = when  # type: ignore[attr-defined]


def view_submit(
    server: Server,
    callback_id: str,
    user: str,
    values: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    *,
    view_id: str = "V2",
) -> httpx.Response:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": "4.5.6",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": json.dumps(metadata or {}),
            "state": values,
        },
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)}))


def blocker_form_values(description: str = "OOM in eviction") -> dict[str, Any]:
    return {
        "values": {
            "component": {
                "value": {
                    "type": "static_select",
                    "selected_option": {"value": "Memory Management"},
                }
            },
            "description": {"value": {"type": "plain_text_input", "value": description}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P1"}}},
            "owner": {"value": {"type": "users_select", "selected_user": None}},
            "target": {"value": {"type": "plain_text_input", "value": ""}},
        }
    }


def opened(server: Server, count: int = 1) -> list[Any]:
    """views.open calls: Bolt makes them after the ack, from a worker thread; all of them,
    once every listener has finished, so a late extra call is among them."""
    listeners_done()
    calls = server.slack.calls_to("views.open")
    assert len(calls) >= count, f"views.open called {len(calls)} times"
    return [
        json.loads(c.args["view"]) if isinstance(c.args["view"], str) else c.args["view"]
        for c in calls
    ]


def state(**values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block_id, value in values.items():
        if isinstance(value, list):
            out[block_id] = {
                "value": {
                    "type": "multi_static_select",
                    "selected_options": [{"value": v} for v in value],
                }
            }
        elif block_id == "blocker_severity":
            out[block_id] = {
                "value": {"type": "static_select", "selected_option": {"value": value}}
            }
        elif block_id in ("tests_fixed", "target_tests"):
            out[block_id] = {"value": {"type": "number_input", "value": value}}
        else:
            out[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    return {"values": out}


def submit(
    server: Server, user: str, *, metadata: dict[str, str] | None = None, **values: Any
) -> httpx.Response:
    """The standup form submitted (for 2025-10-31 unless `metadata` says otherwise)."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "4.5.6",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "standup",
            "team_id": "T1",
            "private_metadata": json.dumps(metadata or {"day": "2025-10-31"}),
            "state": state(**values),
            "hash": "h",
        },
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)}))


ANSWER = {
    "tests_fixed": "12",
    "components_improved": ["Swarm Coordination"],
    "notes": "fixed the leader election race",
    "target_tests": "20",
    "focus_areas": "memory eviction",
    "risk_items": "",
    "current_blockers": "P0: Swarm Coordination deadlocks under partition\nCI runners are slow",
    "blocker_severity": "P2",
    "new_risks": "LRU rewrite may slip",
    "help_needed": "someone who knows the hooks system",
    "action_items": "Pair on eviction | <@U0BEN> | tomorrow",
}


def home_opened(server: Server, user: str, event_ts: str = "") -> None:
    body = {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": event_ts or slack_ts(server),
        },
    }
    resp = post_signed(server.url, json.dumps(body), content_type="application/json")
    assert resp.status_code == 200


def risk_values(**overrides: str) -> dict[str, Any]:
    fields = {
        "description": "Test fixes introduce regressions",
        "impact": "High",
        "probability": "Medium",
        "mitigation": "Regression suite after each fix",
        "status": "Active",
        **overrides,
    }
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("impact", "probability", "status"):
            values[key] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[key] = {"value": {"type": "plain_text_input", "value": value}}
    values["owner"] = {"value": {"type": "users_select", "selected_user": "U0TDD"}}
    return {"values": values}


def strings(value: Any) -> list[str]:
    """Every string in a Web API call's arguments (blocks and views may come JSON-encoded)."""
    if isinstance(value, str):
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):  # not JSON after all: a plain string
                return strings(json.loads(value))
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def home_views(server: Server, user: str) -> list[dict[str, Any]]:
    """The Home views published for `user`, oldest first."""
    views = []
    for c in server.slack.calls_to("views.publish"):
        if c.args.get("user_id") == user:
            view = c.args["view"]
            views.append(json.loads(view) if isinstance(view, str) else view)
    return views


def view_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    """A view's (or message's) buttons, in order."""
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def sent_ts(server: Server, key: str) -> str:
    """The ts of the message the outbox sent for `key`."""
    from storage import queries

    with server.runtime.db.read() as s:
        row = queries.outbox_message(session=s, key=key)
        assert row is not None and row.result.get("ts"), key
        return str(row.result["ts"])
