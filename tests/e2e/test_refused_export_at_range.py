"""`sprintbot export tracker --at` takes any instant parse_instant allows (1900..9000):
a tracker "as of" 2999 or 1900 is printed with exit 0, although GET /api/v1/sprint
refuses the same instants (400 "in the future", 410 "not kept" under [retention])."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database
from tests.support.server import EXAMPLE


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, db: Database, database_url: str, tmp_path: Path
) -> Database:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    return db


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("at", ["2999-01-01T00:00:00Z", "1900-01-01T00:00:00Z"])
def test_export_tracker_refuses_an_instant_it_cannot_report(
    capsys: pytest.CaptureFixture[str], cli_env: Database, at: str
) -> None:
    try:
        code: object = main(["export", "tracker", "--at", at])
    except BaseException as exc:  # a traceback is a failure too
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert code in (1, 2), (code, out[:300])
    assert out == ""
    assert err.count("\n") == 1 and at[:4] in err, err
