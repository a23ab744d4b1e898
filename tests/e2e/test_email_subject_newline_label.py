"""A benchmark label written over two lines in the sprint file (a triple-quoted
TOML string holding a line end) goes into the performance alert e-mail's
Subject as it is; Python's e-mail library refuses a header holding a line end, so the
outbox fails the e-mail for good and the leads never get the copy. The Slack alert is
posted; only the e-mail is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import select

import tests
from storage.models import OutboxMessage, OutboxStatus
from tests.e2e.test_metrics_and_email import post_metrics, smtp  # noqa: F401  (fixture)
from tests.support.e2e import T0, at
from tests.support.server import Server

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"


def test_a_two_line_label_still_gets_its_alert_emailed(
    make_server: Callable[..., Server],
    tmp_path: Path,
    smtp: tuple[int, list[Any]],  # noqa: F811
) -> None:
    port, received = smtp
    text = EXAMPLE.read_text("utf-8").replace("email_to = []", 'email_to = ["leads@example.com"]')
    old = 'label = "API Throughput"'
    assert old in text
    text = text.replace(old, 'label = """API Throughput\n(p95, staging)"""')
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    server = make_server(
        SPRINTBOT_CONFIG=str(path),
        SPRINTBOT_SMTP_URL=f"smtp://127.0.0.1:{port}?from=bot@example.com",
    )
    at(server, T0)
    assert post_metrics(server, {"metrics": {"api_throughput": 500}}).status_code == 201
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        failed = [
            (m.key, m.last_error)
            for m in s.exec(select(OutboxMessage))
            if m.status != OutboxStatus.SENT
        ]
    assert failed == []
    assert len(received) == 1
