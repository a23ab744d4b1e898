"""The clock: APScheduler running each scheduled job of one table (`JOBS`) for every team.

One clock serves the whole org. A team's job (most of them) is scheduled once per team, in
the team's zone at the team's [schedule] times, under the id `<team>:<job>` (`<job>` alone
in a one-team deployment, as before teams); at each run it takes the team's runtime of the
moment (`Runtime.for_team`), so the sprint is the one the team is served then: a team's
next sprint starts by itself, and between sprints its daily jobs post nothing. Each slot is
claimed once per team (job_run rows are the team's). An org job (`JobSpec.org`: the outbox)
runs once for every team."""

from __future__ import annotations

import contextlib
import logging
import threading
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import base as aps_base
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import logs
from bot.people import participants
from bot.runtime import Runtime
from jobs import blockers, figures, history, notices, quarantine, reports, retention, standups
from jobs.config import WEEKDAYS, Sprint, SprintInfo, Team, sprint_to_serve
from jobs.numbers import local_date, local_instant, sprint_day
from storage import queries
from storage.queries import monitoring

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AtSetting:
    """Daily at a time of the sprint file's [schedule], on workdays, or with `days` on the
    sprint days that [schedule] list names (workday or not)."""

    setting: str  # a time of [schedule], e.g. "daily_report"
    days: str | None = None  # a list of sprint days in [schedule], e.g. "weekly_report_days"
    # Also on the sprint's last day, workday or not: the daily report's then is the final
    # one (a sprint ending on a Sunday had none; found by review).
    last_day: bool = False

    def at(self, sprint: Sprint) -> time:
        at = getattr(sprint.schedule, self.setting)
        if not isinstance(at, time):  # a mistake in the table, not in a sprint file
            raise TypeError(f"schedule.{self.setting} is not a time of day")
        return at

    def describe(self) -> str:
        if self.days is None:
            return f"schedule.{self.setting} on workdays" + (
                " and the sprint's last day" if self.last_day else ""
            )
        return f"schedule.{self.setting} on schedule.{self.days} (workdays or not)"


@dataclass(frozen=True)
class AtLocal:
    """Daily at a fixed time of the sprint's zone, every day, sprint or not."""

    at: time

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M}, every day"


@dataclass(frozen=True)
class Every:
    """Every `seconds`, from the clock's start; `also` says what else runs it."""

    seconds: int
    also: str = ""

    def describe(self) -> str:
        return f"every {self.seconds} s" + (f", and {self.also}" if self.also else "")


Trigger = AtSetting | AtLocal | Every

# A job's work: (runtime, its own name, the clock's slot or None for `job run`) → the
# one-line summary. The name is passed in so that it is written once, in the table.
Run = Callable[[Runtime, str, str | None], str]


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: Trigger
    run: Run
    description: str
    # An org job runs once for every team (the outbox: one sender delivers every team's
    # rows). A team's job runs once per team with the team's runtime, zone and schedule —
    # retention too, for each team keeps its own [retention] for its own rows.
    org: bool = False

    @property
    def schedule(self) -> str:
        """When it runs, in words (`sprintbot job list`, the README's table)."""
        return self.trigger.describe()

    @property
    def slotted(self) -> bool:
        """Whether the clock runs it once per local date, claiming the (job, date) slot."""
        return not isinstance(self.trigger, Every)


# Each daily job's work queues its messages in the session it is given and says what it did.
Work = Callable[..., str]


def _daily_report(**kwargs: Any) -> str:
    return "posted" if reports.morning_report(**kwargs) else "already posted today"


def _past_sprints(runtime: Runtime) -> dict[str, Any]:
    """The team's ended sprints for the Homes the daily report refreshes: on a sprint's
    first morning the Homes last opened showed the sprint before, not this one's past; and
    the teams there are now, by id, for their buttons (a team's file deleted or renamed
    since kept its button or its old name; found by review)."""
    now = runtime.now()
    team, sprint = runtime.team, runtime.sprint
    return {
        "past": (
            history.past(runtime.db, team, sprint, now),
            history.past_total(team, sprint, now),
        ),
        "teams": {t.id: t.name for t in runtime.teams.all},
        **_posted_at(runtime),
    }


