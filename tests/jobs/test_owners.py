"""Test owners: CODEOWNERS as GitHub reads it, `[[owners]]` globs before it, the recorded
JUnit reports mapped to people, the sprint file's mistakes named by key, and the alerts,
follow-ups and mute notices that mention the owners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlmodel import Session

from bot.blocks import alerts
from bot.blocks.common import Message
from jobs import junit, notices
from jobs.config import ConfigError, Sprint, load_org, load_sprint, validate_sprint
from jobs.notices import AlertFollowup, RegressionShown
from jobs.owners import OwnerMap, parse_codeowners
from storage import queries
from storage.models import TestReport
from tests.support.e2e import blocks_text
from tests.support.outbox import queued
from tests.support.sprints import minimal

ROOT = Path(__file__).resolve().parents[2]
JUNIT = ROOT / "tests" / "fixtures" / "junit"
SAMPLE = ROOT / "tests" / "fixtures" / "sample"
T0 = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)

# GitHub's own example CODEOWNERS (docs: "About code owners"), trimmed, plus this repo's
# test folders: a file a team would really write.
CODEOWNERS = """\
# Lines starting with '#' are comments.
# These owners are the default owners for everything in the repo.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most precedence.
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github

# The test suite, by area
/tests/swarm/           @acme/swarm
/tests/cli/**           @alice
tests/memory/test_*.py  @bob @acme/swarm
!tests/ignored/         @nobody
tests/[ab]*/            @nobody
"""

HANDLES = {
    "@acme/swarm": "S0SWARM",
    "@alice": "U0ALICE",
    "@bob": "U0BOB",
    "@global-owner1": "U0GLOBAL",
    "@js-owner": "U0JS",
    "docs@example.com": "U0DOCS",
}


def sprint_with(tmp_path: Path, text: str = CODEOWNERS, **tables: Any) -> Sprint:
    (tmp_path / "CODEOWNERS").write_text(text)
    raw = minimal(codeowners={"file": "CODEOWNERS", "handles": HANDLES}, **tables)
    return validate_sprint(raw, path=str(tmp_path / "sprint.toml"))


def problems(raw: dict[str, Any], tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_sprint(raw, path=str(tmp_path / "sprint.toml"))
    return info.value.problems


# -- CODEOWNERS, as GitHub reads it --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ["@global-owner1", "@global-owner2"]),  # `*`: everything
        ("src/app.js", ["@js-owner"]),  # inline comment not a handle
        ("web/deep/x.js", ["@js-owner"]),  # a pattern without a slash: any depth
        ("cmd/main.go", ["docs@example.com"]),
        ("build/logs/today.log", ["@octocat"]),  # `**/logs` comes later and wins
        ("docs/getting-started.md", ["@doctocat"]),  # /docs/ comes after docs/*
        ("docs/build-app/troubleshooting.md", ["@doctocat"]),
        ("src/docs/x.md", ["@global-owner1", "@global-owner2"]),  # docs/* is anchored
        ("apps/x/y.py", []),  # /apps/github has no owners, but /apps/ is later
        ("tests/swarm/test_coordination.py", ["@acme/swarm"]),
        ("tests/swarm", ["@global-owner1", "@global-owner2"]),  # a trailing / : contents
        ("tests/cli/agent/test_agent_cmd.py", ["@alice"]),
        ("tests/memory/test_store.py", ["@bob", "@acme/swarm"]),
        ("tests/memory/conftest.py", ["@global-owner1", "@global-owner2"]),
        ("tests/ignored/x.py", ["@global-owner1", "@global-owner2"]),  # `!` is invalid
    ],
)
def test_codeowners_last_matching_pattern_wins(
    path: str, owners: list[str], tmp_path: Path
) -> None:
    rules = parse_codeowners(CODEOWNERS)
    winner = next((r for r in reversed(rules) if r.regex.fullmatch(path)), None)
    assert winner is not None
    assert OwnerMap(sprint_with(tmp_path)).rule_for(path) == winner  # one combined match
    handles = list(winner.handles)
    if path == "apps/x/y.py":
        # `/apps/github` (no owners) only owns apps/github; `/apps/` decides.
        assert handles == ["@octocat"]
    else:
        assert handles == owners


def test_codeowners_skips_comments_and_invalid_lines() -> None:
    rules = parse_codeowners(CODEOWNERS)
    assert [r.pattern for r in rules][:3] == ["*", "*.js", "*.go"]
    assert all(not r.pattern.startswith(("#", "!")) for r in rules)
    assert "tests/[ab]*/" not in [r.pattern for r in rules]
    assert next(r for r in rules if r.pattern == "/apps/github").handles == ()


# -- owners of the recorded reports ---------------------------------------------------------


def owners_of_report(owner_of: OwnerMap, name: str) -> dict[str, list[str]]:
    report = junit.parse((JUNIT / name).read_bytes())
    out = {}
    for i in range(len(report)):
        case = report.case(i)
        out[case.id] = owner_of(case.file, case.classname)
    return out


def test_recorded_pytest_runs_map_to_codeowners_handles_in_slack(tmp_path: Path) -> None:
    owner_of = OwnerMap(sprint_with(tmp_path))
    found = owners_of_report(owner_of, "pytest-xunit1-run2.xml")
    swarm = "tests.swarm.test_coordination::test_leader_election"
    assert found[swarm] == ["S0SWARM"]  # its file, tests/swarm/test_coordination.py
    assert found["tests.cli.agent.test_agent_cmd::test_list_json"] == ["U0ALICE"]
    assert found["tests.memory.test_store::test_snapshot"] == ["U0BOB", "S0SWARM"]
    # @global-owner2 has no Slack ID: only @global-owner1 is mentioned.
    assert found["tests.security.authz.test_roles::test_admin_can_write"] == ["U0GLOBAL"]
    assert owner_of.unmapped == [
        "@global-owner2",
        "@doctocat",
        "@octocat",
    ]  # @nobody: invalid lines


def test_class_names_without_a_file_are_read_as_module_paths(tmp_path: Path) -> None:
    owner_of = OwnerMap(sprint_with(tmp_path))
    found = owners_of_report(owner_of, "pytest-xunit2-run2.xml")  # xunit2: no `file`
    assert found["tests.swarm.test_coordination::test_leader_election"] == ["S0SWARM"]
    assert found["tests.memory.test_store::test_snapshot"] == ["U0BOB", "S0SWARM"]
    jest = owners_of_report(owner_of, "vitest-run2.xml")  # classname is the file
    assert jest["tests/swarm/coordination.test.js::swarm coordination > elects a leader"] == [
        "S0SWARM"
    ]


def test_owners_globs_come_first_and_the_first_entry_wins(tmp_path: Path) -> None:
    sprint = sprint_with(
        tmp_path,
        owners=[
            {"tests": ["tests/swarm/**", "swarm coordination *"], "notify": ["U0SWARMLEAD"]},
            {"tests": ["tests/**"], "notify": ["U0QA", "S0QA"]},
        ],
    )
    owner_of = OwnerMap(sprint)
    pytest_run = owners_of_report(owner_of, "pytest-xunit1-run2.xml")
    assert pytest_run["tests.swarm.test_coordination::test_leader_election"] == ["U0SWARMLEAD"]
    assert pytest_run["tests.memory.test_store::test_snapshot"] == ["U0QA", "S0QA"]
    jest_run = owners_of_report(owner_of, "jest-junit-run2.xml")  # no file, prose class names
    assert jest_run["swarm coordination elects a leader::swarm coordination elects a leader"] == [
        "U0SWARMLEAD"
    ]
    # Matched by neither: CODEOWNERS' `*`.
    assert jest_run["agent command list --json::agent command list --json"] == ["U0GLOBAL"]


def test_the_sample_repository_tree_is_owned_as_its_codeowners_says(tmp_path: Path) -> None:
    owner_of = OwnerMap(sprint_with(tmp_path))
    files = sorted(
        p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("test_*.py") if p.is_file()
    )
    assert {f: owner_of(f, "") for f in files} == {
        "tests/cli/agent/test_agent_cmd.py": ["U0ALICE"],
        "tests/memory/test_store.py": ["U0BOB", "S0SWARM"],
        "tests/security/authz/test_roles.py": ["U0GLOBAL"],
        "tests/swarm/test_coordination.py": ["S0SWARM"],
    }


def test_a_component_s_owner_is_found_from_its_globs(tmp_path: Path, example: Sprint) -> None:
    owner_of = OwnerMap(sprint_with(tmp_path))
    core = sprint_with(tmp_path).component("Core")
    assert core is not None
    assert owner_of.of_component(core) == ["U0GLOBAL"]  # tests/core/** : only `*` matches
    example_map = OwnerMap(example)
    protection = example.component("Data Protection")
    swarm = example.component("Swarm Coordination")
    assert protection is not None and swarm is not None
    assert example_map.of_component(protection) == ["U0SECURITY"]
    assert example_map.of_component(swarm) == []


# -- the sprint file ----------------------------------------------------------------------


def test_the_example_sprint_file_names_an_owner() -> None:
    example = load_sprint(ROOT / "sprint.example.toml")
    assert [(o.tests, o.notify) for o in example.owners] == [
        (["tests/security/**", "security.*"], ["U0SECURITY"])
    ]
    assert example.codeowners is None


def test_owner_mistakes_are_named_by_key(tmp_path: Path) -> None:
    raw = minimal(
        owners=[{"tests": ["tests/**"], "notify": ["alice"]}, {"tests": [], "notify": ["U01"]}],
        codeowners={"file": "missing/CODEOWNERS", "handles": {"alice": "U01", "@bob": "bob"}},
    )
    found = problems(raw, tmp_path)
    assert 'owners[0].notify: "alice" is not a Slack user (U…) or user-group (S…) ID' in found
    assert any(p.startswith("owners[1].tests: ") for p in found)
    assert any(
        p.startswith('codeowners.handles: "alice" is not a CODEOWNERS handle; write "@user"')
        for p in found
    )
    del raw["owners"]
    raw["codeowners"]["handles"] = {"@bob": "bob"}
    found = problems(raw, tmp_path)
    assert found == [
        'codeowners.handles: "@bob": "bob" is not a Slack user (U…) or user-group (S…) ID'
    ]
    raw["codeowners"]["handles"] = {"@bob": "U0BOB"}
    [missing] = problems(raw, tmp_path)
    assert missing.startswith(f"codeowners.file: {tmp_path / 'missing' / 'CODEOWNERS'} not found")
    raw["codeowners"]["fiel"] = "x"
    assert "codeowners.fiel: unknown key (check its spelling)" in problems(raw, tmp_path)


def test_a_team_file_s_owners_belong_to_each_of_its_sprints(tmp_path: Path) -> None:
    folder = tmp_path / "teams"
    folder.mkdir()
    for name in ("platform.toml", "mobile.toml"):
        (folder / name).write_text((ROOT / "examples" / "teams" / name).read_text())
    (folder / "CODEOWNERS").write_text("/tests/ @acme/platform\n")
    with (folder / "platform.toml").open("a") as f:
        f.write(
            '\n[[owners]]\ntests = ["tests/api/**"]\nnotify = ["U0API"]\n'
            '[codeowners]\nfile = "CODEOWNERS"\nhandles = { "@acme/platform" = "S0PLATFORM" }\n'
        )
    org = load_org(folder)
    platform = next(t for t in org.teams if t.id == "platform")
    assert len(platform.sprints) == 2
    for sprint in platform.sprints:
        owner_of = OwnerMap(sprint)
        assert owner_of("tests/api/test_x.py", "") == ["U0API"]
        assert owner_of("tests/db/test_y.py", "") == ["S0PLATFORM"]
    mobile = next(t for t in org.teams if t.id == "mobile")
    assert OwnerMap(mobile.sprints[0])("tests/api/test_x.py", "") == []
    with (folder / "platform.toml").open("a") as f:
        f.write('\n[[owners]]\ntests = ["x"]\nnotify = ["nobody"]\n')
    with pytest.raises(ConfigError) as info:
        load_org(folder)
    assert info.value.problems == [
        'platform.toml: owners[1].notify: "nobody" is not a Slack user (U…) or user-group (S…) ID'
    ]


# -- alerts, follow-ups, mute notices --------------------------------------------------------


def _alert(session: Session, sprint: Sprint, tests: list[notices.RegressedTest]) -> Any:
    report = TestReport(run="r1", at=T0, received_at=T0, digest="0" * 64)
    session.add(report)
    session.flush()
    assert report.id is not None
    alert = notices.regression_alert(
        session=session,
        sprint=sprint,
        report_id=report.id,
        tests=tests,
        context={
            "commit": "abc123",
            "branch": "main",
            "url": None,
            "run": "r1",
            "report": report.id,
            "readiness": {"score": 70.0, "previous": 71.0},
        },
        now=T0,
    )
    message = queries.outbox_message(session=session, key=alert.key)
    assert message is not None
    message.sent_at = T0  # delivered at once: its follow-up window counts from then
    return alert


def _test(classname: str, name: str, file: str | None) -> notices.RegressedTest:
    return {
        "id": f"{classname}::{name}",
        "classname": classname,
        "name": name,
        "file": file,
        "component": None,
    }


def test_alert_and_follow_up_mention_the_owners(session: Session, tmp_path: Path) -> None:
    sprint = sprint_with(tmp_path)
    tests = [
        _test("tests.swarm.test_c", "test_a", "tests/swarm/test_c.py"),
        _test("tests.swarm.test_c", "test_b", "tests/swarm/test_c.py"),
        _test("tests.memory.test_store", "test_s", "tests/memory/test_store.py"),
        _test("tests.misc", "test_m", None),
    ]
    alert = _alert(session, sprint, tests)
    data = queued(session, alert.key)
    assert data["owners"] == ["S0SWARM", "U0BOB", "U0GLOBAL"]
    assert data["owned"] == {
        "tests.swarm.test_c::test_a": ["S0SWARM"],
        "tests.swarm.test_c::test_b": ["S0SWARM"],
        "tests.memory.test_store::test_s": ["U0BOB", "S0SWARM"],
        "tests.misc::test_m": ["U0GLOBAL"],
    }
    text = shown(alerts.regression_alert(cast(RegressionShown, data)))
    owners_line = (
        "*Owners:* <!subteam^S0SWARM> (`test_a`, `test_b`, `test_s`) · "
        "<@U0BOB> (`test_s`) · <@U0GLOBAL> (`test_m`)"
    )
    assert owners_line in text
    assert text.count("<!subteam^S0SWARM>") == 1  # each owner mentioned once
    assert "the owners are pinged again" in text

    window = sprint.alerts.regression_ack
    assert notices.follow_up(session=session, sprint=sprint, now=T0 + window) == 1
    followup = queued(session, f"{alert.key}:followup")
    assert followup["owners"] == ["S0SWARM", "U0BOB", "U0GLOBAL"]
    followed = shown(alerts.alert_followup(cast(AlertFollowup, followup)))
    assert "<!subteam^S0SWARM> <@U0BOB> <@U0GLOBAL>, can you take a look" in followed
    assert "<@U01>" not in followed  # the tech lead is not pinged when owners are


def test_alerts_without_owners_stay_as_they_were(session: Session, example: Sprint) -> None:
    alert = _alert(session, example, [_test("tests.swarm.t", "x", "tests/swarm/t.py")])
    data = queued(session, alert.key)
    assert "owners" not in data and "owned" not in data
    text = shown(alerts.regression_alert(cast(RegressionShown, data)))
    assert "Owners" not in text and "the tech lead is pinged" in text
    notices.follow_up(session=session, sprint=example, now=T0 + timedelta(days=1))
    followup = queued(session, f"{alert.key}:followup")
    assert "owners" not in followup
    assert "<@U0TECHLEAD>, can you take a look" in shown(
        alerts.alert_followup(cast(AlertFollowup, followup))
    )


def test_many_regressions_name_every_owner_once(session: Session, tmp_path: Path) -> None:
    sprint = sprint_with(tmp_path)
    tests = [_test("tests.swarm.t", f"t{i}", "tests/swarm/t.py") for i in range(12)]
    tests.append(_test("tests.cli.c", "c", "tests/cli/c.py"))  # past the inline ten
    alert = _alert(session, sprint, tests)
    data = queued(session, alert.key)
    assert data["owners"] == ["S0SWARM", "U0ALICE"]
    text = shown(alerts.regression_alert(cast(RegressionShown, data)))
    assert "<!subteam^S0SWARM> (10 of the first 10) · <@U0ALICE> (tests in the thread)" in text


def shown(message: Message) -> str:
    return message["text"] + "\n" + blocks_text(message["blocks"])
