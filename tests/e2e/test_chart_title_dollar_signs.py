"""The burn-down chart's title is the sprint's name, drawn by matplotlib, which reads text
between two `$` as TeX math: a sprint named "Q4: cut infra cost from $40k to $25k" gets
a chart titled "…from 40kto25k" in math italics, the dollar signs and spaces gone; a name
holding `$__init__$` fails to draw at all and the day's chart is never posted."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.image import imread
from sqlmodel import select

import tests
from bot import clock as bot_clock
from bot.blocks import file_data
from bot.charts import burndown_png
from storage.models import OutboxMessage, OutboxStatus
from tests.support.e2e import at, post_report
from tests.support.server import Server

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"


def _server(make_server: Callable[..., Server], tmp_path: Path, name: str) -> Server:
    path = tmp_path / "sprint.toml"
    text = EXAMPLE.read_text("utf-8")
    old = 'name = "Phase 4 Production Readiness"'
    assert old in text
    path.write_text(text.replace(old, f"name = {json.dumps(name)}", 1), encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    return server


def _pixels(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


@pytest.mark.usefixtures("quick_pace")
def test_a_dollar_amount_in_the_sprint_name_is_drawn_as_typed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    name = "Q4: cut infra cost from $40k to $25k"
    server = _server(make_server, tmp_path, name)
    [png] = server.slack.uploads.values()
    with server.runtime.db.session() as s:
        [row] = [m for m in s.exec(select(OutboxMessage)) if m.method.startswith("files")]
        data = file_data(row.payload)
    assert data["name"] == name
    # The same chart with matplotlib's mathtext off: what a reader expects to see. The
    # posted chart differed: its title went through mathtext.
    with matplotlib.rc_context({"text.parse_math": False}):
        literal = burndown_png(data)
    assert np.array_equal(_pixels(png), _pixels(literal)), "title drawn as TeX math"


@pytest.mark.usefixtures("quick_pace")
def test_a_sprint_name_matplotlib_cannot_parse_still_gets_its_chart(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = _server(make_server, tmp_path, "Speed up $__init__$ and imports")
    with server.runtime.db.session() as s:
        failed = [
            (m.key, m.last_error)
            for m in s.exec(select(OutboxMessage))
            if m.status != OutboxStatus.SENT
        ]
    assert failed == []
    assert len(server.slack.uploads) == 1
