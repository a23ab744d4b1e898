"""CI results in: JUnit reports and benchmark figures, one transaction each.

A report is parsed (streaming), compared with the branch's known tests, classified
(regressions, fixed, new failures, flaky, newly skipped), stored (only what changed gets a
row; every status of the report is kept packed on the report), readiness is recomputed
and snapshotted, and alerts are queued — all in the caller's transaction, so a report
that fails anywhere leaves no trace.
"""

from __future__ import annotations

import gc
import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlmodel import Session

from jobs import junit, notices, numbers
from jobs.components import ComponentMap
from jobs.config import Sprint, format_duration
from jobs.errors import SprintError
from jobs.numbers import MetricState, Move, TestCounts
from jobs.readiness import TestTally, announce_decline, record_readiness, snapshot_readiness
from storage import queries
from storage.models import Alert, MetricSample, TestReport, TestStatus

FAILING = {TestStatus.FAILED, TestStatus.ERROR}
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$")
_RUN = re.compile(r"^[\w.:#/@+-]{1,200}$")


class IngestError(SprintError):
    """A request we refuse; nothing was stored."""


@dataclass(frozen=True)
class RunInfo:
    run: str | None = None
    commit: str | None = None
    branch: str = "main"
    url: str | None = None
    at: datetime | None = None


def check_run_info(info: RunInfo, *, now: datetime) -> None:
    """Refuse branch names, run ids, links and times no CI system would send."""
    if not _BRANCH.match(info.branch) or ".." in info.branch:
        raise IngestError(f"branch {info.branch!r} is not a branch name (letters, digits, ._/+-)")
    if info.run is not None and not _RUN.match(info.run):
        raise IngestError(
            f"run {info.run!r} is not a CI run id (up to 200 of letters, digits, ._:#/@+-)"
        )
    if info.commit is not None and not re.match(r"^[\w.-]{1,100}$", info.commit):
        raise IngestError(f"commit {info.commit!r} is not a commit id")
    if info.url is not None and not re.match(r"^https?://\S{1,1990}$", info.url):
        raise IngestError("url must be an http(s) link to the CI run")
    if info.at is not None:
        check_time(info.at, now=now, name="at")


def check_time(at: datetime, *, now: datetime, name: str) -> None:
    """A measurement time must be aware, after 2000 and not more than a day ahead."""
    if at.tzinfo is None:
        raise IngestError(f"{name} needs a UTC offset, e.g. 2025-10-30T09:00:00Z")
    if at.year < 2000 or at > now + timedelta(days=1):
        raise IngestError(f"{name} {at.isoformat()} is not a plausible time for a CI run")


def _test_ref(key: tuple[str, str], file: str | None, component: str | None) -> dict[str, Any]:
    classname, name = key
    return {
        "id": f"{classname}::{name}",
        "classname": classname,
        "name": name,
        "file": file,
        "component": component,
    }


def _pack(cases: dict[tuple[str, str], junit.Case]) -> bytes:
    """Every status of a report, compactly: zlib over `status\tclassname\tname` lines,
    compressed as it goes so a large report never exists as one big string."""
    packer = zlib.compressobj(1)
    out = []
    batch: list[str] = []
    for c in cases.values():
        batch.append(f"{c.status}\t{c.classname}\t{c.name}")
        if len(batch) == 4096:
            out.append(packer.compress(("\n".join(batch) + "\n").encode()))
            batch = []
    out.append(packer.compress("\n".join(batch).encode()))
    out.append(packer.flush())
    return b"".join(out)


def unpack_statuses(blob: bytes) -> list[tuple[str, str, str]]:
    """The inverse of _pack: (status, classname, name) per test of a report."""
    out = []
    for line in zlib.decompress(blob).decode().split("\n"):
        if not line:
            continue
        status, classname, name = line.split("\t", 2)
        out.append((status, classname, name))
    return out


def _id(value: int | None) -> int:
    if value is None:  # a flushed row always has one
        raise RuntimeError("row has no id after flush")
    return value


def _key_hash(classname: str, name: str) -> str:
    return hashlib.blake2b(f"{classname}::{name}".encode(), digest_size=16).hexdigest()


