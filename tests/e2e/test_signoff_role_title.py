"""A sign-off role is a key of the sprint file's [people] table: any TOML key. Its title
("QA Lead") is shown in the sign-off request the bot posts to the status channel and in
the tracker export; it is sprint-file text like the milestone's name beside it, and must
show as typed (no broadcast, no forged link, no HTML tag GitHub drops)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import tests
from bot import cli
from tests.support.e2e import T0, at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server, cli_env
from tests.support.slack import slash

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"


def _sprint_file(tmp_path: Path, role: str) -> Path:
    text = EXAMPLE.read_text("utf-8")
    people = 'qa_lead = ["U0QALEAD"]\n'
    assert people in text
    text = text.replace(people, people + f'{json.dumps(role)} = ["U0QALEAD"]\n', 1)
    old = 'signoffs = ["tech_lead", "qa_lead", "product_owner"]'
    assert old in text
    text = text.replace(old, f'signoffs = ["tech_lead", {json.dumps(role)}]', 1)
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _request_mrkdwn(server: Server) -> str:
    """`/sprint signoff 7` by the tech lead: the mrkdwn of the request posted (its text,
    sections and context; not the buttons' plain-text labels)."""
    answer = slash(server.url, "/sprint", "signoff 7", user_id="U0TECHLEAD").json()
    assert answer["text"].startswith("Posting the sign-off request"), answer
    listeners_done()
    server.runtime.sender.drain()
    request = next(p for p in posts(server) if text_of(p).startswith("Sign-off"))
    blocks = request.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    out = [request.args["text"]]
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        if b["type"] == "context":
            out += [e.get("text", "") for e in b["elements"]]
    return "\n".join(out)


def test_signoff_request_shows_a_role_named_with_a_broadcast_as_typed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The sprint file names a sign-off role `"qa <!channel> <https://evil.example|lead>"`
    in [people] and in day 7's `signoffs`. The tech lead runs `/sprint signoff 7`: the
    request posted to #sprint-status says "Sign-offs: … :hourglass_flowing_sand: QA
    <!channel> <https://evil.example|lead>" in mrkdwn, raw, so Slack notifies the whole
    channel and draws a link to evil.example labelled "lead". The role's title should
    show as typed (`&lt;!channel&gt;`), as the milestone's name in the same message does
    (bot/blocks/review.py `_signoff_text` writes `role_title(role)` unescaped)."""
    role = "qa <!channel> <https://evil.example|lead>"
    server = make_server(SPRINTBOT_CONFIG=str(_sprint_file(tmp_path, role)))
    at(server, T0)
    shown = _request_mrkdwn(server)
    assert "Sign-offs:" in shown, shown
    for raw in ("<!channel>", "<https://evil"):
        assert raw not in shown, shown
    assert "&lt;!channel&gt;" in shown, shown


def test_tracker_shows_a_role_with_angle_brackets_as_typed(
    make_server: Callable[..., Server],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sign-off role `"sre <oncall>"` (the on-call SRE). `sprintbot export tracker` lists
    day 7's "Sign-off Required:" as "- [ ] Sre <oncall> approval": GitHub drops
    `<oncall>` as an unknown HTML tag, so the checklist reads "Sre approval". Everything
    else the sprint file typed is escaped there (`jobs/tracker.py` `_typed`: "`<lambda>`
    an HTML tag GitHub drops"); the role's title is not (`_milestones` writes
    `milestones.role_title(s.role)` raw). It should read `Sre \\<oncall\\> approval`."""
    path = _sprint_file(tmp_path, "sre <oncall>")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0)
    cli_env(monkeypatch, server, path)
    out = tmp_path / "tracker.md"
    capsys.readouterr()
    code = cli.main(["export", "tracker", "--out", str(out), "--at", T0.isoformat()])
    _, err = capsys.readouterr()
    assert code == 0, err
    doc = out.read_text()
    line = next(x for x in doc.splitlines() if "approval" in x and "Sre" in x)
    assert "<oncall>" not in line, line
    assert "\\<oncall\\>" in line, line


MILESTONE = "Week 1 checkpoint with <@U0VICTIM> and <!subteam^S0EXEC>"


def test_second_signoff_refusal_mentions_no_one_named_in_the_milestone(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Day 7's milestone is named "Week 1 checkpoint with <@U0VICTIM> and
    <!subteam^S0EXEC>" in the sprint file. The tech lead clicks "Sign off as Tech Lead",
    then clicks it again (a double click). The refusal "Tech Lead has already signed off
    Week 1 checkpoint with <@U0VICTIM> and <!subteam^S0EXEC>." keeps both as live
    mentions: `reply` keeps every `<@U…>`/`<!subteam^…>` it finds in a SprintError's text
    unless the user typed it, and the milestone's name (sprint-file text) is put into the
    error raw (jobs/milestones.py `sign_off`). `/sprint signoff` shows the same name
    escaped (`&lt;@U0VICTIM&gt;`, tests/e2e/test_signoff_ack_milestone_name_raw.py); the
    refusal should too."""
    from tests.support.e2e import click, responses

    text = EXAMPLE.read_text("utf-8")
    old = '"Week 1 checkpoint: 78% production ready"'
    assert old in text
    path = tmp_path / "sprint.toml"
    path.write_text(text.replace(old, json.dumps(MILESTONE)), encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0)
    slash(server.url, "/sprint", "signoff 7", user_id="U0TECHLEAD")
    listeners_done()
    server.runtime.sender.drain()
    request = next(p for p in posts(server) if text_of(p).startswith("Sign-off"))
    blocks = request.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    [actions] = [b for b in blocks if b["type"] == "actions"]
    tech = actions["elements"][0]
    assert tech["text"]["text"] == "Sign off as Tech Lead"
    for _ in range(2):
        click(server, tech["action_id"], tech["value"], user="U0TECHLEAD", channel="C0STATUS")
        listeners_done()
    refusal = responses(server, 1)[-1].args["text"]
    assert "already signed off" in refusal, refusal
    assert "<@U0VICTIM>" not in refusal, refusal
    assert "<!subteam^S0EXEC>" not in refusal, refusal