def _posted_at(runtime: Runtime) -> dict[str, Any]:
    """When a report goes out: the outbox's clock, the real one where it is run as of a
    day past (`sprintbot job run daily-report --at`)."""
    return {"posted_at": runtime.sender.now()}


def _counted(job: Callable[..., int], what: str) -> Work:
    return lambda **kwargs: f"{int(job(**kwargs))} {what}"


def daily(work: Work, *, read: Callable[[Runtime], dict[str, Any]] | None = None) -> Run:
    """A daily job's run: by hand only while the sprint runs; by the clock in its slot.
    `read`: more of what `work` is given, read before its transaction."""

    def run(runtime: Runtime, name: str, slot: str | None) -> str:
        if slot is None:
            outside = between_sprints(runtime.sprint.sprint, runtime.now())
            if outside:
                return f"{name}: {outside}; nothing posted"
        return run_daily(runtime, name, work, slot=slot, read=read)

    return run


# An interval job's step: queues its messages in the session it is given, says how many.
Step = Callable[..., int]


def interval(step: Step, what: str) -> Run:
    """An interval job's run: `step` in one transaction, then deliver what it queued."""

    def run(runtime: Runtime, name: str, _slot: str | None) -> str:
        with runtime.db.session() as session:
            count = step(session=session, sprint=runtime.sprint, now=runtime.now())
            session.commit()
        if count:
            log.info("%s: %d %s", name, count, what)  # one line for a run that did something
            deliver(runtime)
        return f"{name}: {count} {what}"

    return run


def _deliver(runtime: Runtime, name: str, _slot: str | None) -> str:
    done = runtime.sender.drain()
    if done.sent or done.retrying or done.failed:
        log.info("%s: %s", name, done)
    return f"{name}: {done}"


OUTBOX_INTERVAL_SECONDS = 15
FOLLOWUP_INTERVAL_SECONDS = 60
ESCALATION_INTERVAL_SECONDS = 300
QUARANTINE_INTERVAL_SECONDS = 300
RETENTION_AT = time(3, 30)  # local: before the morning's jobs, away from CI's busy hours

# Every job, in the order `job list` and the README show them, with the ids `sprintbot job
# run NAME` accepts.
JOBS = (
    JobSpec(
        "daily-report",
        AtSetting("daily_report", last_day=True),
        daily(_daily_report, read=_past_sprints),
        "post the daily report to channels.status, burn-down chart in its thread; refresh "
        "the App Home of who opened it this week",
    ),
    JobSpec(
        "weekly-report",
        AtSetting("daily_report", days="weekly_report_days"),
        daily(reports.post_weekly_report, read=_posted_at),
        "post the weekly report (dashboard, milestones, sign-offs, risks, forecast)",
    ),
    JobSpec(
        "blocker-escalation",
        Every(ESCALATION_INTERVAL_SECONDS),
        interval(blockers.escalate_due, "steps fired"),
        "move open blockers up the [[escalation]] path as their times pass",
    ),
    JobSpec(
        "standup-prompt",
        AtSetting("standup_prompt"),
        daily(_counted(standups.prompt, "prompts sent")),
        "DM each participant who is not away the button that opens the standup",
    ),
    JobSpec(
        "standup-reminder",
        AtSetting("standup_reminder"),
        daily(_counted(standups.remind, "reminders sent")),
        "DM those who have not answered and are not away",
    ),
    JobSpec(
        "standup-digest",
        AtSetting("standup_digest"),
        daily(_counted(standups.digest, "digest posted")),
        "update the day's standup message: who answered, who is missing, blockers",
    ),
    JobSpec(
        "alert-followup",
        Every(FOLLOWUP_INTERVAL_SECONDS),
        interval(notices.follow_up, "alerts followed up"),
        "re-ping unacknowledged regression/performance alerts and mention the tech lead",
    ),
    JobSpec(
        "quarantine-expiry",
        Every(QUARANTINE_INTERVAL_SECONDS),
        interval(quarantine.release_expired, "tests released"),
        "let quarantined tests whose time is up back, telling the team and their owners",
    ),
    JobSpec(
        "outbox",
        Every(OUTBOX_INTERVAL_SECONDS, also="at once after anything is queued by `web`"),
        _deliver,
        "deliver queued Slack messages and e-mails (retrying 429/5xx/network errors)",
        org=True,
    ),
    JobSpec(
        "retention",
        AtLocal(RETENTION_AT),
        lambda runtime, name, slot: prune(runtime, name=name, slot=slot),
        "delete raw history older than [retention] allows, never what the sprint's figures need",
    ),
)
BY_NAME = {j.name: j for j in JOBS}


