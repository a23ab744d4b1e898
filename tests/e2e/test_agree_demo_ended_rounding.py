"""`sprintbot demo` prints how the first sprint ended with readiness to one decimal
("78.2% → 83.5%") while the /sprint history printed just below it (and every other
surface, `numbers.pct`) shows the same sprint's final readiness as 83.54 %."""

from __future__ import annotations

import re
from pathlib import Path

from bot.demo import run_demo


def test_demo_ended_line_shows_the_final_readiness_every_surface_shows(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(tmp_path / "demo", echo=lines.append)
    out = "\n".join(lines)
    ended = next(ln for ln in out.splitlines() if " ended on " in ln and "readiness" in ln)
    name = ended.split(" ended on ")[0]
    # /sprint history's row for the same sprint: "Readiness A % → B % (…)".
    hist_at = out.index(f"\n{name} (")
    history = out[hist_at:].splitlines()[2]
    m = re.match(r"Readiness ([\d.]+) % → ([\d.]+) %", history)
    assert m, history
    start, end = m.groups()
    shown = re.search(r"readiness ([\d.]+) ?% → ([\d.]+) ?% \(", ended)
    assert shown, ended
    # The same two values as every other surface renders them (`numbers.pct`: 2 decimals).
    assert (float(shown[1]), float(shown[2])) == (float(start), float(end)), (ended, history)
