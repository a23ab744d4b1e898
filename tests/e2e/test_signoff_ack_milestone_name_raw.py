"""`/sprint signoff` acknowledges with the milestone's name from the sprint file, unescaped:
a name holding `<!channel>`, `<@U…>` or `<https://…|label>` is drawn by Slack as a live
broadcast, a mention and a forged link in the ephemeral answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import tests
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"
NAME = "Week 1 <!channel> review with <@U0VICTIM>: <https://evil.example|agenda>"


def test_signoff_ack_escapes_the_milestone_name(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    text = EXAMPLE.read_text("utf-8")
    old = '"Week 1 checkpoint: 78% production ready"'
    assert old in text
    path = tmp_path / "sprint.toml"
    path.write_text(text.replace(old, json.dumps(NAME)), encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0)
    answer = slash(server.url, "/sprint", "signoff 7", user_id="U0TECHLEAD").json()
    said = answer["text"]
    assert said.startswith("Posting the sign-off request for "), answer
    # What the user sees: the name as typed, not a broadcast / mention / link.
    for raw in ("<!channel>", "<@U0VICTIM>", "<https://evil"):
        assert raw not in said, said
    assert "&lt;!channel&gt;" in said, said
