"""The flaky notice's button names the quarantine's length as the sprint file wrote it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jobs import quarantine
from jobs.config import Flaky


def test_a_quarantine_for_written_in_hours_is_not_labelled_in_calendar_days() -> None:
    """The team writes `[flaky] quarantine_for = "48h"`. Since today a period written in
    hours is that many hours (jobs/config.py `Hours`, jobs/quarantine.py `ends`) while one
    written in days counts calendar days. The flaky notice's button is labelled from
    `quarantine.period_text` (jobs/ingest.py), which still reads 48 hours as "2d": the
    team sees "Quarantine for 2d", a calendar-day period, and across the fall-back the
    quarantine it starts ends an hour before 2 calendar days would (48 h, not 49 h). The
    button should say "Quarantine for 48h", what the file says and the quarantine does."""
    period = Flaky(quarantine_for="48h").quarantine_for
    label = quarantine.period_text(period)
    # What "2d" means now: 2 calendar days; what 48h does: 48 hours.
    tz = ZoneInfo("America/New_York")
    now = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)  # the day before the fall-back
    from jobs.config import parse_duration

    by_label = quarantine.ends(now, parse_duration(label), tz)
    by_file = quarantine.ends(now, period, tz)
    assert by_label == by_file, (
        f'the button says "Quarantine for {label}" (ending {by_label}) but the quarantine '
        f"it starts ends {by_file}"
    )
