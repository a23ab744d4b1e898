"""A team's sprints one after another: each past (or the running) sprint's outcome, as its
own figures computed it at its end, for `/sprint history`, App Home, the review's "vs
previous sprint" and `GET /api/v1/sprints`."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from jobs import figures, milestones, review
from jobs.config import Sprint, Team, sprint_to_serve
from jobs.messages import Spec, Template
from jobs.teams import Teams
from storage import queries
from storage.db import Database
from storage.models import SprintRow
from storage.scope import Scope

log = logging.getLogger(__name__)

LISTED = 10  # past sprints a message shows (newest first); the API lists them all
HOME_LISTED = 5  # on App Home


class SprintOutcome(review.PreviousSprint):
    """How one sprint went, as of its last day's end (or now, while it runs)."""

    start: str
    end: str
    days: int
    status: str  # figures.Phase: "running" or "ended"
    readiness_start: float | None  # the measured baseline readiness
    median_resolution_hours: float | None
    goals_met: int
    goals: int


class SprintHistory(TypedDict):
    """`/sprint history` (Template.SPRINT_HISTORY): the team's sprints, newest first."""

    team: str | None
    sprints: list[SprintOutcome]
    upcoming: str | None  # "Phase 6 — starts on 2025-11-26", when one is planned
    total: int


SPRINT_HISTORY: Spec[SprintHistory] = Spec(Template.SPRINT_HISTORY)

ScopeOf = Callable[[Sprint], Scope | None]


def end_instant(sprint: Sprint) -> datetime:
    """When the sprint ended (`figures.end_instant`)."""
    return figures.end_instant(sprint.sprint)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def median_hours(resolutions: list[queries.Resolution]) -> float | None:
    """The median time from report to resolution, in hours (None: none resolved)."""
    took = [(r.at - r.blocker.reported_at).total_seconds() / 3600 for r in resolutions]
    return round(statistics.median(took), 2) if took else None


def outcome_of(
    *, session: Session, sprint: Sprint, now: datetime, fig: figures.Figures | None = None
) -> SprintOutcome:
    """One sprint's outcome from a session scoped to it (`Database.scoped`); `fig`: its
    figures as of `now`, where the caller keeps them ready."""
    return _measured(session=session, sprint=sprint, now=now, fig=fig)[0]


def _measured(
    *, session: Session, sprint: Sprint, now: datetime, fig: figures.Figures | None = None
) -> tuple[SprintOutcome, figures.Figures]:
    """One sprint's outcome, and the figures it is drawn from (as of its end once it
    ended, else `now`; `fig`: those figures, where the caller has them)."""
    at = figures.final_at(sprint.sprint, now)
    m = milestones.measure(session=session, sprint=sprint, now=at, fig=fig)
    fig, t = m.figures, m.figures.tests
    resolved = review.resolved_in(session=session, sprint=sprint, at=at)
    goals = review.goals(sprint, m)
    info = sprint.sprint
    outcome: SprintOutcome = {
        "name": info.name,
        "start": info.start.isoformat(),
        "end": info.end.isoformat(),
        "days": info.days,
        "status": str(figures.phase(info, now)),
        "readiness_start": _r(fig.baseline_measured),
        "readiness_end": _r(fig.score),
        # (None without a test known: it measured none, as its review said; found by review.)
        "tests_fixed": t.fixed if t.known else None,
        "regressions_introduced": t.regressions_introduced if t.known else None,
        "blockers_resolved": len(resolved),
        "median_resolution_hours": median_hours(resolved),
        "goals_met": sum(1 for g in goals if g["met"]),
        "goals": len(goals),
    }
    return outcome, fig


def started_at(sprint: Sprint, now: datetime) -> bool:
    """Whether the sprint's first day has begun by `now`."""
    return figures.phase(sprint.sprint, now) is not figures.Phase.BEFORE


def ended(sprint: Sprint, now: datetime) -> bool:
    """Whether the sprint's last day is over at `now` (its outcome is final)."""
    return figures.phase(sprint.sprint, now) is figures.Phase.ENDED


def sprint_outcome(
    db: Database,
    scope: Scope | None,
    sprint: Sprint,
    now: datetime,
    fig: figures.Figures | None = None,
) -> SprintOutcome:
    """One sprint's outcome, read from the rows of `scope` (its team's sprint). An ended
    sprint's is computed once, the first time it is asked for after the sprint ended, and
    kept on its sprint row with its final figures (`final_figures`): read back afterwards,
    whatever the retention job pruned since (and cheap for `/sprint history` and App
    Home). A running sprint's is drawn from `fig`, its figures as of `now` kept ready,
    where the caller has them (`Ready.figures`): built again from its history, a 20k-test
    suite made every `/sprint history` a cold build (found by review)."""
    row_id = _kept_row(scope, sprint, now)
    if row_id is None:
        with db.scoped(scope).read() as session:
            return outcome_of(session=session, sprint=sprint, now=now, fig=fig)
    return _ended(db, scope, row_id, sprint, now)[0]


