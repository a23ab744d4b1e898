"""Hostile text end to end (issue 12, faults 2 and 4): a blocker, a risk, a resolution and
CI results full of `<!channel>`, forged links and `<`/`>`/`&` reach Slack escaped, within
Block Kit's limits, and delivered; a CI link that is not a plain URL is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import OutboxMessage, OutboxStatus, Risk, TestReport
from tests.support import httpc
from tests.support.e2e import (
    T0,
    at,
    blocker_form_values,
    blocks_text,
    home_opened,
    posts,
    risk_values,
    strings,
    view_submit,
)
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash

XML = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}
# Everything Slack would turn into a notification or a link if it arrived raw.
FORBIDDEN = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^SHOSTILE>",
    "<https://evil",
    "<@U0VICTIM>",
)
HOSTILE = "<!channel> <!here> <!everyone> <!subteam^SHOSTILE> <https://evil|click> <@U0VICTIM> "
TRACE = "  at <module> <lambda> (<&>) Map<K,List<V>> a&&b >>= c <<&>>\n"


def hostile(length: int = 1990) -> str:
    """Under the 2,000-character input limit, but five times longer once escaped."""
    text = HOSTILE + TRACE * (length // len(TRACE) + 1)
    return text[:length]


def slack_escaped(text: str) -> str:
    """Slash command text as Slack sends it: &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    view = args.get("view")
    if view is not None:
        view = json.loads(view) if isinstance(view, str) else view
        return list(view.get("blocks") or [])
    blocks = args.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def limit_problems(args: dict[str, Any]) -> list[str]:
    """Block Kit's length limits, each text object checked."""
    out = []
    if len(args.get("text") or "") > 4000:
        out.append(f"top-level text of {len(args['text'])} characters")
    for i, b in enumerate(blocks_of(args)):
        text = (b.get("text") or {}).get("text") or ""
        if b["type"] == "section" and len(text) > 3000:
            out.append(f"section {i}: {len(text)} characters")
        if b["type"] == "header" and len(text) > 150:
            out.append(f"header {i}: {len(text)} characters")
        for f in b.get("fields") or []:
            if len(f["text"]) > 2000:
                out.append(f"field in block {i}: {len(f['text'])} characters")
        for e in b.get("elements") or []:
            if b["type"] == "context" and len(e.get("text") or "") > 3000:
                out.append(f"context {i}: {len(e['text'])} characters")
    return out


def junit(cases: list[tuple[str, str, str | None]]) -> bytes:
    """A report; each case (classname, name, failure message or None), XML-escaped."""

    def attr(s: str) -> str:
        return (
            s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        )

    body = "".join(
        f'<testcase classname="{attr(c)}" name="{attr(n)}">'
        + (f'<failure message="{attr(m)}">{attr(m)}</failure>' if m is not None else "")
        + "</testcase>"
        for c, n, m in cases
    )
    return f"<testsuite>{body}</testsuite>".encode()


def send_report(server: Server, body: bytes, **query: str) -> httpx.Response:
    query.setdefault("at", "2025-10-31T12:00:00Z")
    return httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=XML, timeout=30
    )


