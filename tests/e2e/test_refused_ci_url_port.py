"""A CI run link with a port outside 0..65535 (`http://ci.example:99999/run/1`) is taken:
jobs.ingest.check_run_info checks scheme and hostname from urlsplit but never reads
`.port`, which is where urlsplit refuses it; the broken link is stored and posted under
every alert and report of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database
from tests.e2e.test_ingest_bad_input import GOOD, nothing_stored, post
from tests.support.server import EXAMPLE, Server

BAD = ["http://ci.example:99999/run/1", "https://ci.example:65536/run/1", "http://ci.example:x/1"]


@pytest.mark.parametrize("url", BAD)
def test_api_refuses_a_ci_url_with_an_impossible_port(server: Server, url: str) -> None:
    from urllib.parse import quote

    resp = post(server, GOOD, query=f"?run=r1&at=2025-10-31T13:00:00Z&url={quote(url, safe='')}")
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert "url" in resp.json()["error"]
    nothing_stored(server)


@pytest.mark.usefixtures("clean_env")
def test_cli_refuses_a_ci_url_with_an_impossible_port(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(EXAMPLE))
    report = tmp_path / "r.xml"
    report.write_bytes(GOOD)
    try:
        code: object = main(
            ["ingest", "junit", str(report), "--url", BAD[0], "--at", "2025-10-31T13:00:00Z"]
        )
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert (code, out) == (1, ""), (code, out[:200])
    assert err.count("\n") == 1 and "url" in err, err
