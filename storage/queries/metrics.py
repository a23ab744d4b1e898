"""Benchmark samples: stored, the latest of each, and their history."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import MetricSample


def latest_metric_values(*, session: Session) -> dict[str, float]:
    """The most recent sample of each metric (by measurement time, then arrival)."""
    ranked = select(
        MetricSample.name,
        MetricSample.value,
        func.row_number()
        .over(
            partition_by=MetricSample.name,
            order_by=(col(MetricSample.at).desc(), col(MetricSample.id).desc()),
        )
        .label("rank"),
    ).subquery()
    rows = session.execute(select(ranked.c.name, ranked.c.value).where(ranked.c.rank == 1)).all()
    return {str(n): float(v) for n, v in rows}


def later_sample(*, session: Session, sample: MetricSample) -> MetricSample | None:
    """The metric's latest sample, where it is a later one than `sample` (by measurement
    time, then arrival: the order `latest_metric_values` reads them in)."""
    later = session.exec(
        select(MetricSample)
        .where(
            MetricSample.name == sample.name,
            or_(
                col(MetricSample.at) > sample.at,
                and_(col(MetricSample.at) == sample.at, col(MetricSample.id) > sample.id),
            ),
        )
        .order_by(col(MetricSample.at).desc(), col(MetricSample.id).desc())
        .limit(1)
    ).first()
    return later


def add_metric_samples(*, session: Session, samples: list[MetricSample]) -> None:
    """Store benchmark figures."""
    session.add_all(samples)
    session.flush()


class HistorySample(NamedTuple):
    """A benchmark sample as the figures read it."""

    name: str
    value: float
    at: datetime
    received_at: datetime


def metric_history(
    *, session: Session, until: datetime, since: datetime | None = None
) -> list[HistorySample]:
    """Benchmark samples received up to `until` (and measured at or after `since`), by
    measurement time then arrival."""
    query = sa_select(
        col(MetricSample.name),
        col(MetricSample.value),
        col(MetricSample.at),
        col(MetricSample.received_at),
    ).where(col(MetricSample.received_at) <= until)
    if since is not None:
        query = query.where(col(MetricSample.at) >= since)
    rows = session.execute(query.order_by(col(MetricSample.at), col(MetricSample.id)))
    return list(map(HistorySample._make, rows))