@dataclass
class Ingested:
    reply: dict[str, Any]
    created: bool  # False: a replay of a document already received for this run


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a report builds its (acyclic) objects:
    with 100k+ live objects its full passes would cost more than the ingest itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ingest_junit(
    *,
    session: Session,
    sprint: Sprint,
    document: bytes | IO[bytes],
    digest: str,
    info: RunInfo,
    now: datetime,
) -> Ingested:
    """Ingest one JUnit document; the caller commits (or rolls back on any error)."""
    with _gc_paused():
        return _ingest_junit(
            session=session, sprint=sprint, document=document, digest=digest, info=info, now=now
        )


def _ingest_junit(
    *,
    session: Session,
    sprint: Sprint,
    document: bytes | IO[bytes],
    digest: str,
    info: RunInfo,
    now: datetime,
) -> Ingested:
    check_run_info(info, now=now)
    run = info.run or f"doc-{digest[:16]}"
    queries.lock_branch(session=session, branch=info.branch)
    previous = queries.report_by_digest(session=session, run=run, digest=digest)
    if previous is not None:
        return Ingested(reply=previous.reply, created=False)

    parsed = junit.parse(document)
    at = info.at or parsed.timestamp or now
    if info.at is None and parsed.timestamp is not None:
        check_time(at, now=now, name="the report's timestamp")
    known = queries.branch_tests(session=session, branch=info.branch)
    mapper = ComponentMap(sprint)

    report = queries.add_report(
        session=session,
        report=TestReport(
            run=run,
            commit=info.commit,
            branch=info.branch,
            url=info.url,
            at=at,
            received_at=now,
            digest=digest,
            tests=parsed.testcases,
            statuses=_pack(parsed.cases),
        ),
    )
    report_id = _id(report.id)

    counts: Counter[str] = Counter()
    regressions, fixed, new_failures, flaky, newly_skipped = [], [], [], [], []
    muted_failures: list[dict[str, Any]] = []
    still_failing = 0
    new_rows: list[tuple[Any, ...]] = []
    new_meta: list[tuple[junit.Case, str | None]] = []
    updates: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    recovered: list[int] = []
    regressed_ids: list[int] = []
    # What each kind of change does to readiness on its own (numbers.impact), and the known
    # tests that changed as (component, passing) before → after, to count readiness before.
    regressed_moves: list[Move] = []
    fixed_moves: list[Move] = []
    new_failure_moves: list[Move] = []
    changed: list[tuple[str | None, bool, str | None, bool]] = []

    for key, case in parsed.cases.items():
        status = case.status
        counts[status] += 1
        component = mapper(case.file, case.classname)
        row = known.get(key)
        if row is None:
            # In the order of queries.KNOWN_TEST_COLUMNS.
            new_rows.append(
                (
                    info.branch,
                    _key_hash(*key),
                    case.classname,
                    case.name,
                    case.file,
                    component,
                    str(status),
                    case.message if status in FAILING else None,
                    now,  # first seen: when sprintbot received it (history's time axis)
                    at,
                    report_id,
                    False,
                )
            )
            new_meta.append((case, component))
            ref = _test_ref(key, case.file, component)
            if status in FAILING:
                new_failures.append(ref)
                new_failure_moves.append(Move(component, passed=0, known=1))
            elif status is TestStatus.FLAKY:
                flaky.append(ref)
            continue
        if row.status == status and row.component == component:
            if status in FAILING:
                still_failing += 1
            elif status is TestStatus.FLAKY:
                flaky.append(_test_ref(key, case.file, component))
            continue
        ref = _test_ref(key, case.file, component)
        if row.status == TestStatus.PASSED and status in FAILING:
            if row.muted:
                muted_failures.append(ref)
            else:
                regressions.append({**ref, "message": case.message})
                regressed_ids.append(row.id)
                regressed_moves.append(Move(row.component, passed=-1, known=0))
        elif row.status in FAILING and status is TestStatus.PASSED:
            fixed.append(ref)
            fixed_moves.append(Move(row.component, passed=1, known=0))
            if row.alert_id is not None:
                recovered.append(row.id)
        elif row.status in FAILING and status in FAILING:
            still_failing += 1
        elif status is TestStatus.FLAKY:
            flaky.append(ref)
        elif status is TestStatus.SKIPPED and row.status != TestStatus.SKIPPED:
            newly_skipped.append(ref)
        if status in FAILING and row.status not in FAILING and row.status != TestStatus.PASSED:
            new_failures.append(ref)  # e.g. skipped → failed: first time seen failing
            new_failure_moves.append(Move(row.component, passed=0, known=0))  # known already
        if row.status != status:
            results.append(
                {
                    "report_id": report_id,
                    "test_id": row.id,
                    "status": status,
                    "previous_status": row.status,
                    "message": case.message,
                }
            )
        updates.append(
            {
                "id": row.id,
                "status": status,
                "component": component,
                "changed_at": at if row.status != status else None,
                "message": case.message if status in FAILING else None,
                "last_report_id": report_id,
                "file": case.file,
            }
        )
        changed.append(
            (row.component, row.status == TestStatus.PASSED, component, status == TestStatus.PASSED)
        )
        row.status, row.component = status, component

    new_ids = queries.insert_tests(
        session=session, branch=info.branch, report_id=report_id, rows=new_rows
    )
    del new_rows  # the largest structure of a first report: free it before going on
    # Readiness from the branch's tests as they now stand, counted in memory: the known
    # tests (updated in place above) plus the new ones.
    tests_by_component: dict[str, list[int]] = {}
    passed_total = failing_total = 0

    def tally(status: str, component: str | None) -> None:
        nonlocal passed_total, failing_total
        ok = status == TestStatus.PASSED
        passed_total += ok
        failing_total += status in FAILING
        if component is not None:
            c = tests_by_component.setdefault(component, [0, 0])
            c[0] += ok
            c[1] += 1

    for row in known.values():
        tally(row.status, row.component)
    for test_id, (case, component) in zip(new_ids, new_meta, strict=True):
        tally(case.status, component)
        if case.status is not TestStatus.PASSED:
            # A new test that passes needs no row: known_test says when it was first seen.
            results.append(
                {
                    "report_id": report_id,
                    "test_id": test_id,
                    "status": case.status,
                    "previous_status": None,
                    "message": case.message,
                }
            )
    known_count = len(known) + len(new_meta)
    for u in updates:
        if u["changed_at"] is None:
            del u["changed_at"]
    queries.update_tests(session=session, rows=updates)
    queries.add_results(session=session, rows=results)

    recorded = snapshot_readiness(
        session=session,
        sprint=sprint,
        cause=f"report:{report_id}",
        now=now,
        branch=info.branch,
        counts=TestTally(
            components={
                k: TestCounts(passed=p, total=n) for k, (p, n) in tests_by_component.items()
            },
            passed=passed_total,
            failing=failing_total,
            known=known_count,
        ),
    )
    readiness = recorded.summary
    effect = None
    if info.branch == sprint.sprint.branch:
        after = {k: TestCounts(passed=p, total=n) for k, (p, n) in tests_by_component.items()}
        effect = numbers.impact(
            sprint,
            before=_counts_before(after, changed, new_meta),
            after=after,
            regressed=regressed_moves,
            fixed=fixed_moves,
            new_failures=new_failure_moves,
            manual=queries.latest_manual_scores(session=session),
            metric_values=queries.latest_metric_values(session=session),
        ).as_dict()

    context = {
        "commit": info.commit,
        "branch": info.branch,
        "url": info.url,
        "run": run,
        "report": report_id,
        "readiness": readiness,
        "impact": effect,
    }
    alert_key = None
    # Only the tracked branch alerts the team; other branches get their classification in
    # the reply (a feature branch's red tests are its author's business).
    if regressions and info.branch == sprint.sprint.branch:
        alert = notices.regression_alert(
            session=session,
            sprint=sprint,
            report_id=report_id,
            tests=regressions,
            context=context,
            now=now,
        )
        queries.set_alert(session=session, test_ids=regressed_ids, alert_id=alert.id or 0)
        alert_key = alert.key
    _resolve_recovered(session=session, recovered=recovered, context=context, now=now)
    # After the alert, so the team reads the cause before the consequence.
    announce_decline(
        session=session,
        sprint=sprint,
        recorded=recorded,
        causes=_causes(regressions, new_failures),
        now=now,
    )

    failed = counts[TestStatus.FAILED]
    reply = {
        "run": run,
        "report": report_id,
        "tests": parsed.testcases,
        "unique_tests": len(parsed.cases),
        "passed": counts[TestStatus.PASSED],
        "failed": failed,
        "errors": counts[TestStatus.ERROR],
        "skipped": counts[TestStatus.SKIPPED],
        "flaky_count": counts[TestStatus.FLAKY],
        "regressions": [{k: v for k, v in r.items() if k != "message"} for r in regressions],
        "fixed": fixed,
        "new_failures": new_failures,
        "still_failing": still_failing,
        "flaky": flaky + muted_failures,
        "newly_skipped": newly_skipped,
        "readiness": readiness,
        "impact": effect,
        "alert": alert_key,
    }
    report.passed, report.failed = counts[TestStatus.PASSED], failed
    report.errors, report.skipped = counts[TestStatus.ERROR], counts[TestStatus.SKIPPED]
    report.flaky = counts[TestStatus.FLAKY]
    report.reply = reply
    session.add(report)
    session.flush()
    return Ingested(reply=reply, created=True)