def final_figures(
    db: Database, scope: Scope | None, sprint: Sprint, now: datetime
) -> dict[str, Any]:
    """A sprint's figures (`Figures.as_dict`) as of its end once it ended, else as of now:
    an ended sprint's kept on its row with its outcome (`sprint_outcome`)."""
    row_id = _kept_row(scope, sprint, now)
    if row_id is None:
        return _figures(db, scope, sprint, now)
    return _ended(db, scope, row_id, sprint, now)[1]


def _kept_row(scope: Scope | None, sprint: Sprint, now: datetime) -> int | None:
    """The sprint row its outcome and figures are kept on once it ended (None: not kept,
    a sprint not ended yet or a database without sprints)."""
    if scope is None or scope.sprint_id is None or not ended(sprint, now):
        return None
    return scope.sprint_id


def _figures(db: Database, scope: Scope | None, sprint: Sprint, now: datetime) -> dict[str, Any]:
    with db.scoped(scope).read() as session:
        return figures.compute(
            session=session, sprint=sprint, at=figures.final_at(sprint.sprint, now)
        ).as_dict()


def _ended(
    db: Database, scope: Scope | None, row_id: int, sprint: Sprint, now: datetime
) -> tuple[SprintOutcome, dict[str, Any]]:
    """An ended sprint's outcome and figures: as kept on its row, else computed and kept."""
    with db.read() as session:
        row = session.get(SprintRow, row_id)
        kept, kept_figures = (row.outcome, row.figures) if row is not None else (None, None)
    if kept is not None and _for(kept, sprint):
        # The numbers as kept; the name (and its status, ended) as the file says today.
        outcome = cast(SprintOutcome, {**kept, "name": sprint.sprint.name, "status": "ended"})
        if kept_figures is None:  # kept before its figures were: from what history is left
            return outcome, _figures(db, scope, sprint, now)
        info = kept_figures["sprint"]
        return outcome, {**kept_figures, "sprint": {**info, "name": sprint.sprint.name}}
    with db.scoped(scope).read() as session:
        out, fig = _measured(session=session, sprint=sprint, now=now)
    final = fig.as_dict()
    _keep(db, row_id, out, final)
    return out, final


def _for(kept: dict[str, Any], sprint: Sprint) -> bool:
    """Whether an outcome kept on a sprint row is that of the sprint's dates (a corrected
    start or length makes it another's)."""
    info = sprint.sprint
    return kept.get("start") == info.start.isoformat() and kept.get("end") == info.end.isoformat()


def _keep(db: Database, sprint_id: int, out: SprintOutcome, final: dict[str, Any]) -> None:
    """Keep an ended sprint's outcome and final figures on its row (two processes computing
    them at once compute the same). A failure to write is logged; they are computed again
    next time."""
    try:
        with db.session() as session:
            row = session.get(SprintRow, sprint_id)
            if row is not None:
                row.outcome, row.figures = dict(out), final
                session.add(row)
                session.commit()
    except SQLAlchemyError:
        log.exception("history: could not keep the outcome of sprint row %s", sprint_id)


def freeze(db: Database, team: Team | None, sprint: Sprint, now: datetime) -> int:
    """Keep the outcome of each of the team's ended sprints not kept yet (`db`: scoped to
    one of the team's sprints, as a job's is); how many were ended. The retention job runs
    it before pruning, so that what it prunes never changes an ended sprint's outcome."""
    scope_of = scopes(db)
    done = [s for s in team_sprints(team, sprint) if ended(s, now)]
    for s in done:
        sprint_outcome(db, scope_of(s), s, now)
    return len(done)


def outcomes_by(db: Database, scope_of: ScopeOf, team: Team, now: datetime) -> list[SprintOutcome]:
    """One outcome per past (ended) or running sprint of the team, oldest first."""
    return [sprint_outcome(db, scope_of(s), s, now) for s in team.sprints if started_at(s, now)]


def outcomes(db: Database, teams: Teams, team: Team, now: datetime) -> list[SprintOutcome]:
    """One outcome per past (ended) or running sprint of `team`, oldest first (`db`: the
    database of every team, `teams` knows each sprint's rows)."""
    return outcomes_by(db, lambda s: teams.scope(team, s), team, now)


# -- from a listener's or an API call's context: a database scoped to one of its team's
# sprints, the team (None for a context built without teams) and its served sprint --------


def scopes(db: Database) -> ScopeOf:
    """The scopes of the sprints of the team `db` is scoped to, from its sprint rows (a
    database without a scope, as built without teams, serves one sprint: unscoped)."""
    scope = db.scope
    if scope is None:
        return lambda _sprint: None
    with db.read() as session:
        ids: dict[date | None, int] = {
            r.start: int(r.id or 0)
            for r in queries.sprint_rows(session=session, team_id=scope.team_id)
        }
    return lambda sprint: Scope(team_id=scope.team_id, sprint_id=ids[sprint.sprint.start])


