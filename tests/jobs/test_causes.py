"""Failure messages normalised into causes (jobs.causes), on the project's recorded reports
and the shared corpus of other runners' reports, and the messages that show them."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from bot.blocks import alerts, reports
from jobs import junit
from jobs.causes import GROUP_TESTS, cause_key, cause_of, count, group, top_causes
from jobs.config import CauseCategory, ConfigError, validate_sprint
from storage.models import KnownTest, TestStatus
from tests.support.server import EXAMPLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
SHARED = Path("/work/shared/fixtures/junit")
T0 = datetime(2025, 10, 30, 13, 0, tzinfo=UTC)


def messages(path: Path) -> list[str]:
    with path.open("rb") as f:
        return list(junit.parse(f).messages.values())


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            "ConnectionRefusedError: [Errno 111] Connection refused",
            "ConnectionRefusedError: [Errno N] Connection refused",
        ),
        # pytest's "E" lines, hosts, ports and timestamps masked.
        (
            "E   TimeoutError: 10.0.0.4:5432 gave up at 2025-11-03T10:22:01.5Z after 30s",
            "TimeoutError: N:N gave up at <time> after Ns",
        ),
        # The exception's line, not the traceback's header or frames.
        (
            'Traceback (most recent call last):\n  File "/src/app.py", line 3, in f\n'
            "KeyError: 'tenant-42'",
            "KeyError: '…'",
        ),
        (
            "ValueError: job 3f2a9c1e-1111-2222-3333-444455556666 at 0x7fdeadbeef",
            "ValueError: job <uuid> at <hex>",
        ),
        ("OSError: cannot open /var/lib/x/data.db", "OSError: cannot open <path>"),
        ("\x1b[31mError: red\x1b[0m", "Error: red"),
        ("Failed\nfail_test.go:6: Error message", "<path>: Error message"),
        ("AssertionError: a `code` span", "AssertionError: a 'code' span"),
        ("", None),
        ("  \n ", None),
        (None, None),
    ],
)
def test_cause_key(message: str | None, cause: str | None) -> None:
    assert cause_key(message) == cause


def test_recorded_runs_share_causes_across_runners() -> None:
    """The project's recorded pytest runs (xunit1 and xunit2) name the same causes; the
    parametrized scale-out test fails alike whatever its numbers."""
    one = {cause_key(m) for m in messages(FIXTURES / "pytest-xunit1-run2.xml")}
    two = {cause_key(m) for m in messages(FIXTURES / "pytest-xunit2-run2.xml")}
    assert one == two
    assert "AssertionError: only N of N agents joined the swarm" in one
    assert "AssertionError: leader election timed out after N rounds" in one
    third = {cause_key(m) for m in messages(FIXTURES / "pytest-xunit1-run3.xml")}
    assert "AssertionError: only N of N agents joined the swarm" in third
    # jest and vitest say the same crash in their own words: one cause each, node masked.
    assert "Error: partition healer crashed: node-N" in {
        cause_key(m) for m in messages(FIXTURES / "jest-junit-run2.xml")
    }
    assert "AssertionError: expected '…' to be '…' // Object.is equality" in {
        cause_key(m) for m in messages(FIXTURES / "vitest-run2.xml")
    }


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared JUnit corpus absent")
def test_other_runners_reports_give_short_causes() -> None:
    found = {p.name: [cause_key(m) for m in messages(p)] for p in sorted(SHARED.glob("*.xml"))}
    assert found  # the corpus is there
    for name, causes in found.items():
        for c in causes:
            assert c is not None and 0 < len(c) <= 200, (name, c)
            assert "\n" not in c and "`" not in c
    assert (
        "java.lang.AssertionError: expected [N] but found [N]"
        in found["surefire--apache-pulsar.xml"]
    )
    assert "<path>: Error message" in found["go-junit-report--001.xml"]


def test_categories_name_causes_first_match_first() -> None:
    cats = [
        CauseCategory(name="Database down", pattern=r"ConnectionRefused|could not connect"),
        CauseCategory(name="Any error", pattern=r"(?i)error"),
    ]
    assert cause_of("ConnectionRefusedError: [Errno 111]", cats) == ("Database down", True)
    assert cause_of("psycopg: could not connect to server", cats) == ("Database down", True)
    assert cause_of("KeyError: 'x'", cats) == ("Any error", True)
    assert cause_of("assert 1 == 2", cats) == ("assert N == N", False)
    assert cause_of(None, cats) is None


def _tests(*msgs: str | None) -> list[dict[str, Any]]:
    return [{"id": f"t::{i}", "message": m} for i, m in enumerate(msgs)]


def test_group_counts_tests_by_cause_most_first() -> None:
    refused = "ConnectionRefusedError: [Errno 111] Connection refused to 10.0.0.{}:5432"
    tests = _tests("KeyError: 'a'", *(refused.format(i) for i in range(3)), None, "KeyError: 'b'")
    groups = group(tests, [])
    assert [(g["cause"], g["count"], g["tests"]) for g in groups] == [
        (
            "ConnectionRefusedError: [Errno N] Connection refused to N:N",
            3,
            ["t::1", "t::2", "t::3"],
        ),
        ("KeyError: '…'", 2, ["t::0", "t::5"]),
    ]
    many = group(_tests(*["boom"] * (GROUP_TESTS + 5)), [])
    assert many[0]["count"] == GROUP_TESTS + 5 and len(many[0]["tests"]) == GROUP_TESTS


def test_count_of_recorded_messages() -> None:
    msgs = messages(FIXTURES / "pytest-xunit1-run2.xml") + messages(
        FIXTURES / "pytest-xunit1-run3.xml"
    )
    counted = count(msgs, [CauseCategory(name="Swarm", pattern="swarm|leader|partition")])
    assert counted[0] == {"cause": "Swarm", "named": True, "count": 4}
    assert {
        "cause": "eviction disabled while the LRU is rewritten",
        "named": False,
        "count": 2,
    } in (counted)


def test_top_causes_of_the_branchs_failing_tests(session: Session) -> None:
    def known(key: str, status: TestStatus, message: str | None, branch: str = "main") -> None:
        session.add(
            KnownTest(
                key=key,
                branch=branch,
                classname="c",
                name=key,
                status=status,
                message=message,
                first_seen_at=T0,
                changed_at=T0,
            )
        )

    for i in range(3):
        known(f"r{i}", TestStatus.FAILED, f"ConnectionRefusedError: [Errno 111] port {5000 + i}")
    known("k", TestStatus.ERROR, "KeyError: 'x'")
    known("p", TestStatus.PASSED, "KeyError: 'stale'")  # passing now: not a cause
    known("n", TestStatus.FAILED, None)
    known("f", TestStatus.FAILED, "KeyError: 'y'", branch="feature")  # another branch
    session.flush()
    assert top_causes(session=session, branch="main", categories=[], at=T0) == [
        {"cause": "ConnectionRefusedError: [Errno N] port N", "named": False, "count": 3},
        {"cause": "KeyError: '…'", "named": False, "count": 1},
    ]
    assert (
        top_causes(session=session, branch="main", categories=[], at=T0, limit=1)[0]["count"] == 3
    )


def _raw(extra: str) -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text() + extra)


def test_sprint_file_causes_are_checked() -> None:
    ok = validate_sprint(_raw('\n[[causes]]\nname = "DB"\npattern = "Refused"\n'))
    assert [c.name for c in ok.causes] == ["DB"]
    with pytest.raises(ConfigError) as bad:
        validate_sprint(_raw('\n[[causes]]\nname = "DB"\npattern = "(unclosed"\n'))
    assert "causes[0].pattern: not a valid regular expression" in str(bad.value)
    with pytest.raises(ConfigError) as dup:
        validate_sprint(
            _raw(
                '\n[[causes]]\nname = "DB"\npattern = "a"\n[[causes]]\nname = "DB"\npattern = "b"\n'
            )
        )
    assert 'causes: duplicate cause "DB"' in str(dup.value)
    with pytest.raises(ConfigError) as missing:
        validate_sprint(_raw('\n[[causes]]\nname = "DB"\n'))
    assert "causes[0].pattern: required key is missing" in str(missing.value)


def _alert(tests: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "commit": None,
        "branch": "main",
        "url": None,
        "run": "r",
        "report": 1,
        "readiness": {"score": None, "previous": None},
        "count": len(tests),
        "tests": tests[:10],
        "ack_within": "1h",
        "alert_id": 1,
        **extra,
    }


def _text(msg: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in msg["blocks"] if isinstance(b.get("text"), dict))


def test_a_long_alert_names_its_commonest_causes() -> None:
    tests = [
        {
            "id": f"t::{i}",
            "classname": "t",
            "name": str(i),
            "file": None,
            "component": "DB",
            "message": "ConnectionRefusedError: [Errno 111]" if i % 5 else "<!here> `x`",
        }
        for i in range(25)
    ]
    text = _text(alerts.regression_alert(_alert(tests, causes=group(tests, []))))  # type: ignore[arg-type]
    assert "*25 tests* went from passing to failing" in text
    assert "• 20 tests fail with `ConnectionRefusedError: [Errno N]`" in text
    assert "• 5 tests fail with `&lt;!here&gt; 'x'`" in text


def test_an_alert_queued_before_causes_renders_as_before() -> None:
    tests = [
        {
            "id": f"t::{i}",
            "classname": "t",
            "name": str(i),
            "file": None,
            "component": "DB",
            "message": "ConnectionRefusedError: [Errno 111]",
        }
        for i in range(2)
    ]
    text = _text(alerts.regression_alert(_alert(tests)))  # type: ignore[arg-type]
    assert "fail with" not in text
    assert text.count("```ConnectionRefusedError: [Errno 111]```") == 2


def test_daily_report_without_causes_has_no_causes_section() -> None:
    assert reports._cause_lines({}) == []  # type: ignore[typeddict-item]
    lines = reports._cause_lines(
        {"top_causes": [{"cause": "<b>*", "named": True, "count": 1}]}  # type: ignore[typeddict-item]
    )
    assert lines == ["*Top causes of failing tests*", "• 1 test: *&lt;b&gt;**"]


def test_the_email_copy_names_shared_causes() -> None:
    tests = [
        {
            "id": f"t::{i}",
            "classname": "t",
            "name": str(i),
            "file": None,
            "component": "DB",
            "message": f"ConnectionRefusedError: [Errno 111] to 10.0.0.{i}:5432",
        }
        for i in range(3)
    ] + [
        {
            "id": "t::9",
            "classname": "t",
            "name": "9",
            "file": None,
            "component": None,
            "message": "KeyError: 'x'",
        }
    ]
    _, body = alerts.regression_email(_alert(tests, causes=group(tests, [])))  # type: ignore[arg-type]
    assert "3 tests fail with: ConnectionRefusedError: [Errno N] to N:N" in body
    assert body.count("fail with:") == 1  # a cause of one test is not a group
    assert "    KeyError: 'x'" in body  # each test keeps its excerpt in the e-mail
