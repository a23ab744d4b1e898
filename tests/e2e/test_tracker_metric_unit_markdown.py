"""The tracker export shows a benchmark's label as typed (escaped for Markdown), but not
its unit: a `[[metrics]] unit` holding Markdown or HTML (`ms <p95>`, `__ops__/s`,
`[req/s](https://…)`) is rendered by GitHub as an HTML tag it drops, bold text or a live
link in the Performance Benchmarks and Code Quality Trends tables."""

from __future__ import annotations

from dataclasses import replace

from jobs import figures, tracker
from jobs.numbers import MetricState
from tests.jobs.test_tracker import hand_built, section, table

UNIT = "ms <p95> [docs](https://evil.example)"


def test_a_metric_unit_in_the_tracker_reads_as_typed() -> None:
    built = hand_built()
    sprint = built.sprint
    metric = sprint.metrics[0].model_copy(update={"unit": UNIT})
    sprint = sprint.model_copy(update={"metrics": [metric, *sprint.metrics[1:]]})
    fig = replace(
        built.fig,
        sprint=sprint,
        benchmarks=[figures.Benchmark(metric, 0.9, MetricState.MET)],
    )
    md = tracker.render(replace(built, sprint=sprint, fig=fig))
    rows = table(section(md, "### Performance Benchmarks"))
    row = next(r for r in rows if r[0] == "Swarm Init Time")
    # Label escaped as typed; the unit beside it must be too (GitHub would drop `<p95>`
    # as an HTML tag and draw `[docs](…)` as a live link).
    assert "<p95>" not in md, row
    assert "[docs](https://evil.example)" not in md, row
    assert r"\<p95\>" in row[2], row