def test_hostile_text_is_escaped_fits_slack_and_is_delivered(server: Server) -> None:
    at(server, T0)
    description = hostile()
    assert len(description) < 2000 and len(slack_escaped(description)) > 3000

    # A blocker from the form (plain text as typed) and one from the command line (Slack
    # sends it escaped; sprintbot unescapes it to store what was typed).
    values = {
        "values": {
            "component": {
                "value": {
                    "type": "static_select",
                    "selected_option": {"value": "Swarm Coordination"},
                }
            },
            "description": {"value": {"type": "plain_text_input", "value": description}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P0"}}},
            "owner": {"value": {"type": "users_select", "selected_user": None}},
            "target": {"value": {"type": "plain_text_input", "value": HOSTILE[:99]}},
        }
    }
    assert view_submit(server, "blocker", "U0DEV", values).text == ""
    quick = slash(
        server.url,
        "/blocker",
        slack_escaped(f"P1 Memory Management: {hostile(1900)}"),
        user_id="U0DEV",
    ).json()
    assert quick["text"].startswith(":no_entry: B-002 filed")

    # A risk whose description and mitigation are stack traces.
    risk_values = {
        "values": {
            "description": {"value": {"type": "plain_text_input", "value": description}},
            "impact": {"value": {"type": "static_select", "selected_option": {"value": "High"}}},
            "probability": {
                "value": {"type": "static_select", "selected_option": {"value": "High"}}
            },
            "mitigation": {"value": {"type": "plain_text_input", "value": description}},
            "owner": {"value": {"type": "users_select", "selected_user": "U0DEV"}},
            "status": {
                "value": {"type": "static_select", "selected_option": {"value": "Critical"}}
            },
        }
    }
    assert view_submit(server, "risk", "U0DEV", risk_values).text == ""
    with server.runtime.db.session() as s:
        assert len(s.exec(select(Risk)).all()) == 1

    # CI: a link that smuggles mentions is refused and stores nothing; a long real one is
    # kept. Test names and failure messages carry the same hostile text.
    smuggled = "https://ci/1><!channel><https://evil|Re-run>"
    for bad in (smuggled, "https://ci/1|Re-run", "https://ci/ 1", "https://ci/1\x07", "https:///x"):
        refused = send_report(server, junit([("a", "b", None)]), run="bad", url=bad)
        assert refused.status_code in (400, 422), (bad, refused.text)
        assert refused.json()["error"].startswith("url must be an http(s) link"), refused.text
    with server.runtime.db.session() as s:
        assert s.exec(select(TestReport)).all() == []

    names = [(f"tests.swarm.t{i} {HOSTILE}", f"test_{i}<&>", None) for i in range(3)]
    first = send_report(server, junit(names), run="ci-1")
    assert first.status_code == 201, first.text
    long_url = "https://ci.example.com/runs/2/" + "job-0123456789/" * 120 + "?attempt=1&shard=2"
    assert 1800 < len(long_url) < 1990
    failing = [(c, n, hostile()) for c, n, _ in names]
    second = send_report(server, junit(failing), run="ci-2", commit="bbb222", url=long_url)
    assert second.status_code == 201, second.text
    assert len(second.json()["regressions"]) == 3

    # Resolving with a hostile note; the daily report, /blocker list, /risk list and the
    # App Home all show the same text.
    note = slack_escaped(f"resolve B-001 {hostile(1950)}")
    assert slash(server.url, "/blocker", note, user_id="U0DEV").json()["text"] == (
        ":white_check_mark: B-001 resolved."
    )
    acks = [
        slash(server.url, "/blocker", "list", user_id="U0DEV").json(),
        slash(server.url, "/risk", "list", user_id="U0DEV").json(),
    ]
    at(server, T0.replace(hour=14))
    bot_clock.run_job(server.runtime, "daily-report")
    home_opened(server, "U0DEV", "1761919200.000100")
    deadline = time.monotonic() + 10
    while not server.slack.calls_to("views.publish"):
        assert time.monotonic() < deadline, "views.publish never called"
        server.runtime.sender.drain()
        time.sleep(0.05)
    server.runtime.sender.drain()

    # Delivered: nothing stuck, failed or waiting.
    with server.runtime.db.session() as s:
        rows = s.exec(select(OutboxMessage)).all()
        # (The escalation step queued at filing and not yet sent was taken back with the
        # resolution: it called people for a resolved blocker.)
        done = (OutboxStatus.SENT, OutboxStatus.WITHDRAWN)
        stuck = [(r.key, r.status, r.last_error) for r in rows if r.status not in done]
    assert rows and stuck == []
    blocker_posts = [p for p in posts(server) if p.args.get("channel") == "#critical-blockers"]
    assert len(blocker_posts) == 2
    alert = next(p for p in posts(server) if "regressed on main" in p.args.get("text", ""))
    link = "<" + long_url.replace("&", "&amp;") + "|CI run>"
    assert link in blocks_text(alert.args["blocks"])

    # Nothing raw reached Slack, and every text fits.
    calls = [
        c
        for c in server.slack.calls
        if c.method in ("chat.postMessage", "chat.update", "views.publish")
        or c.method.startswith("response/")
    ]
    assert len(calls) >= 10
    seen = [(c.method, s) for c in calls for s in strings(c.args)] + [
        ("ack", a["text"]) for a in acks
    ]
    for method, text in seen:
        for raw in FORBIDDEN:
            assert raw not in text, (method, raw, text[:300])
        assert smuggled not in text
    for c in calls:
        assert limit_problems(c.args) == [], (c.method, limit_problems(c.args))
    # The text is shown (escaped), not dropped: the blocker's post and its notification text.
    first_blocker = blocker_posts[0]
    assert "&lt;!channel&gt; &lt;!here&gt;" in first_blocker.args["text"]
    assert "&lt;https://evil|click&gt;" in blocks_text(first_blocker.args["blocks"])
    # The bot's own mentions still work: the reporter, the risk's owner.
    assert "*Reported by*\n<@U0DEV>" in blocks_text(first_blocker.args["blocks"])
    risk_post = next(p for p in posts(server) if "New risk" in blocks_text(p.args["blocks"]))
    assert "<@U0DEV>" in blocks_text(risk_post.args["blocks"])


def test_an_error_quoting_the_input_mentions_and_links_no_one(server: Server) -> None:
    # Fault: the ephemeral error echoed the command's text raw ("<!here>" is not a blocker id).
    at(server, T0)
    for text in ("P0 <!channel>: x", "resolve <!here> done", "resolve <https://evil|B-001> x"):
        answer = slash(server.url, "/blocker", text, user_id="U0DEV").json()["text"]
        assert not any(bad in answer for bad in FORBIDDEN), answer
        assert "&lt;" in answer, answer
    # The bot's own mentions in an error still work.
    slash(server.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    slash(server.url, "/blocker", "resolve B-001 fixed", user_id="U0DEV")
    again = slash(server.url, "/blocker", "resolve B-001 fixed", user_id="U0DEV").json()["text"]
    assert again == "B-001 was already resolved by <@U0DEV>."


def test_names_and_reasons_typed_with_angle_brackets_and_ampersands(server: Server) -> None:
    """Slack sends command text with &, < and > escaped: every command reads what the user
    typed, so a test named `test_key[<lambda>]` is found and a reason is kept as typed."""
    body = (
        b'<testsuite timestamp="2025-10-31T12:00:00Z">'
        b'<testcase classname="tests.swarm.test_parse" name="test_key[&lt;lambda&gt;]">'
        b'<failure message="boom"/></testcase></testsuite>'
    )
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}
    url = f"{server.url}/api/v1/test-runs?run=r1&at=2025-10-31T12:00:00Z"
    assert httpc.post(url, content=body, headers=headers, timeout=30).status_code == 201

    shown = slash(server.url, "/tests", slack_escaped("show test_key[<lambda>]")).json()
    assert shown["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "tests.swarm.test_parse::test_key[<lambda>]",
        "emoji": True,
    }
    typed = "quarantine test_key[<lambda>] for 2d because R&D's <fixture> races"
    done = slash(server.url, "/tests", slack_escaped(typed)).json()
    assert done["text"].startswith("Quarantined `tests.swarm.test_parse::test_key[&lt;lambda&gt;]`")
    listed = slash(server.url, "/tests", "quarantined").json()
    assert "R&amp;D's &lt;fixture&gt; races" in blocks_text(listed["blocks"])


@pytest.mark.parametrize(
    ("form", "values"), [("blocker", blocker_form_values), ("risk", risk_values)]
)
def test_a_forged_owner_in_a_form_pings_nobody(
    server: Server, form: str, values: Callable[[], dict[str, Any]]
) -> None:
    """The blocker and risk forms' Owner is a users_select: Slack sends a user ID. A
    payload that carries `U1> <!channel` there instead reached #critical-blockers (or the
    team channel) as a broadcast (found by review): it is refused with an error on the
    field."""
    at(server, T0)
    submitted = values()
    submitted["values"]["owner"] = {
        "value": {"type": "users_select", "selected_user": "U0DEV> <!channel> <@U0VICTIM"}
    }
    answer = view_submit(server, form, "U0DEV", submitted)
    listeners_done()
    assert answer.json()["errors"] == {"owner": "Pick the owner from the list."}
    server.runtime.sender.drain()
    shown = [blocks_text(blocks_of(p.args)) + p.args.get("text", "") for p in posts(server)]
    leaked = [raw for s in shown for raw in FORBIDDEN if raw in s]
    assert leaked == [], (answer.text, leaked, shown)
