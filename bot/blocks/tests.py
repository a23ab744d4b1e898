"""`/tests`: one test's history, the matches of a search, the slowest tests."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, tzinfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from bot.blocks.common import (
    Message,
    as_queued,
    code,
    code_block,
    context,
    esc,
    line,
    link,
    local_time,
    mention,
    mentions,
    message,
    more,
    plural,
    section,
    sections,
    short,
)
from bot.ids import Action
from jobs.messages import visible
from jobs.quarantine import BY_SPRINTBOT, FlakyFound, Listed, QuarantineChange, ShownTest
from jobs.tests_history import MATCHES, HistoryData, SinceData, SlowData
from storage.models import KnownTest

TESTS_USAGE = (
    "Usage: `/tests show ID-or-name` shows a test's history (its status in each report, "
    "with commits and CI links, its current streak, flips and durations); part of a name "
    "lists the tests that match. `/tests slow` lists the slowest tests. "
    "`/tests quarantine ID-or-name [for 7d] [because …]` sets a flaky test apart (its "
    "failures never alert), `/tests unquarantine ID-or-name` lets it back, "
    "`/tests quarantined` lists those set apart."
)

DURATIONS_SHOWN = 10  # the newest timed runs whose durations `/tests show` lists

_ICON = {
    "passed": ":white_check_mark:",
    "failed": ":x:",
    "error": ":boom:",
    "skipped": ":double_vertical_bar:",
    "flaky": ":warning:",
}


def seconds(value: float) -> str:
    """A duration for people: `850 ms`, `4.2 s`, `3 min 5 s`."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def _when(at: str, tz: tzinfo) -> str:
    return local_time(datetime.fromisoformat(at), tz)


def _commit(commit: str | None) -> str:
    return code(commit[:10]) if commit else "no commit"


def _since(since: SinceData, tz: tzinfo) -> str:
    return (
        f"{_when(since['at'], tz)} ({_commit(since['commit'])}, "
        f"{link(since['url'], 'CI run') if since['url'] else 'no CI link'})"
    )


def _who(by: str) -> str:
    return "sprintbot" if by == BY_SPRINTBOT else mention(by)


def render_history(h: HistoryData, *, tz: tzinfo) -> Message:
    """The test's history, for the one who asked."""
    title = visible(f"{h['classname']}::{h['name']}")  # (a header: shown as code is)
    status = h["status"]
    lines = [
        f"{_ICON.get(status, '')} *{esc(status)}* now on {code(h['branch'])} · test id {h['id']}"
        + (f" · component *{esc(h['component'])}*" if h["component"] else "")
        + (f" · file {code(h['file'], 300)}" if h["file"] else "")
    ]
    if h["first_failure"] is not None:
        lines.append(f"*First failure of this streak:* {_since(h['first_failure'], tz)}")
    elif h["since"] is not None:
        lines.append(f"*{esc(status.capitalize())} since:* {_since(h['since'], tz)}")
    lines.append(f"*Flips* (passing ⇄ failing, over the stored history): {h['flips']}")
    if h["owners"] is not None:
        lines.append(f"*Owners:* {mentions(h['owners']) or 'none matches this test'}")
    held = h["quarantine"]
    if held is not None:
        lines.append(
            f"*Quarantined* by {_who(held['by'])} {_when(held['since'], tz)} until "
            f"{_when(held['until'], tz)}: {line(held['reason'], 300)} · passed "
            f"{plural(held['passes'], 'run')} in a row since · its failures never alert."
        )
    if h["flaky"] is not None:
        lines.append(
            f"*Found flaky* {_when(h['flaky']['at'], tz)}: {esc(h['flaky']['why'] or '', 200)}"
        )
    if h["message"] and status in ("failed", "error"):
        lines.append(f"*Failure:* {code_block(h['message'], 600)}")
    if h["durations"]:
        # The median of the runs shown: the API's `median_duration` is of all it lists.
        shown = h["durations"][-DURATIONS_SHOWN:]
        trend = " → ".join(seconds(d) for d in shown)
        lines.append(
            f"*Duration* (last {plural(len(shown), 'run')}): {trend} · "
            f"median {seconds(statistics.median(shown))}"
        )
    else:
        lines.append("*Duration:* no report timed it (JUnit `time`).")
    timeline = [f"*Timeline* (newest last, {plural(len(h['runs']), 'report')}):"]
    for run in h["runs"]:
        duration = f" · {seconds(run['duration'])}" if run["duration"] is not None else ""
        timeline.append(
            f"{_ICON.get(run['status'], '')} {esc(run['status'])} · {_when(run['at'], tz)} · "
            f"{_commit(run['commit'])} · {link(run['url'], run['run'] or 'CI run', limit=400)}"
            f"{duration}"
        )
    if not h["runs"]:
        timeline.append("_No stored report holds it any more (`[retention]` keeps them)._")
    blocks: list[Block] = [
        HeaderBlock(text=short(title, 150)),
        *sections(lines),
        *sections(timeline),
    ]
    return message(f"{esc(title)}: {esc(status)}", blocks)


