"""`--at ""` (a script's unset variable: `--at "$WHEN"`) was taken as no `--at` at all:
`job run` ran the job as of now (a backfill became today's report, posted) and `export
tracker` answered for now, exit 0, where `--at garbage` is a usage error (2; found by
review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE, Server, cli_env


@pytest.mark.parametrize(
    "argv",
    [
        ["job", "run", "daily-report", "--at", ""],
        ["export", "tracker", "--at", ""],
        ["config", "check", str(EXAMPLE), "--at", ""],
    ],
    ids=["job-run", "export-tracker", "config-check"],
)
def test_an_empty_at_is_a_usage_error(
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
) -> None:
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.chdir(tmp_path)
    try:
        code: object = main(argv)
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert code == 2, (code, out[:120], err)
    assert err.count("\n") == 1 and "--at" in err, err
