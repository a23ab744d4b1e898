"""A test that passed and then failed on the same commit is flaky (DESIGN "Test owners,
flaky tests": "a pass and a failure of one test on the same commit"), never a regression
— unless the commit's CI run was split into more than 20 shard reports: the judge reads
only the commit's newest 20 reports (`storage.queries.quarantine.commit_reports`,
`.limit(20)`), so the shard that passed the test is not seen, and the re-run shard's
failure raises a regression alert and a readiness-decline notice.
"""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, posts, text_of
from tests.support.reports import report
from tests.support.server import Server

SHARDS = 21  # a 21-job test matrix


def upload(server: Server, doc: bytes, **query: str) -> dict:
    got = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=doc, headers=AUTH, timeout=30
    )
    assert got.status_code == 201, got.text
    return got.json()


def test_a_failure_on_a_commit_whose_other_shard_passed_it_is_flaky(server: Server) -> None:
    # Commit c1: shard 0 holds `swarm/a`, the other shards their own tests; all pass.
    for shard in range(SHARDS):
        upload(server, report({f"swarm/t{shard}": "passed"}), run="ci-1", commit="c1")
    upload(server, report({"swarm/a": "passed"}), run="ci-1", commit="c1")
    for shard in range(SHARDS):
        upload(server, report({f"cli/t{shard}": "passed"}), run="ci-1", commit="c1")
    # CI re-runs the first shard of the same commit (same run id, as GitHub's "re-run
    # failed jobs" keeps it): `a` fails this time.
    rerun = upload(server, report({"swarm/a": "failed"}), run="ci-1", commit="c1")
    assert rerun["regressions"] == [], "a pass and a failure on commit c1: flaky, not a regression"
    assert rerun["alert"] is None
    assert [t["why"] for t in rerun["flaky_found"]] == ["passed on another run of c1"]
    server.runtime.sender.drain()
    assert not [p for p in posts(server) if "regressed on main" in text_of(p)]
