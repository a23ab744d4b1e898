"""User and CI text at Slack's limits and in its formatting: names that must fit the forms,
backticks, fences and bidi controls inside the bot's own text, mentions in refusals, lists
that say how many they leave out, a long standup edited, and counts in the singular."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import clock as bot_clock
from bot.cli import main
from storage.models import Blocker
from tests.e2e.test_after_the_end_and_ids import resolved_on_day_2
from tests.e2e.test_figures import RUNS, hand_server, local, send_run
from tests.e2e.test_mentions import junit as junit_cases
from tests.e2e.test_mentions import send_report
from tests.e2e.test_metrics_and_email import post_metrics as server_post_metrics
from tests.support.e2e import (
    ANSWER,
    T0,
    at,
    blocks_text,
    opened,
    posts,
    risk_values,
    submit,
    text_of,
    view_submit,
)
from tests.support.limits import slack_limits
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

# -- user text in the standup form ---------------------------------------------------------


def test_standup_carry_over_shows_yesterdays_plan_as_typed(server: Server) -> None:
    """Yesterday's "Focus areas" is shown the next morning in the form's "Carried over
    from your last standup": as typed, so `<!here>` and `<https://evil|click>` are neither
    a broadcast nor a link, `Map<K,V>` is no link and a typed `&lt;` stays `&lt;`."""
    yesterday = T0 - timedelta(days=1)
    at(server, yesterday)
    plan = "Map<K,V> & R&D &lt;tag&gt; <!here> <https://evil.example|click here>"
    answer = {**ANSWER, "focus_areas": plan, "current_blockers": ""}
    assert submit(server, "U0DEV", metadata={"day": "2025-10-30"}, **answer).text == ""
    at(server, T0)
    slash(server.url, "/standup", user_id="U0DEV")
    view = opened(server)[-1]
    carried = next(
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and "Carried over" in (b.get("text") or {}).get("text", "")
    )
    assert "<!here>" not in carried and "<https://evil" not in carried, carried
    assert "Map&lt;K,V&gt; &amp; R&amp;D &amp;lt;tag&amp;gt;" in carried, carried


def _shown(typed: list[str], prefix: str = "") -> str:
    """Lines as one field's text, each after `prefix`."""
    return "\n".join(prefix + line for line in typed)


def test_a_long_standup_is_refused_inline_or_edited_and_sent_back_unchanged(
    server: Server,
) -> None:
    """ "Current blockers" typed without a severity are kept "P2: line" (the form's severity
    for such lines) and action items "a|b|today" as "a | b | today": that is how an edit
    pre-fills them. An answer under the field's 2,900 characters as typed but over them as
    kept is refused under those fields, saying by how much; one that fits is taken, its
    edit opens within Slack's limits, and sent back unchanged it is taken again."""
    at(server, T0)
    blockers = [f"CI runner pool {i:02} exhausted: its jobs queue for hours" for i in range(60)]
    items = [f"Fix shard {i}|@dana|today" for i in range(200)]
    too_long: dict[str, Any] = {
        "current_blockers": _shown(blockers[:52]),
        "action_items": _shown(items[:112]),
    }
    assert all(len(v) <= 2900 for v in too_long.values())
    refused = submit(server, "U0DEV", **{**ANSWER, **too_long})
    errors = refused.json()["errors"]
    assert set(errors) == {"current_blockers", "action_items"}, errors
    assert errors["current_blockers"].startswith(
        'Kept as a line each starting with its severity ("P1: …"), this is '
    ), errors
    assert "over the 2900 the field holds when you edit it: shorten it by" in errors["action_items"]

    # Shortened to fit as kept: taken.
    n = max(k for k in range(len(blockers)) if len(_shown(blockers[:k], "P2: ")) <= 2900)
    m = max(
        k
        for k in range(len(items))
        if len(_shown([i.replace("|", " | ") for i in items[:k]])) <= 2900
    )
    fits: dict[str, Any] = {
        **ANSWER,
        "current_blockers": _shown(blockers[:n]),
        "action_items": _shown(items[:m]),
    }
    assert submit(server, "U0DEV", **fits).text == ""
    slash(server.url, "/standup", user_id="U0DEV")
    view = opened(server)[-1]
    assert slack_limits(view, view=True) == []
    prefilled = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert prefilled["current_blockers"] == _shown(blockers[:n], "P2: ")
    sent_back = {**fits, **{k: prefilled[k] for k in ("current_blockers", "action_items")}}
    assert submit(server, "U0DEV", **sent_back).text == ""


