"""The demo sprint's real report and App Home data, for the renderers' tests."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo import build
from jobs import reports
from jobs.config import Sprint
from storage.db import Database
from storage.migrate import upgrade


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory, example: Sprint) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db"
    upgrade(url)
    db = Database.from_url(url)
    demo = build(example, db)
    now = demo.at(7, example.schedule.daily_report)
    with db.session() as s:
        data = {
            "daily": reports.daily_report(session=s, sprint=example, participants=[], now=now),
            "weekly": reports.weekly_report(session=s, sprint=example, participants=[], now=now),
            "home": reports.home(
                session=s, sprint=example, now=now, user_id="U0DEV1", participants=[]
            ),
        }
    db.dispose()
    return data
