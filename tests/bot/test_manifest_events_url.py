"""A new team pastes the request URL Slack will call (`https://bot.example.com/slack/events`,
what Slack's pages call "the Request URL", and what `sprintbot doctor --url` accepts) into
`sprintbot manifest`: the manifest sends everything there (found by review: to
`…/slack/events/slack/events`, a path nothing serves, so Slack's URL check failed)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "url", ["https://bot.example.com/slack/events", "https://bot.example.com/slack/events/"]
)
def test_manifest_for_the_events_url_does_not_double_its_path(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code = main(["manifest", url])
    out, err = capsys.readouterr()
    if code == 2:  # refused with one line saying to give the base URL: acceptable too
        assert "https://bot.example.com" in err, err
        return
    assert code == 0, (code, err)
    manifest = json.loads(out)
    urls = {c["url"] for c in manifest["features"]["slash_commands"]}
    urls.add(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.add(manifest["settings"]["interactivity"]["request_url"])
    assert urls == {"https://bot.example.com/slack/events"}, urls
