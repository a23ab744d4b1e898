"""The documentation under docs/ (and the README) cannot silently fall behind the code: every
relative link and anchor resolves, every CLI command and option, setting, sprint-file key,
HTTP route and slash-command word is documented, the tables copied from the code equal it,
and the deployment files run commands that exist."""

from __future__ import annotations

import argparse
import re
import shlex
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.cli import build_parser
from bot.clock import readme_table
from bot.listeners.commands import WORDS
from bot.settings import Settings
from jobs.config import Sprint, TeamInfo
from jobs.permissions import WHO_MAY, Action

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """Markdown without its code blocks and code spans (links there are not links)."""
    return CODE.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        where, _, anchor = target.partition("#")
        path = (page.parent / where).resolve() if where else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert broken == []


def test_the_readme_points_to_docs_not_to_a_design_file_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "DESIGN.md" not in readme
    linked = {t.split("#")[0] for t in LINK.findall(_prose(readme))}
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"docs/{page.name}" in linked, page.name


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every runnable command of the parser with its words (`db upgrade`, `job run`)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(prefix.strip(), parser)]
    out = []
    for name, sub in subs[0].choices.items():
        out += _commands(sub, f"{prefix}{name} ")
    return out


def test_every_cli_command_and_option_is_documented() -> None:
    cli = _read("cli.md")
    commands = _commands(build_parser())
    assert len(commands) >= 12
    for words, parser in commands:
        assert f"`sprintbot {words}" in cli, words
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in cli, f"sprintbot {words} {option}"


def test_every_setting_is_documented() -> None:
    settings = _read("settings.md")
    for name in Settings.model_fields:
        assert f"| `{name}` |" in settings, name


def _models(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (`X`, `list[X]`, `X | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def test_every_sprint_file_table_and_key_is_documented() -> None:
    doc = _read("sprint-file.md")
    for table, field in Sprint.model_fields.items():
        assert re.search(rf"\[\[?{table}\]?\]", doc), f"[{table}]"
        models = _models(field.annotation)
        while models:  # the table's keys, and those of the tables within it
            model = models.pop()
            for key, inner in model.model_fields.items():
                assert f"`{key}`" in doc, f"{table}: {model.__name__}.{key}"
                models += _models(inner.annotation)
    for key in TeamInfo.model_fields:
        assert f"`{key}`" in doc, f"team.{key}"


def test_every_http_route_is_documented() -> None:
    source = (ROOT / "bot" / "web.py").read_text(encoding="utf-8")
    routes = re.findall(r'Route\("([^"]+)", .*methods=\["(\w+)"\]\)', source)
    assert len(routes) >= 8
    api = _read("api.md")
    for path, method in routes:
        assert f"`{method} {path}`" in api, f"{method} {path}"


def test_every_slash_command_word_is_documented() -> None:
    slack = _read("slack.md").lower()
    for command, words in WORDS.items():
        assert f"`{command}`" in slack, command
        for word in sorted(words):
            assert f"`{command} {word}" in slack, f"{command} {word}"


def test_the_jobs_and_permission_tables_are_the_codes() -> None:
    # When a job changes, paste `bot.clock.readme_table()` into docs/cli.md.
    assert readme_table() in _read("cli.md")
    section = _read("permissions.md").split("| action | who may |", 1)[1]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in section.split("\n\n", 1)[0].splitlines()
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line)
    ]
    assert rows == [WHO_MAY[a] for a in Action]


def _run_lines() -> list[tuple[str, str]]:
    """(where, command) of every sprintbot command the deployment files run."""
    found = [
        ("Procfile", line.split(":", 1)[1].strip())
        for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                found.append((unit.name, line.split("=", 1)[1]))
    return found


def test_the_deployment_files_run_real_commands() -> None:
    lines = _run_lines()
    assert {where for where, _ in lines} >= {
        "Procfile",
        "sprintbot-migrate.service",
        "sprintbot-web.service",
        "sprintbot-clock.service",
        "sprintbot-run.service",
    }
    parser = build_parser()
    for where, line in lines:
        program, *args = shlex.split(line)
        assert Path(program).name == "sprintbot", where
        parser.parse_args(args)  # a usage error raises
    deploy = _read("deploy.md")
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        assert f"../deploy/systemd/{unit.name}" in deploy, unit.name
        text = unit.read_text(encoding="utf-8")
        assert "EnvironmentFile=/etc/sprintbot/sprintbot.env" in text, unit.name
        assert "User=sprintbot" in text, unit.name


def test_ci_runs_the_readmes_test_command_on_sqlite_and_postgresql_and_lint() -> None:
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```sh\nscripts/test\n```" in readme
    assert workflow.count("run: scripts/test") == 2
    assert "run: PYTHON=.venv/bin/python scripts/lint" in workflow
    assert 'python-version: "3.11"' in workflow
    assert "image: postgres:" in workflow
    assert "SPRINTBOT_TEST_DATABASE_URL: postgresql://postgres@127.0.0.1:5432/test" in workflow


def test_the_sprint_file_can_be_committed_for_a_deploy() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "sprint.toml" not in ignored and "*.toml" not in ignored
    assert ".env" in ignored  # the secrets stay out
    assert "git add sprint.toml" in _read("deploy.md")