# -- CI text in code spans, code blocks and refusals ----------------------------------------


def _regression_alert(server: Server) -> list[str]:
    server.runtime.sender.drain()
    alert = next(p for p in posts(server) if "regressed on main" in p.args.get("text", ""))
    blocks = alert.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def test_a_backtick_in_a_test_name_stays_inside_its_code_span(server: Server) -> None:
    """pytest ids hold what the parameters were: `test_render[`code` span]` (a markdown
    renderer's tests). The regression alert writes each id as a code span; a backtick in
    the id must not end it early, or the rest of the CI text (*bold*, _italics_) is drawn
    as the bot's own formatting."""
    at(server, T0)
    name = "test_render[`x` *ALL CLEAR: ignore this alert* `y`]"
    classname = "tests.swarm.test_markdown"
    first = send_report(
        server, junit_cases([(classname, name, None)]), run="r1", at="2025-10-31T11:00:00Z"
    )
    assert first.status_code == 201, first.text
    second = send_report(
        server, junit_cases([(classname, name, "boom")]), run="r2", at="2025-10-31T12:00:00Z"
    )
    assert second.status_code == 201 and len(second.json()["regressions"]) == 1, second.text
    line = next(t for t in _regression_alert(server) if "test_render" in t).split("\n")[0]
    # One code span: the opening and the closing backtick the bot wrote, none in between.
    assert line.count("`") == 2, line


def test_a_fence_in_a_failure_message_stays_inside_its_code_block(server: Server) -> None:
    """A failure message is shown in a ``` block; a message that itself holds ``` (an
    assertion on markdown output, a diff of a README) must not close the block early, or
    the rest of the CI text is drawn as the bot's own mrkdwn: a bold "all clear"."""
    at(server, T0)
    classname, name = "tests.swarm.test_readme", "test_example_block"
    message = "assert rendered == expected\n```\n*All clear: CI is green, ignore this alert*\n```"
    first = send_report(
        server, junit_cases([(classname, name, None)]), run="r1", at="2025-10-31T11:00:00Z"
    )
    assert first.status_code == 201, first.text
    second = send_report(
        server, junit_cases([(classname, name, message)]), run="r2", at="2025-10-31T12:00:00Z"
    )
    assert second.status_code == 201 and len(second.json()["regressions"]) == 1, second.text
    text = next(t for t in _regression_alert(server) if "test_example_block" in t)
    block = text[text.index("```") + 3 :]
    assert block.endswith("```"), text
    # The bot's block: one opening and one closing fence, none in the CI text between.
    assert "```" not in block[:-3], text


def test_ci_test_names_in_a_refusal_mention_no_one(server: Server) -> None:
    """`/tests quarantine login` matching several tests is refused with their names. The
    names are CI's text: a test named after a person or a group must not be drawn as a
    live mention of them in the answer."""
    at(server, T0)
    cases = [
        ("tests.swarm.test_login", "test_login[<@U0CEO>]", None),
        ("tests.swarm.test_login", "test_login[<!subteam^S0EXEC>]", None),
    ]
    assert (
        send_report(server, junit_cases(cases), run="r1", at="2025-10-31T11:00:00Z").status_code
        == 201
    )
    answer = slash(server.url, "/tests", "quarantine test_login for 2d because flaky").json()
    assert "matches 2 tests" in answer["text"], answer
    assert "<@U0CEO>" not in answer["text"], answer["text"]
    assert "<!subteam^S0EXEC>" not in answer["text"], answer["text"]
    assert "&lt;@U0CEO&gt;" in answer["text"], answer["text"]


def test_tests_show_notification_text_is_escaped(server: Server) -> None:
    """`/tests show ID` answers with the test's history; its top-level `text` (what
    notifications and screen readers read) shows `classname::name` as CI wrote it."""
    at(server, T0)
    cases = [("tests.swarm.test_x", "test_y <!channel> <https://evil.example|click>", "boom")]
    done = send_report(server, junit_cases(cases), run="r1", at="2025-10-31T11:00:00Z")
    assert done.status_code == 201, done.text
    answer = slash(server.url, "/tests", "show test_y").json()
    assert answer["blocks"], answer
    assert "<!channel>" not in answer["text"] and "<https://evil" not in answer["text"], answer
    assert "test_y &lt;!channel&gt;" in answer["text"], answer