def job_names() -> list[str]:
    return [j.name for j in JOBS]


def readme_table() -> str:
    """The README's table of jobs (tests/bot/test_clock.py keeps the README's copy equal)."""
    rows = [f"| `{j.name}` | {j.schedule} | {j.description} |" for j in JOBS]
    return "\n".join(["| Job | When | What it does |", "|---|---|---|", *rows])


def run_job(runtime: Runtime, name: str, *, team: Team | None = None) -> str:
    """Run one job now (`sprintbot job run`); return a one-line summary of what it did.

    A team's job runs for the team `runtime` serves (`runtime.sprint`, `runtime.db`): pass
    `team` to run it for that team instead (`runtime.for_team(team)`, its sprint served at
    `runtime.now()`); `build_runtime`'s own is the first team's. An org job (the outbox)
    runs for every team whatever the runtime and ignores `team`."""
    spec = BY_NAME[name]
    if team is not None and not spec.org:
        runtime = runtime.for_team(team)
    return spec.run(runtime, name, None)


def run_daily(
    runtime: Runtime,
    name: str,
    work: Work,
    *,
    slot: str | None = None,
    read: Callable[[Runtime], dict[str, Any]] | None = None,
) -> str:
    """Run a daily job in one transaction, then deliver what it queued.

    With `slot`, the (job, slot) claim is part of that transaction: the claim and the
    job's outbox rows commit together, so a crash between them neither loses the day's
    report (nothing was claimed) nor posts it twice (a second run finds the claim). The
    participants are read from Slack before the transaction, never while holding it (and
    not for a slot already taken: the clock tries due slots again every few minutes), and
    so is what `read` adds to what `work` is given."""
    if slot is not None:
        with runtime.db.read() as session:
            if queries.job_slot_taken(session=session, job=name, slot=slot):
                log.debug("%s for %s already ran; skipping", name, slot)
                return f"{name}: already ran for {slot}"
    people = participants(runtime.client, runtime.sprint, now=runtime.now())
    more = read(runtime) if read is not None else {}
    with runtime.db.session() as session:
        claim = None
        if slot is not None:
            claim = queries.claim_job_slot(session=session, job=name, slot=slot, now=runtime.now())
            if claim is None:
                log.debug("%s for %s already ran; skipping", name, slot)
                return f"{name}: already ran for {slot}"
        result = f"{name}: " + work(
            session=session, sprint=runtime.sprint, participants=people, now=runtime.now(), **more
        )
        if claim is not None:
            claim.result = result
        session.commit()
    deliver(runtime)
    return result


def deliver(runtime: Runtime) -> None:
    """Deliver what a job queued: in a process whose outbox worker runs (`clock`, `run`)
    wake it, so the job's thread is free for the next team's job at a busy minute (every
    team's 9:00) while the worker's senders deliver for all; else (`job run`, tests) drain
    here, now."""
    if runtime.worker.running:
        runtime.worker.poke()
    else:
        runtime.sender.drain()


def daily_jobs(runtime: Runtime) -> dict[str, time]:
    """The jobs that run at a [schedule] time, at their local times."""
    return {j.name: j.trigger.at(runtime.sprint) for j in JOBS if isinstance(j.trigger, AtSetting)}


def slot_times(runtime: Runtime) -> dict[str, time]:
    """Every job with a slot a day, at its local time: the [schedule]'s and those at a time
    of their own (retention: a clock started after it never pruned that day; found by
    review)."""
    own = {j.name: j.trigger.at for j in JOBS if isinstance(j.trigger, AtLocal)}
    return {**daily_jobs(runtime), **own}


