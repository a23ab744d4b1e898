"""`sprintbot manifest URL` (and `doctor --url URL`) take a base URL whose port no URL can
have: `https://bot.example.com:99999` prints a manifest whose every request URL is
`https://bot.example.com:99999/slack/events` (exit 0; Slack refuses it only when the app is
created). bot.doctor.url_problem checks scheme, host, spaces, query and fragment from
urlsplit but never reads `.port`, which is where urlsplit refuses 99999."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("url", ["https://bot.example.com:99999", "https://bot.example.com:x"])
def test_manifest_refuses_a_url_with_an_impossible_port(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    try:
        code: object = main(["manifest", url])
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert (code, out, err.count("\n")) == (2, "", 1), (code, out[:120], err)
    assert url in err, err