def sprint_db(db: Database, sprint: Sprint) -> Database:
    """`db` (scoped to one of a team's sprints) seen as the team's `sprint`."""
    return db.scoped(scopes(db)(sprint))


def team_sprints(team: Team | None, sprint: Sprint) -> list[Sprint]:
    """A context's team's sprints (its served sprint alone for a context without a team)."""
    return list(team.sprints) if team is not None else [sprint]


def previous(
    db: Database, team: Team | None, sprint: Sprint, now: datetime
) -> SprintOutcome | None:
    """The outcome of the team's sprint before `sprint` (None: it is the first)."""
    before = [s for s in team_sprints(team, sprint) if s.sprint.start < sprint.sprint.start]
    if not before:
        return None
    return sprint_outcome(db, scopes(db)(before[-1]), before[-1], now)


def past(db: Database, team: Team | None, sprint: Sprint, now: datetime) -> list[SprintOutcome]:
    """App Home's "Past sprints": the team's newest HOME_LISTED ended sprints, newest first
    (`past_total`: how many ended)."""
    done = [s for s in team_sprints(team, sprint) if ended(s, now)]
    scope_of = scopes(db)
    return [sprint_outcome(db, scope_of(s), s, now) for s in reversed(done[-HOME_LISTED:])]


def past_total(team: Team | None, sprint: Sprint, now: datetime) -> int:
    """How many of the team's sprints have ended (App Home lists the newest of them)."""
    return sum(1 for s in team_sprints(team, sprint) if ended(s, now))


def _served(
    sprint: Sprint, served: Sprint, now: datetime, fig: figures.Figures | None
) -> figures.Figures | None:
    """`fig` (the served sprint's figures as of `now`, kept ready) where `sprint` is the
    one served and still running (an ended one's are as of its end)."""
    if sprint.sprint.start != served.sprint.start or ended(sprint, now):
        return None
    return fig


def sprint_history(
    db: Database,
    team: Team | None,
    sprint: Sprint,
    now: datetime,
    fig: figures.Figures | None = None,
) -> SprintHistory:
    """`/sprint history`: the newest sprints' outcomes first, and the next one planned
    (`fig`: the served sprint's figures as of `now`, kept ready)."""
    sprints = team_sprints(team, sprint)
    begun = [s for s in sprints if started_at(s, now)]
    scope_of = scopes(db)
    # Only the sprints shown are computed: the command is answered within Slack's 3 s.
    shown = [
        sprint_outcome(db, scope_of(s), s, now, _served(s, sprint, now, fig))
        for s in reversed(begun[-LISTED:])
    ]
    nxt = next((s for s in sprints if not started_at(s, now)), None)
    return {
        "team": team.name if team is not None else None,
        "sprints": shown,
        "upcoming": (
            f"{nxt.sprint.name} — starts on {nxt.sprint.start.isoformat()}" if nxt else None
        ),
        "total": len(begun),
    }


def listing(
    db: Database,
    team: Team | None,
    sprint: Sprint,
    now: datetime,
    fig: figures.Figures | None = None,
) -> list[dict[str, Any]]:
    """`GET /api/v1/sprints`: every sprint of the team, in order, with its status and its
    outcome once it has begun (None before); `fig` as for `sprint_history`."""
    out = []
    scope_of = scopes(db)
    for s in team_sprints(team, sprint):
        info = s.sprint
        out.append(
            {
                "name": info.name,
                "goal": info.goal,
                "start": info.start.isoformat(),
                "end": info.end.isoformat(),
                "days": info.days,
                "status": str(figures.phase(info, now)),
                "outcome": (
                    sprint_outcome(db, scope_of(s), s, now, _served(s, sprint, now, fig))
                    if started_at(s, now)
                    else None
                ),
            }
        )
    return out


def find(team: Team | None, sprint: Sprint, word: str) -> Sprint | None:
    """The sprint of a context's team a word names: its name (any case) or its start date."""
    w = word.strip().lower()
    return next(
        (
            s
            for s in team_sprints(team, sprint)
            if w in (s.sprint.name.strip().lower(), s.sprint.start.isoformat())
        ),
        None,
    )


def served_at(team: Team, current: Sprint, at: datetime) -> Sprint:
    """The team's sprint served at `at`, as the servers would have picked it then
    (`sprint_to_serve`; the context's own where it is that one): `GET /api/v1/sprint?at=`
    of an instant of the sprint before answered the running one, "before" it began (found
    by review), while `export tracker --at` gave the sprint of that instant."""
    then = sprint_to_serve(team, now=at)
    return current if then.sprint.start == current.sprint.start else then
