"""The burn-down chart as a PNG (matplotlib, headless)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def burndown_png(data: Mapping[str, Any]) -> bytes:
    """Actual failing tests per day against the plan, with the target line."""
    points = data["burndown"]
    days = [p["day"] for p in points]
    planned = [p["planned"] for p in points]
    actual = [(p["day"], p["failing"]) for p in points if p["failing"] is not None]
    # The target failing (the Definitions' one target of the burn-down), which a stated
    # plan's last day need not reach; a chart queued before it was in the data: the plan's.
    tests = data.get("tests") or {}
    target = tests["target_failing"] if tests.get("known") else planned[-1]
    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.add_subplot()
    ax.plot(days, planned, linestyle="--", color="#888888", label="Plan")
    if actual:
        ax.plot(
            [d for d, _ in actual],
            [f for _, f in actual],
            marker="o",
            color="#d9534f",
            label="Failing tests (end of day)",
        )
    ax.axhline(target, color="#5cb85c", linewidth=1, label=f"Target ({target})")
    # Placed (y=1, where it lands with nothing drawn above the plot), not positioned by
    # measuring the axes on every draw: a seventh of the chart's time, the same pixels.
    # The name as typed: mathtext drew "$40k to $25k" as TeX, and "$__init__$" failed the
    # chart for good (found by review).
    ax.set_title(
        f"{data['name']} — burn-down, day {data['day']} of {data['days']}", y=1.0, parse_math=False
    )
    ax.set_xlabel("Sprint day")
    ax.set_ylabel("Failing tests")
    ax.set_xticks(days)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    # Margins set, not measured (tight_layout draws the chart twice): the left one fits
    # the y axis's longest tick label and its title. Counts of tests: whole ticks only.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Counts in full, never as an offset or a multiplier ("1e6" above the axis, where a
    # long title would cover it): the plot's title is placed, not measured (below).
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    counts = [*planned, target, *(f for _, f in actual)]
    if max(counts) == min(counts):  # one value (none failing): a whole test's room around it
        ax.set_ylim(max(min(counts) - 1, 0), max(counts) + 1)
    ticks = list(ax.yaxis.get_major_locator().tick_values(*ax.get_ylim()))
    widest = max(map(len, ax.yaxis.get_major_formatter().format_ticks(ticks)), default=1)
    fig.subplots_adjust(left=0.05 + 0.011 * max(widest, 2), right=0.98, bottom=0.12, top=0.91)
    out = io.BytesIO()
    # The plotted series travel in the PNG's text chunks, so a reader (or a test) can
    # check what the picture shows.
    series = {
        "failing": {str(d): f for d, f in actual},
        "planned": {str(d): p for d, p in zip(days, planned, strict=True)},
        "target": target,
    }
    fig.savefig(
        out,
        format="png",
        metadata={"Title": ax.get_title(), "Description": json.dumps(series, sort_keys=True)},
    )
    return out.getvalue()