def _counts_before(
    after: dict[str, TestCounts],
    changed: list[tuple[str | None, bool, str | None, bool]],
    new: list[tuple[junit.Case, str | None]],
) -> dict[str, TestCounts]:
    """Per-component test counts as they stood before the report: `after` without the
    report's new tests, and with each changed known test back in its old component/status."""
    counts = {k: [c.passed, c.total] for k, c in after.items()}
    for case, component in new:  # a first report's every test: a plain loop
        if component is not None:
            c = counts[component]
            c[0] -= case.status is TestStatus.PASSED
            c[1] -= 1
    for old_component, old_passing, component, passing in changed:
        if component is not None:
            c = counts[component]
            c[0] -= passing
            c[1] -= 1
        if old_component is not None:
            c = counts.setdefault(old_component, [0, 0])
            c[0] += old_passing
            c[1] += 1
    return {k: TestCounts(passed=p, total=n) for k, (p, n) in counts.items() if n}


def _causes(
    regressions: list[dict[str, Any]], new_failures: list[dict[str, Any]]
) -> dict[str, str]:
    by_component: dict[str, list[int]] = {}
    for kind, refs in ((0, regressions), (1, new_failures)):
        for ref in refs:
            if ref["component"]:
                by_component.setdefault(ref["component"], [0, 0])[kind] += 1
    causes = {}
    for component, (reg, new) in by_component.items():
        parts = []
        if reg:
            parts.append(f"{reg} regression{'s' if reg != 1 else ''}")
        if new:
            parts.append(f"{new} new failure{'s' if new != 1 else ''}")
        causes[component] = ", ".join(parts)
    return causes