def _slot(runtime: Runtime, name: str) -> tuple[date, datetime | None]:
    """The local date of the slot a slotted job fired now runs for; and, fired before that
    day's time (an evening job late past midnight, within the misfire grace), the instant
    of its slot the day before, whose run it is (else None)."""
    info, now = runtime.sprint.sprint, runtime.now()
    today = local_date(info, now)
    at = daily_jobs(runtime).get(name)
    if at is not None and now < local_instant(info, today, at):
        today -= timedelta(days=1)
        return today, local_instant(info, today, at)
    return today, None


NO_NEWS = (": already ran for ", ": pruned nothing", ": no [retention] in the sprint file")


def scheduled(runtime: Runtime, name: str) -> str:
    """Run a slotted job for today's slot exactly once: the (job, local date) claim commits
    with the work, so a second clock, a restart or a catch-up skips it.

    Fired before today's time (an evening job run late past midnight, within the misfire
    grace), it is the day before's run: that day's slot, its work as of its time — not
    tomorrow's slot, which then said "already ran" (found by review)."""
    today, due = _slot(runtime, name)
    if due is not None:
        runtime = replace(runtime, now=lambda: due)
    slot = today.isoformat()
    if not runs_on(runtime, name, today):
        return f"{name}: no slot on {slot}"
    waits = _not_yet(runtime, name, today) if due is None else None
    if waits is not None:
        log.debug("%s", waits)
        return waits
    result = BY_NAME[name].run(runtime, name, slot)
    # One line for a run that did something; a slot another run had taken, or a retention
    # run with nothing to prune, is no news (caught up on start, it was chatter).
    quiet = any(word in result for word in NO_NEWS)
    log.log(logging.DEBUG if quiet else logging.INFO, "%s", result)
    return result


# A job that follows another's by the gap between their times, however late that one's
# messages went: a prompt sent at 11:00 by a clock started then was followed, the same
# second, by "Your standup is still open", and by the digest calling everyone missing
# (found by review); queued at 09:00 while Slack was down, prompt and reminder reached
# people together once it was back (found by review). Later than the clock's looks
# (`RETRY_MINUTES`), the follower waits; `catch_up` runs it when due. It also waits for a
# first job not run yet today, or whose messages have not all gone (a reminder to people
# never prompted).
FOLLOWS = {"standup-reminder": "standup-prompt", "standup-digest": "standup-prompt"}
# What the keys of the first job's messages of a day start with.
SENDS: dict[str, Callable[[date], str]] = {"standup-prompt": standups.prompts_key}


def _not_yet(runtime: Runtime, name: str, today: date) -> str | None:
    """Why the job `name` does not run yet today, where it follows a job (`FOLLOWS`)."""
    first, times = FOLLOWS.get(name), daily_jobs(runtime)
    # (At the same time as the first, or before it: as the sprint file has it.)
    if first is None or not runs_on(runtime, first, today) or times[first] >= times[name]:
        return None
    with runtime.db.read() as session:
        went = queries.job_slot_started(session=session, job=first, slot=today.isoformat())
        waiting, last = (
            queries.delivery_of(session=session, key_prefix=SENDS[first](today))
            if first in SENDS and went is not None
            else (0, None)
        )
    what = first.split("-")[-1]
    if went is None:
        return f"{name}: waits for today's {first.replace('-', ' ')}"
    info, now = runtime.sprint.sprint, runtime.now()
    on_time = local_instant(info, today, times[first])
    gap = local_instant(info, today, times[name]) - on_time
    # Never past the day's last look: the clock runs today's slots only, and one due after
    # midnight never ran (a prompt gone at 23:50 lost its day's reminder and digest; found
    # by review).
    last_look = figures.day_start(info, today + timedelta(days=1)) - timedelta(
        minutes=2 * RETRY_MINUTES
    )
    # Messages still to go: waited for while none went (Slack down), or for the gap after
    # the last that went (one DM Slack keeps refusing held the team's reminder and digest
    # all day, and the day's digest was lost; found by review).
    if waiting and now < last_look and (last is None or now < last + gap):
        return f"{name}: waits for today's {what}s to reach Slack ({waiting} to go)"
    went = max(went, last) if last is not None else went
    if went - on_time <= timedelta(minutes=RETRY_MINUTES):
        return None
    due = went + gap
    if now >= min(due, last_look):
        return None
    return (
        f"{name}: due at {due.astimezone(info.tz):%H:%M}, {gap.total_seconds() / 60:.0f} "
        f"minutes after today's {what}, which went out late"
    )