def render_matches(text: str, tests: Sequence[KnownTest]) -> Message:
    """Several tests match: their ids, to ask again with one."""
    shown = tests[:MATCHES]
    head = (
        f"{plural(len(shown), 'test')}{' (and more)' if len(tests) > MATCHES else ''} "
        f'match "{esc(text, 200)}"; `/tests show ID` shows one:'
    )
    lines = [head] + [
        f"• {t.id} · {_ICON.get(str(t.status), '')} {code(f'{t.classname}::{t.name}', 700)}"
        for t in shown
    ]
    if len(tests) > MATCHES:
        lines.append("_Give more of the name to narrow it down._")
    return message(head, [*sections(lines)])


def render_slow(tests: Sequence[SlowData], *, branch: str) -> Message:
    """The slowest tests by their latest duration."""
    if not tests:
        text = (
            f"No report on {code(branch)} timed its tests yet: durations come from the "
            "JUnit `time` of each testcase."
        )
        return message(text, [*sections([text])])
    head = f"*Slowest tests on {code(branch)}* (their latest duration):"
    lines = [head] + [
        f"{i}. {seconds(t['duration'])} · {code(t['classname'] + '::' + t['name'], 700)}"
        + (f" · id {t['id']}" if t["id"] is not None else "")
        for i, t in enumerate(tests, 1)
    ]
    return message(
        f"Slowest tests on {esc(branch)}",
        [*sections(lines), context("`/tests show ID` shows one test's history.")],
    )


# -- quarantine ----------------------------------------------------------------------------

# A button's value holds at most 2,000 characters: the tests a Quarantine button names.
_BUTTON_VALUE = 2000


def _named(tests: Sequence[ShownTest], count: int) -> list[str]:
    lines = [
        f"• {code(t['name'], 300)} (id {t['id']})"
        + (f" — {line(t['why'], 200)}" if t.get("why") else "")
        for t in tests
    ]
    if count > len(tests):
        lines.append(f"…and {plural(count - len(tests), 'more test')}.")
    return lines


def _owners_line(owners: Sequence[str]) -> list[str]:
    return [f"Owners: {mentions(list(owners), sep=' ')}."] if owners else []


def quarantine_change(d: QuarantineChange) -> Message:
    """Tests put in or let out of quarantine, said to the team (or in an alert's thread)."""
    count = d["count"]
    who = _who(d["by"])
    if d["action"] == "released":
        head = (
            f":sunrise: {plural(count, 'test')} left quarantine ({line(d['reason'], 200)}): "
            "their failures alert again."
        )
    else:
        # Queued on the team's clock (`quarantine.quarantine`): shown as it was queued.
        until = as_queued(d.get("until") or "")
        verb = {
            "quarantined": "quarantined",
            "moved": "moved the end of the quarantine of",
        }.get(d["action"], "extended the quarantine of")
        head = (
            f":mute: {who} {verb} {plural(count, 'test')} until {until} "
            f"({line(d['reason'], 200)}): their failures are reported apart and never alert."
        )
    lines = [head, *_named(d["tests"], count), *_owners_line(d["owners"])]
    return message(head, list(sections(lines)))


def flaky_found(d: FlakyFound) -> Message:
    """Tests found flaky (not quarantined): their failures did not alert; one button
    quarantines them."""
    count = d["count"]
    head = f":warning: {plural(count, 'test')} found flaky: reported apart, not as regressions."
    lines = [head, *_named(d["tests"], count), *_owners_line(d["owners"])]
    ids = ",".join(map(str, d["test_ids"]))
    if len(ids) > _BUTTON_VALUE:  # every id, or the report whose notice holds them
        report = d.get("report")
        ids = f"report:{report}" if report is not None else ids[: ids.rfind(",", 0, _BUTTON_VALUE)]
    button = ButtonElement(
        text=f"Quarantine for {d['quarantine_for']}",
        action_id=Action.FLAKY_QUARANTINE,
        value=ids,
    )
    return message(head, [*sections(lines), ActionsBlock(elements=[button])])


def render_quarantined(rows: Sequence[Listed], *, branch: str, tz: tzinfo) -> Message:
    """`/tests quarantined`: the tracked branch's quarantined tests."""
    if not rows:
        text = f"No test on {code(branch)} is in quarantine."
        return message(text, [section(text)])
    head = f"*{plural(len(rows), 'test')} in quarantine on {code(branch)}:*"
    lines = [head] + [
        f"• {code(r['classname'] + '::' + r['name'], 300)} (id {r['id']}) — "
        f"{line(r['reason'], 200)}; by {_who(r['by'])} {_when(r['since'], tz)}, until "
        f"{_when(r['until'], tz)}; passed {plural(r['passes'], 'run')} in a row"
        + (f"; owners {mentions(r['owners'], sep=' ')}" if r["owners"] else "")
        for r in rows[: MATCHES * 5]
    ]
    lines += more(min(len(rows), MATCHES * 5), len(rows), "`GET /api/v1/quarantine`")
    return message(head, list(sections(lines)))
