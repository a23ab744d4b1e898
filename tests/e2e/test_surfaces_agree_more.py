"""Surfaces that disagreed on one figure (each found by review): a quarantine past its
time, a benchmark at the end's instant, a CI run after the end, a sprint scored by hand
alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_figures import local, sprint_json
from tests.e2e.test_figures_agree_more import MANUAL_SPRINT
from tests.e2e.test_surfaces_agree import _quarantined_for_an_hour
from tests.support.e2e import at, blocks_text
from tests.support.slack import slash


@pytest.mark.usefixtures("quick_pace")
def test_figures_kept_ready_let_a_quarantine_go_at_its_until(
    make_server: Any, tmp_path: Path
) -> None:
    """c3 fails and is quarantined for 1h (`exclude`: left out of Core). Three minutes
    after its `until`, before the clock's 5-minute expiry tick writes the release, nothing
    was written: GET /api/v1/sprint (the figures kept ready, built at the quarantine and
    held to midnight) still counts 1 quarantined and 62.5 %, `?at=` the same instant 0
    and 50 %; /sprint and /readiness show the stale figures beside them. The figures kept
    ready now hold only until the quarantine's time ends."""
    server, when, _ = _quarantined_for_an_hour(make_server, tmp_path, "core.test_b::c3")
    held = sprint_json(server)
    assert held["tests"]["quarantined"] == 1
    after = when + timedelta(hours=1, minutes=3)
    at(server, after)
    now = sprint_json(server)
    asked = sprint_json(server, at=after.isoformat())
    shown = blocks_text(slash(server.url, "/readiness", user_id="U0DEV").json()["blocks"])
    overall = shown[shown.index("*Overall*") :].splitlines()[1]
    assert asked["tests"]["quarantined"] == 0
    assert (now["tests"]["quarantined"], now["readiness"]["score"]) == (
        asked["tests"]["quarantined"],
        asked["readiness"]["score"],
    ), ("/readiness: " + overall, now["readiness"]["score"], asked["readiness"]["score"])
    assert f"{asked['readiness']['score']:g} %" == overall, overall


METRIC_SPRINT = """
[[metrics]]
name = "latency"
label = "Latency"
unit = "ms"
target = 100.0
better = "lower"
baseline = 150.0

[[components]]
name = "Speed"
weight = 1
target = 90
source = "metrics"
metrics = ["latency"]
score = 0
"""


@pytest.mark.usefixtures("quick_pace")
def test_a_benchmark_received_at_the_ends_instant_is_not_the_ended_sprints(
    make_server: Any, tmp_path: Path
) -> None:
    """The hand sprint plus a metrics component, Speed (latency, target ≤ 100 ms). A
    benchmark posted at 2025-11-03 00:00 New York, the first instant after the last day
    (the next sprint's, as a CI run then is): the ended sprint's readiness leaves it out
    (Speed keeps its 0), but its "benchmarks met" counts it (1 of 1) — the same answer's
    Speed component scored 0 % of its one benchmark met."""
    from datetime import date, time

    from jobs.numbers import local_instant
    from tests.e2e.test_figures import RUNS, SPRINT, send_run
    from tests.e2e.test_metrics_and_email import post_metrics

    path = tmp_path / "metric.toml"
    path.write_text(SPRINT + METRIC_SPRINT)
    server = make_server(SPRINTBOT_CONFIG=str(path))
    for when, run, statuses in RUNS:
        send_run(server, when, run, statuses)
    midnight = local_instant(server.runtime.sprint.sprint, date(2025, 11, 3), time(0))
    at(server, midnight)
    assert post_metrics(server, {"metrics": {"latency": 80}}).status_code == 201
    at(server, midnight + timedelta(hours=9))
    body = sprint_json(server)
    assert body["sprint"]["status"] == "ended"
    speed = next(
        c
        for g in body["readiness"]["breakdown"]["groups"]
        for c in g["components"]
        if c["name"] == "Speed"
    )
    shown = (speed["score"], body["benchmarks"]["met"], body["benchmarks"]["of"])
    # One rule for what the ended sprint took in: both, or neither, have the 80 ms.
    assert (speed["score"] == 100.0) == (body["benchmarks"]["met"] == 1), shown


@pytest.mark.usefixtures("quick_pace")
def test_the_ingest_reply_after_the_end_shows_no_readiness_the_sprint_never_had(
    hand_sprint: Any,
) -> None:
    """The day after the last day, CI reports c2 failing and the rest passing. The ended
    sprint's figures are its final ones on every surface (DESIGN: "CI results ... that come
    later are not the sprint's"): GET /api/v1/sprint says 54.17 %. The ingest's reply said
    readiness moved 54.17 → 81.25, a figure no surface of any sprint shows."""
    from datetime import date, time

    from jobs.numbers import local_instant
    from tests.e2e.test_figures import FILES, send_run

    server, _ = hand_sprint
    after = local_instant(server.runtime.sprint.sprint, date(2025, 11, 3), time(10))
    reply = send_run(server, after, "late", {**dict.fromkeys(FILES, "P"), "c2": "F"})
    body = sprint_json(server)
    assert body["sprint"]["status"] == "ended"
    assert body["readiness"]["score"] == 54.17
    assert reply["readiness"]["score"] == body["readiness"]["score"], reply["readiness"]


# The manual sprint (tests/e2e/test_figures_agree_more.py) without its tested component.
MANUAL_ONLY = MANUAL_SPRINT.replace(
    '[[components]]\nname = "Core"\nweight = 1\ntarget = 90\nsource = "tests"\n'
    'tests = ["core/**"]\n\n',
    "",
)


@pytest.mark.usefixtures("quick_pace")
def test_a_sprint_without_tests_has_a_change_since_yesterday(
    make_server: Any, tmp_path: Path
) -> None:
    """A sprint scored by hand alone (one manual component, no tests). Docs is set to 60 on
    day 1 and 70 on day 2. On day 3 the burn-down says day 1 ended at 60 % and day 2 at
    70 %, today 70 % — but "readiness when yesterday began" (`previous`) was null and the
    change since yesterday n/a, on the API and /sprint: `_previous` wanted known tests."""
    from tests.support.listeners import listeners_done

    assert "core/**" not in MANUAL_ONLY and 'name = "Docs"' in MANUAL_ONLY
    path = tmp_path / "docs.toml"
    path.write_text(MANUAL_ONLY)
    server = make_server(SPRINTBOT_CONFIG=str(path))
    for day, score in ((1, 60), (2, 70)):
        at(server, local(day, 11))
        resp = slash(server.url, "/readiness", f"set Docs {score}", user_id="U0DEV")
        assert resp.status_code == 200, resp.text
        listeners_done()
    at(server, local(3, 12))
    body = sprint_json(server)
    burn = {d["day"]: d["readiness"] for d in body["burndown"]}
    assert (burn[1], burn[2], body["readiness"]["score"]) == (60.0, 70.0, 70.0), burn
    r = body["readiness"]
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    line = next(x for x in text.splitlines() if x.startswith("70 %"))
    assert (r["previous"], r["change_since_yesterday"]) == (60.0, 10.0), (r, line)