def _resolve_recovered(
    *, session: Session, recovered: list[int], context: dict[str, Any], now: datetime
) -> None:
    """Release fixed tests from their alerts; an alert whose tests all pass is resolved."""
    if not recovered:
        return
    alert_ids = {t.alert_id for t in queries.tests_by_id(session=session, ids=recovered)}
    queries.clear_alert(session=session, test_ids=recovered)
    for alert_id in sorted(a for a in alert_ids if a is not None):
        if queries.alert_tests(session=session, alert_id=alert_id):
            continue
        alert = queries.alert_by_id(session=session, alert_id=alert_id)
        if alert is not None and alert.resolved_at is None:
            notices.resolve_alert(
                session=session,
                alert=alert,
                data={
                    "count": alert.payload.get("count"),
                    "commit": context["commit"],
                    "url": context["url"],
                    "report": context["report"],
                },
                now=now,
            )


# -- metrics -----------------------------------------------------------------------------


def ingest_metrics(*, session: Session, sprint: Sprint, body: Any, now: datetime) -> dict[str, Any]:
    """Store benchmark figures, compare each with its target, alert on degradation."""
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), dict):
        raise IngestError('send a JSON object: {"metrics": {"name": number, ...}}')
    unknown_keys = set(body) - {"at", "commit", "metrics"}
    if unknown_keys:
        raise IngestError(f"unknown field {sorted(unknown_keys)[0]!r}; fields: at, commit, metrics")
    metrics: dict[str, Any] = body["metrics"]
    if not metrics:
        raise IngestError("metrics is empty; send at least one figure")
    at = now
    if body.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise IngestError(f"at {body['at']!r} is not an ISO-8601 time") from None
        check_time(at, now=now, name="at")
    commit = body.get("commit")
    if commit is not None and (
        not isinstance(commit, str) or not re.match(r"^[\w.-]{1,100}$", commit)
    ):
        raise IngestError("commit must be a commit id string")
    samples = []
    for name, value in metrics.items():
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]{0,199}$", name):
            raise IngestError(f"metric name {name!r} must be lower_snake_case")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise IngestError(f"metric {name!r} must be a number, not {value!r}")
        samples.append(
            MetricSample(name=name, value=float(value), at=at, commit=commit, received_at=now)
        )
    queries.add_metric_samples(session=session, samples=samples)

    tolerance = sprint.alerts.perf_tolerance
    reply_metrics: dict[str, Any] = {}
    causes: dict[str, str] = {}
    for sample in samples:
        metric = sprint.metric(sample.name)
        if metric is None:
            reply_metrics[sample.name] = {"value": sample.value, "status": MetricState.UNTRACKED}
            continue
        state = numbers.metric_state(metric, sample.value, tolerance=tolerance)
        over = _beyond_target(metric.target, sample.value, lower_better=metric.better == "lower")
        reply_metrics[sample.name] = {
            "value": sample.value,
            "target": metric.target,
            "unit": metric.unit,
            "better": str(metric.better),
            "status": state,
            "beyond_target_percent": over,
        }
        for component in sprint.components:
            if sample.name in component.metrics and state is not MetricState.MET:
                causes[component.name] = (
                    f"{metric.title} {state} target ({sample.value:g} {metric.unit})"
                )
        _performance_alert(
            session=session,
            sprint=sprint,
            name=sample.name,
            state=state,
            data={
                "metric": sample.name,
                "label": metric.title,
                "value": sample.value,
                "target": metric.target,
                "unit": metric.unit,
                "better": str(metric.better),
                "beyond_target_percent": over,
                "commit": commit,
                "tolerance": tolerance,
            },
            now=now,
        )
    readiness = record_readiness(
        session=session, sprint=sprint, cause="metrics", causes=causes, now=now
    )
    return {
        "at": at.isoformat(),
        "commit": commit,
        "metrics": reply_metrics,
        "readiness": readiness,
    }