def catch_up(runtime: Runtime, *, started: bool = True) -> list[str]:
    """For the team `runtime` serves: run today's slotted jobs whose time has passed and
    whose slot is not taken (a report more than 30 minutes after its time says it is
    late), each on its own — on start, and again every RETRY_MINUTES: a job that failed
    (Slack down at 9:00) or that the scheduler dropped (a process paused past its grace)
    runs once it can. Earlier days' missed slots are not replayed, only logged on start."""
    now = runtime.now()
    info = runtime.sprint.sprint
    today = local_date(info, now)
    if started:
        for line in missed_slots(runtime, today):
            log.warning("%s", line)
    _keep_ended(runtime)
    done = []
    for name, at in sorted(slot_times(runtime).items(), key=lambda item: item[1]):
        if runs_on(runtime, name, today) and local_instant(info, today, at) <= now:
            try:
                done.append(scheduled(runtime, name))
            except Exception as exc:
                _failed(runtime, name, today, exc)
    if started:
        log.debug("clock started; missed slots before %s are not replayed", today)
    return done


def _keep_ended(runtime: Runtime) -> None:
    """Keep the outcome and final figures of the team's ended sprints not kept yet, soon
    after each ends (on start, and every RETRY_MINUTES): kept only when first asked for,
    a sprint's record changed with an edit of the team's file made after its end (found by
    review). Kept ones are read back, not computed."""
    team = runtime.teams.owning(runtime.db.scope)
    try:
        history.freeze(runtime.db, team, runtime.sprint, runtime.now())
    except Exception:
        log.exception(
            "keeping the ended sprints' outcomes failed; again in %d minutes", RETRY_MINUTES
        )


def job_id(team: Team, name: str, *, several: bool) -> str:
    """A team's job's APScheduler id: `<team>:<job>`; `<job>` when the org has one team."""
    return f"{team.id}:{name}" if several else name


def run_for_team(runtime: Runtime, team_id: str, name: str) -> str:
    """What the clock runs for a team's job: the team's runtime now (its served sprint,
    scoped rows), then the job — a slotted one for today's slot, in the team's zone. A
    daily job of a team between sprints (or after its last) posts nothing."""
    team = runtime.teams.get(team_id)
    if team is None:  # the clock schedules only the teams it was started with
        raise LookupError(f"no team {team_id!r}")
    mine = runtime.for_team(team)
    spec = BY_NAME[name]
    if not spec.slotted:
        return spec.run(mine, name, None)
    if isinstance(spec.trigger, AtSetting):
        day, due = _slot(mine, name)
        if due is not None:
            # The day before's run, fired late past midnight: of the sprint that day was
            # of, judged as of its slot (the sprint's last day lost its evening report to
            # a sprint found ended at 00:10; found by review).
            of_day = next((s for s in team.sprints if s.sprint.start <= day <= s.sprint.end), None)
            if of_day is not None and of_day.sprint.start != mine.sprint.sprint.start:
                mine = runtime.for_team(team, sprint=of_day.sprint.start)
        idle = between_sprints(mine.sprint.sprint, due or mine.now())
        if idle:
            result = f"{team.id}:{name}: {idle}; nothing posted"
            log.info("%s", result)
            return result
    return scheduled(mine, name)


# Minutes between the clock's looks for today's due slots not yet run (`catch_up`).
RETRY_MINUTES = 5
# The (sprint, job, date) slots whose run failed, logged in full once (`_failed`); the
# start-up catch-up and the retry job may record theirs at the same moment.
_failures: set[tuple[str, str, date]] = set()
_failures_lock = threading.Lock()


