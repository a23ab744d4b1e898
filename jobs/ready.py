"""The sprint's figures kept ready, so that acknowledgements never recompute from history.

Every commit that changes what the figures are computed from bumps the ready state's
generation in the database (`storage.ready`). A build of the figures is stored with the
generation it was built from and the instant until which it holds with no write (the next
local midnight; a P0 blocker's next hour of age, which health's reason names). So every
process sees the same state:

- this process's copy answers while the stored generation has not moved and `now` is
  within the copy's time (the refresher, where one runs, reads every team's generation
  twice a `max_lag`; an answer reads it itself only if it is `max_lag` old; a commit in
  this process is seen at once);
- else the build another process stored is loaded;
- else the figures are rebuilt (one build at a time per process) and stored for the others.

A background refresher (`Refresher`) rebuilds as soon as a write in this process commits,
when another process's write is seen, and at the build's `valid_until`, so an answer rarely
waits for a build. The figures are the same `jobs.figures.compute` every surface renders.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import pickle
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from jobs import figures
from jobs.config import Sprint
from jobs.figures import Figures
from storage import ready as stored
from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

HOUR = timedelta(hours=1)
P0_STALE = timedelta(hours=24)  # numbers.assess: a P0 open longer puts health At Risk
# A build holds for the code that made it: the modules that shape a Figures.
_ROOT = Path(__file__).resolve().parent.parent
_CODE = hashlib.sha256(
    b"".join(
        (_ROOT / name).read_bytes()
        for name in (
            "jobs/figures.py",
            "jobs/numbers.py",
            "jobs/config.py",
            "jobs/ready.py",
            "storage/models.py",
        )
    )
).hexdigest()


def fingerprint(sprint: Sprint) -> str:
    """What a stored build must have been built with: this code and this sprint file."""
    return hashlib.sha256(f"{_CODE}\n{sprint.model_dump_json()}".encode()).hexdigest()


NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # a build no time makes stale (only a write)
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)


def valid_until(fig: Figures) -> datetime:
    """The first instant at which figures computed at `fig.at` may change with no write:
    the next local midnight (the day, the plan, the phase, yesterday), the next whole hour
    of a P0 blocker's age once it nears 24 h (health and its reason), or the end of a
    quarantine's time (it ends then; the clock writes its release minutes later: found by
    review). An ended sprint's are its final ones, as of its end: no time changes them."""
    if fig.phase is figures.Phase.ENDED:
        return NEVER
    until = figures.day_start(fig.info, fig.today + timedelta(days=1))
    if fig.quarantine_ends is not None:
        until = min(until, fig.quarantine_ends)
    for b in fig.blockers:
        if b.severity != "P0":
            continue
        opened = fig.opened_at(b)
        age = fig.at - opened
        if age <= P0_STALE:
            change = opened + P0_STALE + timedelta(microseconds=1)
        else:
            change = opened + HOUR * (age // HOUR + 1)
        until = min(until, change)
    return until


def valid_from(fig: Figures) -> datetime:
    """The last instant up to `fig.at` at which the figures may have changed with no write
    (`valid_until`'s other end): figures built at `fig.at` answer for any instant from
    then on, so a request that began a moment before a build gets what it holds."""
    since = figures.day_start(fig.info, fig.today)
    if fig.quarantine_ended is not None:
        since = max(since, fig.quarantine_ended)
    for b in fig.blockers:
        opened = fig.opened_at(b)
        age = fig.at - opened
        if b.severity == "P0" and age > P0_STALE:
            stale = opened + P0_STALE + timedelta(microseconds=1)
            since = max(since, stale, opened + HOUR * (age // HOUR))
    return since


def encode(fig: Figures) -> bytes:
    """A build's bytes: the figures without the sprint (the reader has it)."""
    state = {f.name: getattr(fig, f.name) for f in fields(fig) if f.name != "sprint"}
    return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def decode(data: bytes, sprint: Sprint) -> Figures:
    """A stored build back as Figures. Only builds this code stored with this sprint file
    are read (the fingerprint says so); they come from our own database."""
    state = pickle.loads(zlib.decompress(data))  # noqa: S301  (our own rows, see above)
    return Figures(sprint=sprint, **state)


_compiled = threading.Event()
_NO_BRANCH = "~"  # no branch is named so: git refuses the character


def _compile_first(session: Session, sprint: Sprint, now: datetime) -> None:
    """Before a process's first build, the same build on a branch with no tests. What the
    first run of its queries keeps for good (compiled statements, result processors, the
    pickler's names of each class's slots) is then made before the build's rows are read,
    not among them: made among them, those few objects lay spread over the memory the rows
    took, and Python's allocator hands an arena of 1 MB back only once nothing in it lives.
    With `Refresher.prime` and UTC sessions: the web process at rest after its first build
    of 20k tests went from 100-104 to 95-96 MB on PostgreSQL (without this, 95-98)."""
    if _compiled.is_set():
        return
    empty = sprint.model_copy(
        update={"sprint": sprint.sprint.model_copy(update={"branch": _NO_BRANCH})}
    )
    encode(figures.compute(session=session, sprint=empty, at=now))
    _compiled.set()


class _Tally:
    """A count that only grows, bumped from any thread."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.count += 1


# Copies replaced in this process (a build, a load): what `Together` found may be gone.
_replaced = _Tally()


@dataclass
class _Copy:
    """This process's build: figures as of `figures.at`, holding until `valid_until` while
    the stored generation is `generation`."""

    figures: Figures
    generation: int
    valid_until: datetime
    local: int  # this process's count of watched commits when it was last confirmed
    checked: float  # when (monotonic) the stored generation was last confirmed
    derived: dict[str, Any] = field(default_factory=dict)
    valid_from: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.valid_from = valid_from(self.figures)

    def holds(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until


class Ready:
    """The figures as of now, for every surface that answers at once.

    A write in this process is seen by the next answer; one in another process within
    `max_lag` seconds (the stored generation is read at most that often while nothing
    changes here)."""

    def __init__(
        self,
        *,
        db: Database,
        sprint: Sprint,
        max_lag: float = 0.25,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.sprint = sprint
        self.max_lag = max_lag
        # The process's clock (the one writes are stamped with): a build is of the instant
        # it reads the generation at, or later; without one, of the `now` it is asked for.
        self.clock = clock
        self.fingerprint = fingerprint(sprint)
        self._copy: _Copy | None = None
        self._build = threading.Lock()
        self._storing: list[threading.Thread] = []
        self.builds = 0  # how many times this process computed the figures

    def figures(self, now: datetime) -> Figures:
        """Every figure as of `now`, computed once per change and shared by all processes."""
        return replace(self._current(now).figures, at=now)

    def derived(self, now: datetime, name: str, make: Callable[[Figures], T]) -> T:
        """`make(figures)` once per build: for what depends on the figures alone, not on
        the instant (a rendered answer)."""
        return self._derived(self._current(now), name, make)

    def derived_if_fresh(self, now: datetime, name: str, make: Callable[[Figures], T]) -> T | None:
        """`derived` from the figures in memory as of `now`, or None where it would read the
        database or wait for a build (a caller on the event loop: it hands the work to a
        thread instead)."""
        copy = self.fresh_copy(now)
        return None if copy is None else self._derived(copy, name, make)

    @staticmethod
    def _derived(copy: _Copy, name: str, make: Callable[[Figures], T]) -> T:
        if name not in copy.derived:
            copy.derived[name] = make(copy.figures)
        value: T = copy.derived[name]
        return value

    @property
    def state_name(self) -> str:
        """Its ready state's name (`storage.ready.figures_name` of its sessions)."""
        return stored.name_of(self.db.scope)

    def refresh(
        self, now: datetime, version: stored.Version | None = None, *, local: int | None = None
    ) -> None:
        """What `Refresher` does each time it looks: the stored generation read now (or
        `version`, read with other teams' in one statement), however recently it was, and
        the figures built or loaded anew if it moved; so that answers, which read it once
        it is `max_lag` old, find it fresh while the refresher keeps looking more often.
        `local`: this process's commits counted before `version` was read (a commit after
        that read is not in it, and the next answer must not take it as seen)."""
        self._current(now, look=True, version=version, local=local)

    def fresh(self, now: datetime) -> bool:
        """Whether the figures as of `now` are in memory, with nothing to read or build."""
        return self._fresh(self._copy, now)

    def fresh_copy(self, now: datetime) -> _Copy | None:
        """The copy `fresh` finds fresh as of `now`, else None."""
        copy = self._copy
        return copy if self._fresh(copy, now) else None

    def _fresh(self, copy: _Copy | None, now: datetime) -> bool:
        return (
            copy is not None
            and copy.local == stored.local_commits.count
            and time.monotonic() - copy.checked < self.max_lag
            and copy.holds(now)
        )

    def _current(
        self,
        now: datetime,
        *,
        look: bool = False,
        version: stored.Version | None = None,
        local: int | None = None,
    ) -> _Copy:
        copy = self._copy
        # (Counted before the generation is read: a commit in between is seen again.)
        local = stored.local_commits.count if local is None else local
        if copy is not None and copy.local == local and copy.holds(now):
            if not look and time.monotonic() - copy.checked < self.max_lag:
                return copy
            # This caller looks at the stored generation; the others answer from the copy
            # meanwhile rather than all asking at once.
            copy.checked = time.monotonic()
        if version is None:
            with self.db.read() as session:
                version = stored.version(session=session)
        if copy is not None and copy.generation == version.generation and copy.holds(now):
            # (Never back: a newer confirmation may have come while this one read.)
            copy.local, copy.checked = max(copy.local, local), time.monotonic()
            return copy
        with self._build:
            copy = self._copy  # another thread may have just built it
            if copy is not None and copy.generation > version.generation:
                # From a newer generation than the one read (the refresher's, read for
                # every team before this one's turn): that build may still be stored, and
                # loading the older one would put older figures back. Read it again (it
                # can only be older than the copy if the stored state was emptied).
                local = stored.local_commits.count
                with self.db.read() as session:
                    version = stored.version(session=session)
            if copy is not None and copy.generation == version.generation and copy.holds(now):
                return copy
            return self._load(now, version, local) or self._rebuild(now)

    def _load(self, now: datetime, version: stored.Version, local: int) -> _Copy | None:
        if (
            version.built != version.generation
            or version.fingerprint != self.fingerprint
            or version.valid_until is None
            or not now < version.valid_until
        ):
            return None
        with self.db.read() as session:
            built, data = stored.payload(session=session)
        if built != version.generation or data is None:
            return None
        try:
            fig = decode(data, self.sprint)
        except Exception:  # a build this code cannot read: build anew
            log.warning("the stored figures could not be read; rebuilding", exc_info=True)
            return None
        copy = _Copy(fig, version.generation, version.valid_until, local, time.monotonic())
        if not copy.holds(now):
            return None
        self._copy = copy
        _replaced.bump()  # (after: `Together` reads the count before the copies)
        return copy

    def _compute(self, now: datetime) -> tuple[int, bytes]:
        """The figures as of `now` (or later: see below) and the generation they were built
        from, as stored."""
        with self.db.read() as session:
            _compile_first(session, self.sprint, now)
            # The generation first: a write committed meanwhile is in the figures or not,
            # but the build never claims a generation newer than what it read. And the
            # figures of the instant it was read or later: `now` may have been taken before
            # a wait for another build, and a write stamped after it but committed before
            # the read would be claimed by the generation and left out of the figures.
            generation = stored.version(session=session).generation
            at = now if self.clock is None else max(now, self.clock())
            return generation, encode(figures.compute(session=session, sprint=self.sprint, at=at))

    def _rebuild(self, now: datetime) -> _Copy:
        local = stored.local_commits.count
        generation, data = self._compute(now)
        self.builds += 1
        # The copy kept is read back from the stored bytes, once everything the build read
        # is gone: the build's own objects lay among the rows' memory and kept some of it
        # from being handed back (~1 MB at 20k tests).
        fig = decode(data, self.sprint)
        until = valid_until(fig)
        copy = self._copy = _Copy(fig, generation, until, local, time.monotonic())
        _replaced.bump()
        # Stored by another thread: the caller may hold SQLite's write lock itself.
        storing = threading.Thread(
            target=self._store, args=(fig, data, generation, until), name="ready-store", daemon=True
        )
        self._storing = [t for t in self._storing if t.is_alive()] + [storing]
        storing.start()
        return copy

    def settle(self, timeout: float = 10) -> None:
        """Wait for the builds being stored (a process stopping, a test ending)."""
        for storing in self._storing:
            storing.join(timeout)

    def _store(self, fig: Figures, data: bytes, generation: int, until: datetime) -> None:
        try:
            with self.db.session() as session:
                stored.store(
                    session=session,
                    built=generation,
                    built_at=fig.at,
                    valid_until=until,
                    fingerprint=self.fingerprint,
                    data=data,
                )
                session.commit()
        except Exception:  # the build still serves this process; others build their own
            log.warning("could not store the figures' build", exc_info=True)


@dataclass(frozen=True)
class _Found:
    """Every team's figures found fresh at once: what holds while nothing moves."""

    replaced: int  # `_replaced.count` then
    local: int  # this process's commits then
    checked: float  # the oldest of their confirmations (monotonic)
    lag: float  # the shortest of their `max_lag`
    since: datetime  # the instants every copy holds for
    until: datetime


class Together:
    """Whether the figures of every team served are fresh (`Ready.fresh`), as every Slack
    request asks (answered on the event loop, or else in a worker thread).

    Asking each team's figures took ~2.5 µs a team: 120 µs of every acknowledgement with
    50 teams. Once all are found fresh they stay so, with no team asked, while nothing can
    have moved: no commit here, no copy replaced (a build; a load after another process's
    write), the oldest confirmation less than a lag old, and the instant within every
    copy's time. (Which sprint a team is served changes only at its midnight, and no copy
    holds past the next one but the figures of a last sprint ended, served from then on.)"""

    def __init__(self) -> None:
        self._found: _Found | None = None

    def fresh(self, now: datetime, readies: Callable[[], Iterable[Ready]]) -> bool:
        """`readies`: every team's figures served at `now` (asked only when what was found
        last may have moved)."""
        found = self._found
        if (
            found is not None
            and found.replaced == _replaced.count
            and found.local == stored.local_commits.count
            and time.monotonic() - found.checked < found.lag
            and found.since <= now < found.until
        ):
            return True
        # (Counted before the copies are read: a replacement or commit after is seen.)
        replaced, local = _replaced.count, stored.local_commits.count
        checked, lag, since, until = float("inf"), float("inf"), _EARLIEST, NEVER
        for ready in readies():
            copy = ready.fresh_copy(now)
            if copy is None:
                return False
            checked, lag = min(checked, copy.checked), min(lag, ready.max_lag)
            since, until = max(since, copy.valid_from), min(until, copy.valid_until)
        self._found = _Found(replaced, local, checked, lag, since, until)
        return True


class Refresher:
    """Keeps a `Ready` built in the background (or every team's: `ready` may be a function
    giving the ones served now): right after this process commits a write, within `poll`
    seconds of another process's write, and when the build's time runs out. Looking twice
    as often as the Ready's `max_lag`, it does the looking at the stored generation, so
    answers never have to: every team's in one statement."""

    def __init__(
        self,
        ready: Ready | Callable[[], Sequence[Ready]],
        *,
        now: Callable[[], datetime],
        poll: float | None = None,
    ) -> None:
        self.readies: Callable[[], Sequence[Ready]] = (
            (lambda: [ready]) if isinstance(ready, Ready) else ready
        )
        self.now = now
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prime(self) -> None:
        """The first figures served, built (or loaded) and stored in the caller's thread: a
        process does this before it starts its other threads, so that what they keep for
        good from their start (connections, caches, compiled queries) is not spread over
        the memory the build's rows take (see `_compile_first`; with the build beside the
        other threads starting, the web process at rest was at 95-101 MB rather than 95-96).
        A failure is logged: the refresher tries again."""
        try:
            for ready in self.readies()[:1]:
                ready.figures(self.now())
                ready.settle()
        except Exception:
            log.warning("could not build the figures at start", exc_info=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ready-figures", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        stored.local_commits.wake()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def interval(self, readies: Sequence[Ready]) -> float:
        """Seconds between two looks: `poll`, else half the figures' `max_lag` (however
        many teams: one statement reads all their generations)."""
        if self.poll is not None:
            return self.poll
        return min((r.max_lag for r in readies), default=0.25) / 2

    @staticmethod
    def _versions(readies: Sequence[Ready]) -> dict[str, stored.Version]:
        """Every team's stored generation, in one statement (with one team, its own look
        reads it)."""
        if len(readies) < 2:
            return {}
        try:
            with readies[0].db.scoped(None).read() as session:
                return stored.versions(session=session, names=[r.state_name for r in readies])
        except Exception:
            log.warning("could not read the figures' generations", exc_info=True)
            return {}

    def look(self) -> tuple[int, Sequence[Ready]]:
        """One look at every team's figures: their stored generations read (in one
        statement), each team's figures rebuilt or loaded where it moved, and every copy
        confirmed as of now. Returns this process's commits counted before the read, and
        the figures looked at."""
        seen = stored.local_commits.count
        readies: Sequence[Ready] = []
        try:
            readies = self.readies()
        except Exception:
            log.warning("could not learn which figures to refresh", exc_info=True)
        versions = self._versions(readies)
        for ready in readies:
            try:
                ready.refresh(self.now(), versions.get(ready.state_name), local=seen)
            except Exception:
                log.warning("could not refresh the figures", exc_info=True)
        return seen, readies

    def next_wait(self, readies: Sequence[Ready], *, began: float) -> float:
        """Seconds until the next look: an interval after this one began, the look's own
        reads and the collection's time included (waiting a whole interval after either,
        the figures went stale: a collection takes ~0.1 s, reading the generations as long
        on a busy interpreter), and never none."""
        interval = self.interval(readies)
        return max(interval - (time.monotonic() - began), interval / 10)

    def _run(self) -> None:
        builds = -1
        while not self._stop.is_set():
            began = time.monotonic()
            seen, readies = self.look()
            total = sum(r.builds for r in readies)
            if total != builds:
                builds = total
                # What lives on (the build, the modules) out of the collector's way: a full
                # collection walking it was the slowest answer's wait (Instagram's recipe).
                gc.collect()
                gc.freeze()
            stored.local_commits.wait(seen=seen, timeout=self.next_wait(readies, began=began))