def _beyond_target(target: float, value: float, *, lower_better: bool) -> float:
    """How far past the target, in percent of it (0 when met)."""
    if target == 0:
        return 0.0
    over = (
        (value - target) / abs(target) * 100
        if lower_better
        else (target - value) / abs(target) * 100
    )
    return round(max(over, 0.0), 1)


def _performance_alert(
    *,
    session: Session,
    sprint: Sprint,
    name: str,
    state: MetricState,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Degraded → one alert until the metric is back within target; then a resolved notice."""
    open_alert = queries.open_alert(
        session=session, kind=notices.AlertKind.PERFORMANCE, subject=name
    )
    if state is MetricState.DEGRADED and open_alert is None:
        stamp = now.strftime("%Y%m%dT%H%M%S%f")
        key = f"performance:{name}:{stamp}"
        alert = queries.add_alert(
            session=session,
            alert=Alert(
                kind=notices.AlertKind.PERFORMANCE,
                key=key,
                subject=name,
                created_at=now,
                payload={**data, "ack_within": format_duration(sprint.alerts.performance_ack)},
            ),
        )
        alert.payload = {**alert.payload, "alert_id": alert.id}
        notices.post(
            session=session,
            key=key,
            template=notices.Template.PERFORMANCE_ALERT,
            data=alert.payload,
            now=now,
            channel=sprint.channels.team,
        )
    elif state is MetricState.MET and open_alert is not None:
        notices.resolve_alert(
            session=session,
            alert=open_alert,
            data=data,
            now=now,
            reply=notices.Template.PERFORMANCE_RESOLVED,
        )