def _failed(runtime: Runtime, name: str, today: date, exc: Exception) -> None:
    """Log a slot's failed run: in full the first time, then one line each try (Slack down
    for an hour is twelve tries of each job of each team)."""
    team = runtime.teams.owning(runtime.db.scope)
    who = team.id if team is not None else runtime.sprint.sprint.name
    slot = (who, name, today)
    with _failures_lock:
        again = slot in _failures
        if not again:
            _failures.difference_update([f for f in _failures if f[2] < today])
            _failures.add(slot)
    if again:
        log.warning(
            "%s: %s for %s failed again (%s); again in %d minutes",
            *(who, name, today, exc, RETRY_MINUTES),
        )
        return
    log.exception(
        "%s: %s for %s failed; tried again in %d minutes", who, name, today, RETRY_MINUTES
    )


def catch_up_teams(runtime: Runtime, *, started: bool = True) -> list[str]:
    """Each team's catch-up (`catch_up`) with its runtime of the moment, on start and then
    every RETRY_MINUTES; one team's failure is logged and the others still catch up."""
    done = []
    for team in runtime.teams.all:
        try:
            done += catch_up(runtime.for_team(team), started=started)
        except Exception:
            log.exception("%s: catching up failed; again in %d minutes", team.id, RETRY_MINUTES)
    return done


