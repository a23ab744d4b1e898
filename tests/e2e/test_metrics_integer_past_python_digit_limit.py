"""A benchmark figure written as an integer of more than 4,300 digits: Python's json
raises a plain ValueError ("Exceeds the limit (4300 digits) for integer string
conversion"), not a JSONDecodeError, and neither `bot.web` (`Routes.metrics`) nor
`bot.cli.cmd_ingest_metrics` catches it. (The 400-digit case is refused: it reaches
`_finite`; this one never did; found by review.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import MetricSample
from tests.e2e.test_api_and_cli_input import cli_env, run_cli  # noqa: F401  (fixture)
from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
BODY = b'{"metrics": {"memory_usage": 1' + b"0" * 5000 + b"}}"


def test_a_5000_digit_figure_is_400_not_500(server: Server) -> None:
    """CI posts memory_usage as a 5,001-digit integer (a broken script, 5 kB of a 1 MB
    limit). The user sees 500 Internal Server Error with no reason; they should get a
    400 naming the metric, as for 1e400 or a 400-digit integer, with nothing stored."""
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=BODY, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    with server.runtime.db.session() as s:
        assert s.exec(select(func.count()).select_from(MetricSample)).one() == 0


@pytest.mark.usefixtures("clean_env")
def test_cli_ingest_metrics_a_5000_digit_figure_is_one_line(
    capsys: pytest.CaptureFixture[str],
    cli_env: Database,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`sprintbot ingest metrics bench.json` with that figure: the user gets a Python
    traceback (ValueError escapes); they should get exit 1 and one line on stderr
    naming the file, as for every other unusable document."""
    path = tmp_path / "bench.json"
    path.write_bytes(BODY)
    code, out, err = run_cli(capsys, "ingest", "metrics", str(path))
    assert (code, out, err.count("\n")) == (1, "", 1), (code, out[:200], err[-300:])
    assert err.startswith(f"{path}: ")
