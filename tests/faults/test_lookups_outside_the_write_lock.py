"""A blocker escalated to "Executive decision" may be resolved, reopened or taken over by an
executive, whom Slack lists in a user group (usergroups.users.list). That look-up went out
while the write transaction was open: on SQLite the whole database's write lock was held
for as long as Slack took (up to the look-ups' 1 s), and every other writer — an ingest,
another team's command, the outbox marking a post sent — waited behind it. Each test
checks, at the moment Slack is asked, whether a writer could begin."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import make_url
from sqlmodel import select

from bot.ids import View
from jobs.blockers import ResolveField
from storage.models import Blocker
from tests.support.e2e import ANSWER, click, submit, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

EXEC = "U0EXEC"


@pytest.fixture
def locked_at_lookup(server: Server, database_url: str) -> Iterator[list[bool]]:
    """Whether the write lock was held at each usergroups.users.list call."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("one write lock for the whole database is SQLite's")
    fake, seen, answer = server.slack, [], server.slack._answer

    def probing(method: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
        if method == "usergroups.users.list":
            # Waiting half a second: a writer of its own thread (the ready figures' store)
            # lets go in milliseconds, where the request's transaction, were it open, would
            # wait on this very answer (without it, the test failed one run in a few).
            probe = sqlite3.connect(str(url.database), timeout=0.5, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                seen.append(False)
            except sqlite3.OperationalError:  # database is locked
                seen.append(True)
            finally:
                probe.close()
        return answer(method, args, headers)

    fake._answer = probing  # type: ignore[method-assign]
    yield seen
    fake._answer = answer  # type: ignore[method-assign]


def _at_executive_decision(server: Server) -> None:
    filed = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock under partition")
    assert "B-001 filed" in filed.json()["text"]
    with server.runtime.db.session() as s:
        blocker = s.exec(select(Blocker)).one()
        blocker.escalation_level = len(server.runtime.sprint.escalation)
        blocker.owner = "U0DEV"  # someone else owns it
        s.add(blocker)
        s.commit()
    server.slack.usergroups["S0EXECUTIVES"] = [EXEC]


def _blocker(server: Server) -> Blocker:
    with server.runtime.db.read() as s:
        blocker = s.get(Blocker, 1)
        assert blocker is not None
        return blocker


def _by_command(server: Server) -> None:
    got = slash(server.url, "/blocker", "resolve B-001 the partition heals", user_id=EXEC)
    assert "B-001 resolved" in got.json()["text"]


def _by_form(server: Server) -> None:
    note = {ResolveField.NOTE: {"value": {"type": "plain_text_input", "value": "healed"}}}
    got = view_submit(
        server, View.BLOCKER_RESOLVE, EXEC, {"values": note}, {"blocker": 1}, view_id="V9"
    )
    assert got.status_code == 200 and not got.content, got.text


def _by_standup(server: Server) -> None:
    got = submit(server, EXEC, **{**ANSWER, "blockers_resolved": ["1"]})
    assert got.status_code == 200 and not got.content, got.text


@pytest.mark.parametrize(
    "resolve",
    [_by_command, _by_form, _by_standup],
    ids=["/blocker resolve", "its form", "the standup"],
)
def test_an_executive_resolving_holds_no_write_lock_while_slack_lists_the_group(
    server: Server, locked_at_lookup: list[bool], resolve: Callable[[Server], None]
) -> None:
    _at_executive_decision(server)
    resolve(server)
    listeners_done()
    assert _blocker(server).resolved_by == EXEC
    assert locked_at_lookup, "the executives' group was not looked up"
    assert not any(locked_at_lookup), "Slack was asked while the write lock was held"


def test_reopening_and_taking_over_hold_no_write_lock_while_slack_lists_the_group(
    server: Server, locked_at_lookup: list[bool]
) -> None:
    _at_executive_decision(server)
    _by_command(server)
    got = slash(server.url, "/blocker", "reopen B-001 it came back", user_id=EXEC)
    assert "reopened" in got.json()["text"], got.json()
    reopened = len(locked_at_lookup)
    assert reopened >= 2
    taken = click(server, "blocker_ack", "1@U0DEV", user=EXEC, channel="CCRITICALBLOCKERS")
    assert taken.status_code == 200
    listeners_done()
    assert _blocker(server).owner == EXEC
    assert not any(locked_at_lookup), "Slack was asked while the write lock was held"
    assert len(locked_at_lookup) > reopened, "taking it over looked nobody up"
