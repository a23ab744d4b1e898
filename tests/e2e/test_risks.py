"""The risk register end to end: add by form, the matrix, edits, status changes announced
and kept as history, links from blockers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from storage.models import Blocker, Event, Risk
from tests.support import httpc
from tests.support.e2e import T0, at, opened, posts, risk_values, text_of, view_submit
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash


def test_risk_register(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/risk", user_id="U0PM")
    [form] = opened(server)
    assert [b["block_id"] for b in form["blocks"]] == [
        "description",
        "impact",
        "probability",
        "mitigation",
        "owner",
        "status",
    ]
    bad = view_submit(server, "risk", "U0PM", risk_values(description="", impact="Huge"))
    assert bad.json() == {
        "response_action": "errors",
        "errors": {
            "description": "Describe the risk.",
            "impact": '"Huge" is not one of High, Medium, Low.',
        },
    }
    assert view_submit(server, "risk", "U0PM", risk_values()).text == ""
    server.runtime.sender.drain()
    [announce] = posts(server)
    assert announce.args["channel"] == "#phase4-production-readiness"
    assert announce.args["text"].startswith(":clipboard: New risk *R-001* (Active, by <@U0PM>)")

    listing = slash(server.url, "/risk", "list", user_id="U0X").json()["text"]
    assert listing.splitlines()[:3] == [
        "*Risk Tracking Matrix*",
        ":large_yellow_circle: *R-001* Test fixes introduce regressions · impact High · "
        "probability Medium · <@U0TDD> · Active",
        "      _mitigation: Regression suite after each fix_",
    ]

    slash(server.url, "/risk", "update R-001", user_id="U0PM")
    edit = opened(server, 2)[-1]
    assert edit["title"]["text"] == "Edit R-001"
    status = next(b for b in edit["blocks"] if b["block_id"] == "status")
    assert status["element"]["initial_option"]["value"] == "Active"
    view_submit(server, "risk", "U0PM", risk_values(status="Mitigated"), {"risk": 1})
    view_submit(
        server,
        "risk",
        "U0PM",
        risk_values(status="Mitigated", mitigation="Lock dependencies"),
        {"risk": 1},
    )
    server.runtime.sender.drain()
    changes = [p.args["text"] for p in posts(server)[1:]]
    assert len(changes) == 1  # the second edit changed no status: no announcement
    assert changes[0].startswith(":clipboard: *R-001* Active → *Mitigated* (by <@U0PM>)")
    with server.runtime.db.session() as s:
        history = [
            (e.action, e.detail.get("old"), e.detail.get("new"))
            for e in s.exec(
                select(Event).where(Event.subject == "risk").order_by(col(Event.id))
            ).all()
        ]
    assert history == [
        ("created", None, None),
        ("status", "Active", "Mitigated"),
        ("updated", "Mitigated", "Mitigated"),
    ]

    slash(server.url, "/blocker", "P1 Unit Tests: new failures after fix", user_id="U0DEV")
    linked = slash(server.url, "/blocker", "link B-001 R-001", user_id="U0DEV").json()
    assert linked["text"] == ":link: B-001 is linked to R-001."
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().risk_id == 1
    assert slash(server.url, "/risk", "update R-9", user_id="U0PM").json()["text"] == (
        "There is no risk R-009. `/risk list` shows the register."
    )
    server.runtime.sender.drain()
    assert any(text_of(p).startswith("B-001 P1 · Unit Tests") for p in posts(server))


def test_a_double_submitted_risk_form_adds_one_risk(server: Server) -> None:
    """Issue 12, fault 9 for risks: the same risk form submitted twice (one view id) added
    two risks and announced both."""
    at(server, T0)
    first = view_submit(server, "risk", "U0PM", risk_values(), view_id="VRISK")
    assert (first.status_code, first.text) == (200, "")
    again = view_submit(server, "risk", "U0PM", risk_values(), view_id="VRISK")
    assert again.json()["response_action"] == "update"
    assert again.json()["view"]["blocks"][0]["text"]["text"] == (
        ":information_source: Already added as R-001; nothing new was added."
    )
    server.runtime.sender.drain()
    assert len(posts(server)) == 1
    with server.runtime.db.session() as s:
        assert [r.id for r in s.exec(select(Risk)).all()] == [1]
    # Editing it (the form with the risk in its metadata) is not a second submission.
    edit = view_submit(
        server, "risk", "U0PM", risk_values(status="Mitigated"), {"risk": 1}, view_id="VRISK"
    )
    assert edit.text == ""
    with server.runtime.db.session() as s:
        assert s.exec(select(Risk)).one().status == "Mitigated"


def test_a_past_instant_shows_the_risk_as_it_was_then(server: Server) -> None:
    """R-001 was High impact / Medium probability in the morning; in the afternoon it was
    re-assessed Low / Low (status unchanged). Asked about the morning, /api/v1/sprint?at=
    (and every surface built from it: a backfilled report, the tracker export --at) showed
    the afternoon's assessment: an edit keeps every field it changed."""
    at(server, T0)
    assert view_submit(server, "risk", "U0PM", risk_values(impact="High")).text == ""
    at(server, T0 + timedelta(hours=3))
    edited = risk_values(impact="Low", probability="Low")
    assert view_submit(server, "risk", "U0PM", edited, {"risk": 1}).text == ""
    morning = httpc.get(
        f"{server.url}/api/v1/sprint",
        params={"at": (T0 + timedelta(hours=1)).isoformat()},
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        timeout=30,
    ).json()
    [item] = morning["risks"]["items"]
    assert (item["impact"], item["probability"], item["status"]) == ("High", "Medium", "Active")
    [now] = sprint_items(server)
    assert (now["impact"], now["probability"]) == ("Low", "Low")


def sprint_items(server: Server) -> list[dict[str, Any]]:
    body = httpc.get(
        f"{server.url}/api/v1/sprint",
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        timeout=30,
    ).json()
    items: list[dict[str, Any]] = body["risks"]["items"]
    return items


def test_a_form_opened_before_another_edit_does_not_undo_it(server: Server) -> None:
    """Two people open R-001's form; one marks it Mitigated; the other, who only fixed a
    typo, saves: that put Active back (announced as a fresh change). It is refused on top
    of the form, which stays as typed, and the risk stays Mitigated."""
    at(server, T0)
    assert view_submit(server, "risk", "U0PM", risk_values()).text == ""
    slash(server.url, "/risk", "update R-001", user_id="U0PM")
    slash(server.url, "/risk", "update R-001", user_id="U0ANA")
    first, second = (json.loads(v["private_metadata"]) for v in opened(server, 2)[-2:])
    at(server, T0 + timedelta(minutes=5))
    mitigated = risk_values(status="Mitigated")
    assert view_submit(server, "risk", "U0PM", mitigated, first).text == ""
    typo = risk_values(description="Test fixes introduce regresions, fixed typo")
    late = view_submit(server, "risk", "U0ANA", typo, second).json()
    assert late["response_action"] == "push"
    assert "R-001 was changed since you opened this form" in json.dumps(late["view"])
    with server.runtime.db.session() as s:
        assert s.exec(select(Risk)).one().status == "Mitigated"
