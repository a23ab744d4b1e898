"""Bad input that got a traceback, "something went wrong" or a silent answer (each found
by review): each now gets a clear error and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import Server
from tests.support.slack import slash

ROOT = Path(__file__).resolve().parents[2]
SORRY = "something went wrong on sprintbot's side"


def test_a_quarantine_for_an_absurd_number_of_days_is_refused_saying_why(server: Server) -> None:
    """`for 99999999999999999999d` matches the duration pattern; `timedelta(days=…)` then
    raises OverflowError (not the ValueError `parse_period` turns into a usage line): the
    user is told "something went wrong on sprintbot's side" instead of the 1h..365d range."""
    resp = slash(server.url, "/tests", "quarantine 1 for 99999999999999999999d")
    assert resp.status_code == 200
    text = resp.json()["text"]
    assert SORRY not in text, text
    assert "365d" in text, text


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('after = "8h"', 'after = "99999999999999999999d"'),
        ('regression_ack = "1h"', 'regression_ack = "99999999999999999999w"'),
    ],
    ids=["escalation-after", "regression_ack"],
)
def test_config_check_refuses_an_absurd_duration_in_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    """A duration too long for a timedelta raises OverflowError inside the pydantic
    validator, which pydantic does not turn into a validation error: a traceback instead
    of "FILE: 1 error" naming the key."""
    example = (ROOT / "sprint.example.toml").read_text("utf-8")
    assert old in example
    path = tmp_path / "sprint.toml"
    path.write_text(example.replace(old, new, 1), encoding="utf-8")
    try:
        code: object = main(["config", "check", str(path)])
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert code == 1, code
    assert out == ""
    assert err.startswith(f"{path}: 1 error"), err


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/blocker", "list mobile"),
        ("/risk", "list mobile"),
        ("/tests", "slow mobile"),
        ("/tests", "quarantined mobile"),
    ],
)
def test_a_listing_with_words_after_it_says_it_takes_none(
    server: Server, command: str, text: str
) -> None:
    """`/readiness show mobile` and `/sprint history mobile` are refused ("takes nothing
    after it": another team's is `/CMD TEAM ...`); these listings drop the words without a
    word and answer this team's list, as if it were what was asked."""
    resp = slash(server.url, command, text)
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    assert "takes nothing after it" in body["text"] and '"mobile"' in body["text"], body["text"]


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("name", ["", "   ", "x" * 100])
def test_manifest_refuses_a_name_slack_will_not_take(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """`--name` goes unchecked into display_information.name and bot_user.display_name:
    an empty name (Slack requires one; its manifest reference caps it at 35 characters)
    prints a manifest and exits 0, and Slack refuses it only when the app is created."""
    try:
        code: object = main(["manifest", "https://bot.example.com", "--name", name])
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert (code, out, err.count("\n")) == (2, "", 1), (code, out[:80], err)