# -- component names that fit the forms ------------------------------------------------------

LONG_COMPONENT = (
    "Memory Management: LRU eviction, persistence, cross-session state and the "
    "SQLite and Redis backends (the migration plan and rollback criteria: ADR-0042)"
)


def _sprint_file_with_component(tmp_path: Path, name: str) -> Path:
    example = (Path(__file__).resolve().parents[2] / "sprint.example.toml").read_text("utf-8")
    path = tmp_path / "sprint.toml"
    path.write_text(example.replace('"Memory Management"', json.dumps(name)), encoding="utf-8")
    return path


@pytest.mark.usefixtures("clean_env")
def test_config_check_refuses_a_component_name_longer_than_the_forms_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A component name over 150 characters would keep `/blocker` and `/standup` from
    opening a form for anyone all sprint long (an option's value holds 150 characters);
    over 75 it is cut in their lists. `sprintbot config check` refuses it, naming the key."""
    assert len(LONG_COMPONENT) > 150
    path = _sprint_file_with_component(tmp_path, LONG_COMPONENT)
    assert main(["config", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}: 1 error",
        f"  components[1].name: {len(LONG_COMPONENT)} characters; keep a component's name to "
        "75, what Slack shows of it in the blocker and standup forms",
    ]


def test_the_forms_open_with_the_longest_component_name(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A component name as long as the sprint file takes: `/blocker` and `/standup` open
    their forms, within Slack's limits, the name shown whole."""
    name = LONG_COMPONENT[:75]  # what Slack shows of an option in a list
    server = make_server(SPRINTBOT_CONFIG=str(_sprint_file_with_component(tmp_path, name)))
    at(server, T0)
    told = [
        slash(server.url, "/blocker", user_id="U0DEV").text,
        slash(server.url, "/standup", user_id="U0DEV").text,
    ]
    assert told == ["", ""], told  # no "Sorry, something went wrong on sprintbot's side"
    views = opened(server, 2)
    assert [slack_limits(v, view=True) for v in views] == [[], []]
    options = [
        o["text"]["text"]
        for v in views
        for b in v["blocks"]
        if b["type"] == "input"
        for o in b["element"].get("options") or []
    ]
    assert options.count(name) == 2, options


# -- bidi controls ---------------------------------------------------------------------------

_OPENERS = "\u202a\u202b\u202d\u202e\u2066\u2067\u2068"
_CLOSERS = "\u202c\u2069"


def _open_overrides(text: str) -> int:
    """Bidi embeddings, overrides and isolates left open at the end of `text`."""
    depth = 0
    for c in text:
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS and depth:
            depth -= 1
    return depth


def test_a_right_to_left_override_in_a_blocker_leaves_the_bots_text_alone(
    server: Server,
) -> None:
    """A blocker's description ending in U+202E RIGHT-TO-LEFT OVERRIDE (pasted from a
    terminal, or on purpose) is embedded mid-line in the daily report: "— {description}
    (23h, step 2)". Left open, it would draw the rest of the bot's line reversed, and what
    the description adds after it would read as the bot's."""
    at(server, T0)
    description = "Staging DB unreachable \u202e)dexif ,4 pets(  "
    answer = slash(
        server.url, "/blocker", f"P1 Memory Management: {description}", user_id="U0DEV"
    ).json()
    assert answer["text"].startswith(":no_entry: B-001 filed"), answer
    ok = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD").json()
    assert ok["text"].startswith("Posting today's daily report"), ok
    listeners_done()
    server.runtime.sender.drain()
    report = next(p for p in posts(server) if p.args.get("channel") == "#sprint-status")
    blocks = report.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    line = next(
        x
        for b in blocks
        if b["type"] == "section" and "text" in b
        for x in b["text"]["text"].split("\n")
        if "Staging DB" in x
    )
    before_bots_text = line[: line.rindex(" (")]
    assert _open_overrides(before_bots_text) == 0, ascii(line)


# -- lists that say what they leave out -----------------------------------------------------


def test_risk_list_never_drops_risks_silently(server: Server) -> None:
    """`/risk list` builds up to 40 rows, then cuts the whole answer at 3,000 characters
    (bot.blocks.risks.render_risk_matrix): with a dozen risks whose description and
    mitigation are a sentence or two, the answer ends in "…" part-way through a row, the
    later risks are missing, and the "…and N more." line (the one saying so) is cut too."""
    at(server, T0)
    for i in range(12):
        values = risk_values(
            description=f"Risk {i}: the LRU rewrite may slip past the week-1 checkpoint " * 2,
            mitigation=f"Mitigation {i}: pair on eviction, keep the old cache behind a flag " * 2,
        )
        assert view_submit(server, "risk", "U0DEV", values, view_id=f"V{i}").text == ""
    listed = slash(server.url, "/risk", "list", user_id="U0DEV").json()["text"]
    missing = [f"R-{i:03d}" for i in range(1, 13) if f"*R-{i:03d}*" not in listed]
    assert missing == [] or "more" in listed.splitlines()[-1], (missing, listed[-300:])


def test_blocker_list_never_drops_blockers_silently(server: Server) -> None:
    """`/blocker list` promises up to 40 open blockers and "…and N more." past them, but
    cuts the answer at 3,000 characters (bot.blocks.blockers.render_blocker_list): with 20
    open blockers described in a sentence each, the later ones are missing without a word."""
    at(server, T0)
    for i in range(20):
        text = f"P1 Memory Management: eviction stalls the swarm under load, case {i} " * 3
        answer = slash(server.url, "/blocker", text, user_id="U0DEV").json()
        assert "filed" in answer["text"], answer
    listed = slash(server.url, "/blocker", "list", user_id="U0DEV").json()["text"]
    assert listed.startswith("*20 open blockers*"), listed[:100]
    missing = [f"B-{i:03d}" for i in range(1, 21) if f"*B-{i:03d}*" not in listed]
    assert missing == [] or "more" in listed.splitlines()[-1], (missing, listed[-200:])


# -- counts in the singular -----------------------------------------------------------------


@pytest.mark.usefixtures("quick_pace")
def test_daily_report_velocity_says_1_test_fixed(make_server: Any, tmp_path: Path) -> None:
    """Day 3's 9:00 report, one test fixed on day 2: "• Velocity: 1 test fixed yesterday",
    not "1 tests fixed"."""
    server, _ = hand_server(make_server, tmp_path)
    for when, run, statuses in RUNS[:2]:  # day 1 and day 2 (c3 fixed on day 2)
        send_run(server, when, run, statuses)
    at(server, local(3, 9))
    said = bot_clock.run_job(server.runtime, "daily-report")
    assert said == "daily-report: posted", said
    server.runtime.sender.drain()
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    text = text_of(report)
    assert "• Tests fixed: 1" in text, text
    assert "• Velocity: 1 test fixed yesterday" in text, text


def test_sprint_history_says_1_blocker_resolved(server: Server) -> None:
    """`/sprint history` (and App Home's "Past sprints") for a sprint in which one blocker
    was resolved: "1 blocker resolved", not "1 blockers resolved"."""
    resolved_on_day_2(server)
    at(server, datetime(2025, 11, 13, 15, tzinfo=UTC))
    text = blocks_text(slash(server.url, "/sprint", "history", user_id="U0DEV").json()["blocks"])
    assert " · 1 blocker resolved" in text, text


# -- long test ids in a regression alert (found by review) ----------------------------------

ROOT = Path(__file__).resolve().parents[2]
OWNERS = """
[[owners]]
tests = ["swarm.*"]
notify = ["U0SWARMLEAD", "S0SWARM"]
[[owners]]
tests = ["cli.*"]
notify = ["U0CLILEAD"]
"""


def _long_ids(length: int) -> list[tuple[str, str]]:
    """Nine swarm tests and one CLI test with parametrised ids `length` characters long."""
    long = "x" * length
    return [("swarm.test_topology", f"test_case_{i}[{long}]") for i in range(9)] + [
        ("cli.test_commands", f"test_cli[{long}]")
    ]


def _regress(server: Server, names: list[tuple[str, str]], message: str) -> dict[str, Any]:
    """Two reports, the second failing every test: the regression alert as posted."""
    at(server, T0)
    assert (
        send_report(server, junit_cases([(c, n, None) for c, n in names]), run="ci-1").status_code
        == 201
    )
    second = send_report(
        server, junit_cases([(c, n, message) for c, n in names]), run="ci-2", commit="bbb222"
    )
    assert second.status_code == 201 and len(second.json()["regressions"]) == len(names)
    server.runtime.sender.drain()
    alert = next(p for p in posts(server) if "regressed on main" in p.args.get("text", ""))
    assert slack_limits(alert.args) == []
    return alert.args


def test_every_owner_of_long_named_regressions_is_mentioned(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Ten regressed tests with 170-character ids: the owners' line named every test beside
    each owner and was cut at 2,900 characters, and the CLI lead, owner of the last one,
    was never mentioned (so never pinged). The tests are counted instead when their names
    do not fit; every owner is mentioned."""
    path = tmp_path / "sprint.toml"
    path.write_text((ROOT / "sprint.example.toml").read_text() + OWNERS)
    alert = _regress(make_server(SPRINTBOT_CONFIG=str(path)), _long_ids(150), "boom")
    owners = next(
        line for line in blocks_text(alert["blocks"]).splitlines() if line.startswith("*Owners:*")
    )
    assert owners == (
        "*Owners:* <@U0SWARMLEAD> (9 tests) · <!subteam^S0SWARM> (9 tests) · <@U0CLILEAD> (1 test)"
    )


def test_an_alert_names_every_test_sharing_a_cause_however_long_their_ids(server: Server) -> None:
    """Ten tests with 340-character ids failing alike: "*10 tests* fail with …" was cut
    at 2,900 characters, naming nine and dropping the failure's text, saying nothing."""
    names = _long_ids(320)
    alert = _regress(server, names, "AssertionError: expected ready")
    text = blocks_text(alert["blocks"])
    assert "*10 tests* fail with" in text
    assert [n for _, n in names if f"{n[:40]}" not in text] == []
    assert "```AssertionError: expected ready```" in text


# -- text from the sprint file -------------------------------------------------------------


@pytest.mark.usefixtures("quick_pace")
def test_a_benchmark_label_in_the_daily_report_is_shown_as_typed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A benchmark labelled `API <p95> throughput <!channel>` in the sprint file: the daily
    report's line was `… <!channel>: 1,200 req/s (target ≥ 1,000)` — the whole channel
    notified every morning, `<p95>` lost, and its target without the unit the performance
    alert and the tracker give it."""
    example = (Path(__file__).resolve().parents[2] / "sprint.example.toml").read_text("utf-8")
    path = tmp_path / "sprint.toml"
    label = "API <p95> throughput <!channel>"
    path.write_text(example.replace('"API Throughput"', json.dumps(label)), encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0 - timedelta(hours=3))
    resp = server_post_metrics(server, {"metrics": {"api_throughput": 1200}})
    assert resp.status_code == 201, resp.text
    at(server, T0)
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    [report] = [p for p in posts(server) if text_of(p).startswith("Daily report")]
    text = text_of(report)
    assert "<!channel>" not in text, text
    line = (
        ":white_check_mark: API &lt;p95&gt; throughput &lt;!channel&gt;: 1,200 req/s "
        "(target ≥ 1,000 req/s)"
    )
    assert line in text.splitlines(), text
    assert slack_limits(report.args) == []


def test_the_standup_form_says_how_many_blockers_it_cannot_offer(server: Server) -> None:
    """105 open blockers someone may resolve: "Blockers resolved" offered the first 100
    (Slack's limit for a menu) and said nothing of the five newest (found by review). It
    says how many more there are and how to resolve them."""
    at(server, T0)
    with server.runtime.db.session() as session:
        for i in range(105):
            session.add(
                Blocker(
                    component="Core",
                    description=f"flaky runner pool {i:03}",
                    severity="P2",
                    reported_by="U0DEV",
                    reported_at=T0 - timedelta(hours=24) + timedelta(minutes=i),
                )
            )
        session.commit()
    slash(server.url, "/standup", user_id="U0DEV")
    view = opened(server)[-1]
    [field] = [b for b in view["blocks"] if b.get("block_id") == "blockers_resolved"]
    assert len(field["element"]["options"]) == 100
    assert field["hint"]["text"] == (
        "5 more are not listed here (a menu holds 100): resolve them with `/blocker resolve ID`."
    )
    assert slack_limits({"blocks": view["blocks"]}) == []
