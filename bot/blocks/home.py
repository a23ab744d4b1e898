"""The App Home tab: the live dashboard (jobs.reports.home)."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock, ImageBlock

from bot.blocks.common import (
    NAME_CHARS,
    Message,
    as_queued,
    code,
    context,
    esc,
    line,
    link,
    message,
    more,
    named,
    run_counts,
    sections,
    short,
    team_value,
)
from bot.blocks.history import past_lines
from bot.blocks.reports import blocker_lines, burndown_line, day_text, headline, tests_line, why
from bot.ids import Action
from jobs.numbers import pct, reached
from jobs.reports import AppHome, GroupScoreRow, LastRun


def _at_target(x: GroupScoreRow) -> str:
    met = reached(x["score"], x["target"])
    return ":white_check_mark:" if met else ":small_orange_diamond:"


# Buttons an actions block holds (Slack's limit).
ACTIONS = 25

# What a user's own standup state says on their Home.
MINE = {
    "answered": "you have answered",
    "late": "you have answered",
    "away": "you are away",
    "missing": "yours is still due — `/standup`",
    "none today": "none today",
}
UNKNOWN = "Slack could not say who takes part just now"


def _risk_lines(d: AppHome) -> list[str]:
    if not d["risks"]:
        return ["*Open risks*: none open"]
    return (
        ["*Open risks*"]
        + [
            f"• *{x['code']}* {x['status']} ({x['impact']} impact, {x['probability']} "
            f"probability) — {line(x['description'], 600)}"
            for x in d["risks"]
        ]
        + more(len(d["risks"]), d.get("risk_open_count", 0), "`/risk list` shows them all")
    )


def _last_run_line(run: LastRun | None) -> str:
    if not run:
        return "*Last CI run*: none yet"
    parts = [
        f"*Last CI run* {code(run['run'], NAME_CHARS)} at {as_queued(run['at'])}",
        run_counts(run),
    ]
    if run["commit"]:
        parts.append(f"commit {code(run['commit'][:12])}")
    if run.get("url"):
        parts.append(link(run["url"], "CI run"))
    return " · ".join(parts)


def app_home(d: AppHome) -> Message:
    """The live dashboard (the seed's Key Metrics Dashboard), within a Home tab's 100 blocks."""
    title = named(d["name"], f" — {day_text(d)}")
    blocks: list[Block] = [HeaderBlock(text=title), headline(d), *why(d)]
    blocks += sections(
        ["*Breakdown by group*"]
        + [
            f"{_at_target(g)} {esc(g['name'], NAME_CHARS)} ({g['weight']:g}) — "
            f"{pct(g['score'])} of {pct(g['target'])}"
            for g in d["groups"]
        ]
    )
    blocks += sections(
        [burndown_line(d)] + ([tests_line(d)] if "target_failing" in d["tests"] else [])
    )
    if d.get("chart_file"):
        blocks.append(
            ImageBlock(
                slack_file={"id": d["chart_file"]},
                alt_text="Burn-down: failing tests per day against the plan",
            )
        )
    blocks += sections(blocker_lines(d))
    blocks += sections(_risk_lines(d))
    s = d["standups"]
    mine = MINE.get(s["mine"], "you are not a participant")
    if s.get("unknown"):  # who takes part: Slack did not say
        answered = s["mine"] in ("answered", "late")
        blocks += sections([f"*Today's standups*: {UNKNOWN}{'; ' + mine if answered else ''}"])
    elif s["mine"] == "none today":  # not a workday of the sprint, or no sprint running
        blocks += sections([f"*Today's standups*: {mine}"])
    else:
        blocks += sections([f"*Today's standups*: {s['answered']} of {s['expected']}; {mine}"])
    blocks += sections([_last_run_line(d["last_run"])])
    if past := d.get("past_sprints"):
        total = max(d.get("past_total", 0), len(past))
        blocks += sections(["*Past sprints*", *past_lines(past, total)])
    if others := d.get("other_teams"):
        # A button for each (five were shown: someone in seven teams could not reach the
        # seventh's), as many as an actions block holds, and then how many more.
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=short(f"Show {t['name']}", 75),
                        action_id=f"{Action.HOME_TEAM}:{t['id']}",
                        value=team_value("home", t["id"]),
                    )
                    for t in others[:ACTIONS]
                ]
            )
        )
        blocks += sections(more(ACTIONS, len(others), "`/sprint` in a team's channel shows it"))
    blocks.append(context(f"Updated {as_queued(d['at'])}"))
    return message(esc(title), blocks)
