"""`sprintbot doctor`'s pieces: what it reads from the sprint files, the URLs it accepts,
the marks it prints, and what it says of a public URL that answers the wrong way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.doctor import (
    ASCII_MARKS,
    MARKS,
    Checklist,
    channels_named,
    check_public_url,
    marks_for,
    people_named,
    shown,
    url_problem,
)
from jobs.config import load_org
from tests.support.server import EXAMPLE, serve


def test_marks_fall_back_to_ascii_where_the_output_cannot_show_them() -> None:
    assert marks_for("utf-8") is MARKS
    assert marks_for("ascii") is ASCII_MARKS
    assert marks_for("latin-1") is ASCII_MARKS  # no ✓ in Latin-1
    assert marks_for(None) is ASCII_MARKS


def test_every_user_group_and_channel_of_the_file_is_found_with_where(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('notify = "executives"', 'notify = ["executives", "U0CTO", "#war-room"]')
    text = text.replace(
        '# [codeowners]\n# file = ".github/CODEOWNERS"',
        '[codeowners]\nfile = "CODEOWNERS"\nhandles = { "@acme/swarm" = "S0SWARM" }\n#',
    )
    (tmp_path / "CODEOWNERS").write_text("* @acme/swarm\n", encoding="utf-8")
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    org = load_org(path)

    users, groups = people_named(org)
    f = "sprint.toml"
    assert users == {
        "U0TECHLEAD": [(f, "people.tech_lead"), (f, "people.admins")],
        "U0QALEAD": [(f, "people.qa_lead"), (f, "people.admins")],
        "U0PRODOWNER": [(f, "people.product_owner")],
        "U0SECURITY": [(f, "people.security"), (f, "owners[0].notify")],
        "U0CTO": [(f, "escalation[3].notify")],
    }
    assert groups == {
        "S0EXECUTIVES": [(f, "people.executives")],
        "S0SWARM": [(f, 'codeowners.handles."@acme/swarm"')],
    }
    assert channels_named(org) == {
        "#phase4-production-readiness": [(f, "channels.team")],
        "#sprint-status": [(f, "channels.status")],
        "#critical-blockers": [(f, "channels.blockers")],
        "#war-room": [(f, "escalation[3].notify")],
    }


def test_where_a_name_is_used_is_said_per_file() -> None:
    assert (
        shown([("a.toml", "people.qa_lead"), ("b.toml", "people.admins"), ("a.toml", "x")])
        == "people.qa_lead, x in a.toml; people.admins in b.toml"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://bot.example.com", None),
        ("http://127.0.0.1:3000", None),
        ("http://localhost:3000/", None),
        ("http://[::1]:3000", None),
        (
            "http://bot.example.com",
            "--url 'http://bot.example.com': Slack calls https:// URLs only (http:// is for "
            "this machine, e.g. http://127.0.0.1:3000)",
        ),
        (
            "bot.example.com",
            "--url 'bot.example.com': give the bot's public base URL, e.g. https://bot.example.com",
        ),
    ],
)
def test_the_url_must_be_one_slack_can_call(url: str, problem: str | None) -> None:
    assert url_problem(url) == problem


async def _moved(_: Request) -> Response:
    return RedirectResponse("https://elsewhere.example.com/slack/events", status_code=301)


async def _broken(_: Request) -> Response:
    return PlainTextResponse("bad gateway", status_code=502)


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """A server that is not sprintbot: /moved/slack/events redirects, /broken/… fails."""
    app = Starlette(
        routes=[
            Route("/moved/slack/events", _moved, methods=["POST"]),
            Route("/broken/slack/events", _broken, methods=["POST"]),
        ]
    )
    url, stop = serve(app)
    yield url
    stop()


@pytest.mark.parametrize(
    ("path", "said", "fix"),
    [
        (
            "/moved",
            "redirects (301 to https://elsewhere.example.com/slack/events)",
            "Slack does not follow redirects: give the URL it ends at",
        ),
        (
            "/broken",
            "answered 502",
            "check that `sprintbot web` runs behind it and its logs",
        ),
        (
            "/nothing",
            "answered 404, nothing serves Slack's events there",
            "give the base URL `sprintbot web` is served at (the manifest's request URL without "
            "/slack/events)",
        ),
    ],
)
def test_a_public_url_answering_the_wrong_way_says_how(
    elsewhere: str, path: str, said: str, fix: str
) -> None:
    lines: list[str] = []
    checks = Checklist(lines.append)
    check_public_url(checks, elsewhere + path)
    assert lines == [f"✗ public URL {elsewhere}{path}/slack/events: {said}", f"    fix: {fix}"]
    assert not checks.ok
