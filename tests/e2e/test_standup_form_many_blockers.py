"""A team with many open blockers (400): /standup opens its form, offering the first 100
and saying how many more (found by review: the form's metadata, how often each open blocker
had been resolved, outgrew Slack's 3,000 characters, and no form opened)."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Blocker
from tests.support.e2e import T0, at, opened
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def test_the_standup_form_opens_with_400_open_blockers(server: Server) -> None:
    at(server, T0)
    with server.runtime.db.session() as session:
        for i in range(400):
            session.add(
                Blocker(
                    component="Core",
                    description=f"flaky runner pool {i:03}",
                    severity="P2",
                    reported_by="U0DEV",
                    reported_at=T0 - timedelta(hours=24) + timedelta(minutes=i),
                )
            )
        session.commit()
    reply = slash(server.url, "/standup", user_id="U0DEV")
    listeners_done()
    calls = server.slack.calls_to("views.open")
    said = [c.args for c in server.slack.calls if c.method.startswith("response/")]
    assert calls, f"no form opened; the user was told: {reply.text[:200]!r} {said!r:.300}"
    meta = opened(server)[-1].get("private_metadata") or ""
    assert len(meta) <= 3000, f"private_metadata is {len(meta)} characters (Slack: at most 3000)"
