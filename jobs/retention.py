"""The daily `retention` job: bound raw history by the sprint file's `[retention]`.

What goes, oldest first: each report's packed statuses (a full copy per run) after
`statuses_days`; status changes, reports nothing refers to and readiness snapshots after
`results_days`; benchmark samples after `metrics_days` (each metric's latest before the
horizon stays, and its first); standups after `standups_days`; what delivered outbox
messages said after `outbox_days` (their keys stay: none is sent twice). Nothing from
`margin_days` (at least a day) before the sprint's start on is touched, and the figures
fold a test's deleted changes into its state (its latest status and first sighting stay
in known_test), so every figure as of an instant whose previous local day began after the
horizon — the current sprint's all — stays exactly the same; `?at=` earlier than that is
refused (`kept_from`), and so is `?at=` in a past sprint whose start is past the horizon
(its figures read its history from its start).

Each batch is its own transaction, so the job never holds SQLite's write lock for long;
a step that fails is logged and the next one still runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from jobs import figures, history, numbers
from jobs.config import Retention, Sprint, Team
from jobs.review import REVIEW_KEY
from storage import retention as store
from storage.db import Database

log = logging.getLogger(__name__)

BATCH = 5000  # rows per transaction


@dataclass(frozen=True)
class Horizons:
    """Before these instants (dates for standups) raw history may go."""

    statuses: datetime
    results: datetime
    metrics: datetime
    standups: date
    outbox: datetime
    margin: datetime  # the start of the sprint's day 1 less the margin: none is later


def horizons(*, sprint: Sprint, policy: Retention, now: datetime) -> Horizons:
    """Each horizon: `now` minus its days, but never later than the sprint's start minus the
    margin (the margin is at least a day: the figures of day 1 compare with the day before)."""
    info = sprint.sprint
    first_kept = info.start - timedelta(days=max(policy.margin_days, 1))  # a local date
    keep_from = figures.day_start(info, first_kept)  # (a day across a DST change: 23 or 25 h)

    def ago(days: int) -> datetime:
        return min(now - timedelta(days=days), keep_from)

    standups = min(numbers.local_date(info, now) - timedelta(days=policy.standups_days), first_kept)
    return Horizons(
        # The packed statuses serve the running sprint's test time, `/tests show`, the
        # same-commit flaky verdict and a run's shards counted once: kept from the margin
        # on as the results are.
        statuses=ago(policy.statuses_days),
        results=ago(policy.results_days),
        metrics=ago(policy.metrics_days),
        standups=standups,
        # Outbox payloads serve no figure either: their own days, sprint or not.
        outbox=now - timedelta(days=policy.outbox_days),
        margin=keep_from,
    )


def kept_from(*, sprint: Sprint, now: datetime) -> tuple[date, str] | None:
    """The first local date whose instants' figures what `[retention]` keeps as of `now`
    still gives exactly (figures as of an instant read from its previous local day on),
    with the key that bounds it; None without `[retention]`: all history is kept."""
    policy = sprint.retention
    if policy is None:
        return None
    h = horizons(sprint=sprint, policy=policy, now=now)
    horizon, key = max((h.results, "results_days"), (h.metrics, "metrics_days"))
    info = sprint.sprint
    if horizon == h.margin:
        key = "margin_days"
    day = numbers.local_date(info, horizon)
    if figures.day_start(info, day) < horizon:
        day += timedelta(days=1)  # the first local day that began after the horizon
    return day + timedelta(days=1), f"{key} = {getattr(policy, key)}"


def not_kept(*, current: Sprint, asked: Sprint, at: datetime, now: datetime) -> str | None:
    """Why `asked`'s figures as of `at` (before its end) cannot be given exactly from what
    `[retention]` (`current`'s, the sprint served now) keeps as of `now`; None if they can.
    A past sprint's figures read its history from its start, which retention keeps only for
    the running sprint: they are asked as of an instant of its first day."""
    kept = kept_from(sprint=current, now=now)
    if kept is None:
        return None
    asked_day = own = numbers.local_date(current.sprint, at)
    if asked.sprint.start != current.sprint.start:
        asked_day = min(asked_day, asked.sprint.start + timedelta(days=1))
    if asked_day >= kept[0]:
        return None
    return (
        f"figures as of {at.isoformat()} are not kept: [retention] {kept[1]} keeps them from "
        f"{kept[0]} on"
        + (
            f" (a past sprint's figures read its history from its start, {asked.sprint.start})"
            if own >= kept[0]
            else ""
        )
    )


NOT_KEPT = "nothing pruned: the ended sprints' outcomes could not be kept first"
STEP_FAILED = ": failed"  # after a step's name in the summary


def failed(summary: str) -> bool:
    """Whether a run's summary (`run_all`) says some of it failed: the clock's slot is then
    given back, to run again at its next look (a step's failure was reported as done)."""
    return summary == NOT_KEPT or f"{STEP_FAILED}," in f"{summary},"


def run_all(
    *,
    db: Database,
    sprint: Sprint,
    now: datetime,
    batch: int = BATCH,
    team: Team | None = None,
) -> str:
    """Prune what `[retention]` says may go as of `now`; a one-line summary. First the
    outcome of each of `team`'s ended sprints (of `sprint` alone without a team) is kept
    (`jobs.history.freeze`): pruning their raw history never changes them; if that
    fails nothing is pruned."""
    policy = sprint.retention
    try:
        history.freeze(db, team, sprint, now)
    except Exception:  # pruning now could change an ended sprint's outcome (logged in full)
        log.exception("retention: keeping the ended sprints' outcomes failed; nothing pruned")
        return NOT_KEPT
    if policy is None:  # (the outcomes kept all the same: an edited file changes none)
        return "no [retention] in the sprint file: all history is kept"
    h = horizons(sprint=sprint, policy=policy, now=now)
    steps: list[tuple[str, Callable[..., int], Any]] = [
        ("packed statuses", store.drop_statuses, h.statuses),
        ("status changes", store.delete_results, h.results),
        ("reports' lists of tests", store.shrink_reports, h.results),
        ("readiness snapshots", store.delete_snapshots, h.results),
        ("metric samples", store.delete_metric_samples, h.metrics),
        ("standups", store.delete_standups, h.standups),
        # A sprint review draft's data is read back when a lesson comes in to redraw it.
        ("delivered messages' contents", partial(store.empty_outbox, keep=[REVIEW_KEY]), h.outbox),
    ]
    done = []
    for what, step, before in steps:
        try:
            count = _batches(db, step, before=before, limit=batch)
        except Exception:  # one step's failure must not stop the others (logged in full)
            log.exception("retention: pruning %s failed; going on with the rest", what)
            done.append(f"{what}{STEP_FAILED}")
            continue
        if count:
            done.append(f"{count} {what} (before {before:%Y-%m-%d})")
    return "pruned " + (", ".join(done) if done else "nothing")


def _batches(db: Database, step: Callable[..., int], *, before: Any, limit: int) -> int:
    total = 0
    while True:
        with db.session() as session:
            count = step(session=session, before=before, limit=limit)
            session.commit()
        total += count
        if count < limit:
            return total
