"""The burn-down chart as Slack shows it: every label inside the picture, whatever the counts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bot.charts import burndown_png


def _chart(failing: list[int], planned: list[int]) -> dict[str, Any]:
    points = [
        {"day": d + 1, "planned": p, "failing": failing[d] if d < len(failing) else None}
        for d, p in enumerate(planned)
    ]
    return {"name": "Phase 4", "day": len(failing), "days": len(planned), "burndown": points}


@pytest.mark.parametrize(
    ("failing", "planned"),
    [
        ([0, 0, 0], [0, 0, 0, 0]),  # nothing failing
        ([5], [5]),  # a one-day sprint
        ([3, 2], [3, 2, 1, 0]),  # a handful
        ([99, 80], [99, 60, 30, 0]),
        ([99_999, 80_000], [99_999, 60_000, 30_000, 0]),
        ([1_200_000, 1_100_000], [1_200_000, 800_000, 400_000, 0]),
    ],
)
def test_the_y_axis_and_its_label_stay_inside_the_picture(
    failing: list[int], planned: list[int]
) -> None:
    """Fault: margins sized from the counts' digits cut off "Failing tests" where the axis
    shows fewer or more characters than the counts have (0.045, 100, 1e6)."""
    image = Image.open(io.BytesIO(burndown_png(_chart(failing, planned)))).convert("L")
    edge = [image.getpixel((x, y)) for x in range(3) for y in range(image.height)]
    assert min(edge) == 255  # nothing drawn at the left edge: no text runs off it


def test_the_title_is_placed_where_matplotlib_would_put_it() -> None:
    """The title is placed, not measured (`set_title(..., y=1.0)`), which gives the same
    pixels as matplotlib's own placement only while nothing is drawn above the plot: with
    counts in millions the y axis wrote its multiplier ("1e6") there, and a long sprint
    name's title covered it. (Found by review.)"""
    from matplotlib.axes import Axes

    data = _chart([1_200_000, 1_100_000], [1_200_000, 800_000, 400_000, 0])
    data["name"] = "Platform reliability: Q4 hardening and flaky-test cleanup"
    placed = Image.open(io.BytesIO(burndown_png(data))).convert("RGB")
    original = Axes.set_title

    def measured_title(self: Axes, label: str, *args: Any, y: Any = None, **kw: Any) -> Any:
        return original(self, label, *args, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Axes, "set_title", measured_title)
        measured = Image.open(io.BytesIO(burndown_png(data))).convert("RGB")
    assert placed.tobytes() == measured.tobytes()