def _retry(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    """Today's due slots not yet run, looked for every RETRY_MINUTES."""
    scheduler.add_job(
        catch_up_teams,
        IntervalTrigger(minutes=RETRY_MINUTES),
        args=[runtime],
        kwargs={"started": False},
        id="retry",
        name="retry",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


def between_sprints(info: SprintInfo, now: datetime) -> str:
    """Why a team's daily jobs do nothing now, as the clock logs it ("" while the sprint
    `info` — the one the team is served — runs): between sprints it is the next one."""
    current = figures.phase(info, now)
    if current is figures.Phase.BEFORE:
        return f"no sprint running; the next starts on {info.start.isoformat()}"
    if current is figures.Phase.ENDED:
        return f"no sprint running; the last ended on {info.end.isoformat()}"
    return ""


def runs_on(runtime: Runtime, name: str, day: date) -> bool:
    """Whether a slotted job has a slot on a local date: one at a fixed time every day; one
    at a [schedule] time only on the sprint's days — on those its `days` list names
    (workday or not), else on workdays."""
    trigger = BY_NAME[name].trigger
    if not isinstance(trigger, AtSetting):
        return isinstance(trigger, AtLocal)
    info = runtime.sprint.sprint
    if not info.start <= day <= info.end:
        return False
    if trigger.days is not None:
        noon = local_instant(info, day, time(12))
        return sprint_day(info, noon) in getattr(runtime.sprint.schedule, trigger.days)
    return WEEKDAYS[day.weekday()] in info.workdays or (trigger.last_day and day == info.end)


def missed_slots(runtime: Runtime, today: date) -> list[str]:
    """Per daily job, the slots between its last run and today that it did not run."""
    out = []
    with runtime.db.session() as session:
        last = queries.last_job_slots(session=session)
    for name in daily_jobs(runtime):
        if name not in last:
            continue
        day, missed = date.fromisoformat(last[name]) + timedelta(days=1), []
        while day < today:
            if runs_on(runtime, name, day):
                missed.append(day.isoformat())
            day += timedelta(days=1)
        if missed:
            shown = ", ".join(missed[:7]) + (
                f" and {len(missed) - 7} more" if len(missed) > 7 else ""
            )
            how = (
                "a day's prompts ask about that day only"
                if name in DAY_BOUND
                else f"backfill with `sprintbot job run {name} --at ISO`"
            )
            out.append(f"{name}: missed {shown} while the clock was down; not replayed ({how})")
    return out


# Jobs whose messages ask people about their day: a missed one is not to be backfilled (a
# prompt for last Friday sent on Monday, as the clock's advice had it; found by review).
DAY_BOUND = frozenset({"standup-prompt", "standup-reminder"})


def prune(runtime: Runtime, *, name: str, slot: str | None = None) -> str:
    """The retention job, in batches of their own transactions (it is idempotent: a second
    run finds nothing more to delete). With `slot` (the clock's), once per local date."""
    if slot is not None:
        with runtime.db.session() as session:
            claim = queries.claim_job_slot(session=session, job=name, slot=slot, now=runtime.now())
            session.commit()
        if claim is None:
            return f"{name}: already ran for {slot}"
    try:
        summary = retention.run_all(
            db=runtime.db,
            sprint=runtime.sprint,
            now=runtime.now(),
            team=runtime.teams.owning(runtime.db.scope),  # its ended sprints' outcomes first
        )
    except BaseException:
        _given_back(runtime, name, slot)
        raise
    if retention.failed(summary):
        _given_back(runtime, name, slot)
    result = f"{name}: {summary}"
    if slot is None:  # the clock's run is logged by `scheduled`
        log.info("%s", result)
    return result


def _given_back(runtime: Runtime, name: str, slot: str | None) -> None:
    """A failed run's slot, claimed before its work (the work commits batch by batch), is
    given back: the clock's next look runs it again, and it is no success in /metrics
    (the day's pruning was lost, reported as done; found by review)."""
    if slot is not None:
        with runtime.db.session() as session:
            queries.release_job_slot(session=session, job=name, slot=slot)
            session.commit()


def scheduled_prune(runtime: Runtime) -> str:
    """The clock's daily retention run: every day, sprint or not, once per local date."""
    [name] = (j.name for j in JOBS if isinstance(j.trigger, AtLocal))
    return scheduled(runtime, name)


def aps_trigger(trigger: Trigger, sprint: Sprint) -> BaseTrigger:
    """The APScheduler trigger of a job's schedule, in the sprint's zone."""
    tz = sprint.sprint.tz
    if isinstance(trigger, Every):
        return IntervalTrigger(seconds=trigger.seconds)
    if isinstance(trigger, AtLocal):
        return CronTrigger(hour=trigger.at.hour, minute=trigger.at.minute, timezone=tz)
    at = trigger.at(sprint)
    # A job with its own list of sprint days (or the last day too) fires daily and
    # `scheduled` keeps it to them.
    every = trigger.days is not None or trigger.last_day
    days = "*" if every else ",".join(sprint.sprint.workdays)
    return CronTrigger(day_of_week=days, hour=at.hour, minute=at.minute, timezone=tz)


# Threads running jobs at once. At a busy minute (9:00 in a zone many teams share) every
# team's report and prompts are due together; each builds its figures and messages in its
# own transaction, so they run side by side: with the outbox worker's SENDER_THREADS they
# fit SQLAlchemy's default pool (5 connections and 10 more on demand).
JOB_THREADS = 10


HEARTBEAT_SECONDS = 30


def heartbeat(runtime: Runtime) -> None:
    """Record the clock's tick in the database, where every process's /healthz and
    /metrics read it (a clock that stops ticking is seen by the web process)."""
    with runtime.contexts.db.session() as session:
        monitoring.record_heartbeat(session=session, now=runtime.now())
        session.commit()


def _tick(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    """Schedule the heartbeat, its first tick at once."""
    scheduler.add_job(
        heartbeat,
        IntervalTrigger(seconds=HEARTBEAT_SECONDS),
        args=[runtime],
        id="heartbeat",
        name="heartbeat",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )


def _schedule(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    teams = runtime.teams
    for spec in JOBS:
        # A slot claimed once per date may run late (a busy or paused process).
        extra: dict[str, Any] = {"misfire_grace_time": 3600} if spec.slotted else {}
        if spec.org:
            _add(
                scheduler,
                spec.name,
                aps_trigger(spec.trigger, runtime.sprint),
                extra,
                logs.with_fields(spec.run, job=spec.name),
                [runtime, spec.name, None],
            )
            continue
        for team in teams.all:
            # A team's [schedule], zone and workdays are the team's, the same in each sprint.
            sprint = sprint_to_serve(team, now=runtime.now())
            _add(
                scheduler,
                job_id(team, spec.name, several=teams.several),
                aps_trigger(spec.trigger, sprint),
                extra,
                logs.with_fields(run_for_team, team=team.id, job=spec.name),
                [runtime, team.id, spec.name],
            )


def _add(
    scheduler: BlockingScheduler | BackgroundScheduler,
    job: str,
    trigger: BaseTrigger,
    extra: dict[str, Any],
    func: Callable[..., str],
    args: list[object],
) -> None:
    scheduler.add_job(
        func,
        trigger,
        args=args,
        id=job,
        name=job,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        **extra,
    )


def _scheduler(kind: type[BlockingScheduler] | type[BackgroundScheduler]) -> Any:
    # Interval jobs count from the start; cron triggers carry their team's zone.
    scheduler = kind(
        timezone="UTC", executors={"default": {"type": "threadpool", "max_workers": JOB_THREADS}}
    )
    # Once it runs (a scheduler never started starts no watcher), until it is shut down.
    scheduler.add_listener(
        lambda _event: threading.Thread(
            target=_watch_steps, args=(scheduler,), daemon=True, name="clock-steps"
        ).start(),
        EVENT_SCHEDULER_STARTED,
    )
    return scheduler


# How often the clock looks whether the machine's clock stepped, and by how much it must
# have moved to count (NTP slews small drifts; it steps large ones).
STEP_WATCH_SECONDS = 1.0
STEP_SECONDS = 5.0


def _watch_steps(scheduler: BlockingScheduler | BackgroundScheduler) -> None:
    """Run every interval job at once when the machine's clock steps (the time the
    scheduler reads, against a monotonic clock): APScheduler keeps each next run as a wall
    time, so after a step back of an hour the heartbeat, escalations, follow-ups, the
    outbox tick and the catch-up of missed slots all waited an hour (found by review).
    The daily jobs keep their wall times: 9:00 is still 9:00. Ends with the scheduler."""
    offset: float | None = None
    while True:
        timer.sleep(STEP_WATCH_SECONDS)
        if not scheduler.running:
            return
        # (the module's `datetime`: the time the scheduler itself reads)
        now = aps_base.datetime.now(UTC)
        seen = now.timestamp() - timer.monotonic()
        if offset is not None and abs(seen - offset) > STEP_SECONDS:
            log.warning(
                "the machine's clock stepped by %+.0f s: the interval jobs run now",
                seen - offset,
            )
            for job in scheduler.get_jobs():
                if isinstance(job.trigger, IntervalTrigger):
                    with contextlib.suppress(JobLookupError):  # (removed meanwhile)
                        job.modify(next_run_time=now)
            scheduler.wakeup()
        offset = seen


def started(runtime: Runtime) -> str:
    """The clock's first line: its teams with their zones, and the jobs."""
    zones = ", ".join(f"{t.id} in {t.sprints[0].sprint.timezone}" for t in runtime.teams.all)
    return f"clock started for {zones} with jobs: {', '.join(job_names())}"


def start_background(runtime: Runtime) -> BackgroundScheduler:
    """The clock in a background thread (for `sprintbot run`)."""
    scheduler: BackgroundScheduler = _scheduler(BackgroundScheduler)
    _schedule(scheduler, runtime)
    _tick(scheduler, runtime)
    _retry(scheduler, runtime)
    scheduler.start()
    log.debug("%s", started(runtime))  # `sprintbot run` says it in its start line
    scheduler.add_job(catch_up_teams, args=[runtime], id="catch-up", name="catch-up")
    return scheduler


def run_forever(runtime: Runtime) -> None:
    """The clock in the foreground (for `sprintbot clock`)."""
    scheduler: BlockingScheduler = _scheduler(BlockingScheduler)
    _schedule(scheduler, runtime)
    _tick(scheduler, runtime)
    _retry(scheduler, runtime)
    # The process's one line at start: what it runs, for whom, on which database.
    log.info("%s, database %s", started(runtime), logs.database_kind(runtime.settings.DATABASE_URL))
    # A job with no trigger runs once, at once: today's slots missed while down.
    scheduler.add_job(catch_up_teams, args=[runtime], id="catch-up", name="catch-up")
    scheduler.start()
