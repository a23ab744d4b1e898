"""The risk register as a domain: fields checked, the matrix place (status and counts) as
of any instant, status changes announced once and kept as history, links from blockers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from jobs import figures, risks
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.risks import RiskFields
from storage.models import Event, Risk
from tests.support import factories
from tests.support.outbox import keys, queued

T0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
FIELDS = RiskFields(
    description=" Test fixes introduce regressions ",
    impact="High",
    probability="Medium",
    mitigation=" Regression suite after each fix ",
    owner="U0TDD",
    status="Active",
)


def add(session: Session, sprint: Sprint, fields: RiskFields = FIELDS, **kw: str) -> Risk:
    return risks.create(
        session=session, sprint=sprint, fields=replace(fields, **kw), user_id="U0PM", now=T0
    )


def edit(session: Session, sprint: Sprint, risk: Risk, at: datetime, **kw: str) -> Risk:
    return risks.update(
        session=session,
        sprint=sprint,
        risk_id=risk.id or 0,
        fields=replace(FIELDS, **kw),
        user_id="U0PM",
        now=at,
    )


def test_every_bad_field_is_named() -> None:
    bad = replace(FIELDS, description=" ", impact="Huge", probability="Low", status="Gone")
    assert risks.field_errors(bad) == {
        "description": "Describe the risk.",
        "impact": '"Huge" is not one of High, Medium, Low.',
        "status": '"Gone" is not one of Critical, Active, Mitigated, Resolved.',
    }
    assert risks.field_errors(FIELDS) == {}


def test_a_new_risk_is_stored_trimmed_and_announced_in_the_team_channel(
    session: Session, example: Sprint
) -> None:
    risk = add(session, example)
    assert risk.id is not None
    assert (risk.description, risk.mitigation) == (
        "Test fixes introduce regressions",
        "Regression suite after each fix",
    )
    data = queued(session, f"risk:{risk.id}:created")
    assert data == {
        "id": risk.id,
        "code": f"R-{risk.id:03d}",
        "description": "Test fixes introduce regressions",
        "impact": "High",
        "probability": "Medium",
        "mitigation": "Regression suite after each fix",
        "owner": "U0TDD",
        "status": "Active",
        "user": "U0PM",
        "change": "created",
    }
    with pytest.raises(SprintError, match=r"Describe the risk\."):
        add(session, example, description="")


def test_only_a_status_change_is_announced_and_history_keeps_both(
    session: Session, example: Sprint
) -> None:
    risk = add(session, example)
    t1, t2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    edit(session, example, risk, t1, status="Mitigated")
    edit(session, example, risk, t2, status="Mitigated", mitigation="Lock dependencies")
    assert keys(session, f"risk:{risk.id}:") == [
        f"risk:{risk.id}:created",
        f"risk:{risk.id}:status:{t1.isoformat()}",
    ]
    change = queued(session, f"risk:{risk.id}:status:{t1.isoformat()}")
    assert (change["old"], change["status"], change["change"]) == ("Active", "Mitigated", "status")
    rows = session.exec(
        select(Event)
        .where(Event.subject == "risk", Event.subject_id == risk.id)
        .order_by(col(Event.id))
    ).all()
    assert [(e.action, e.detail.get("old"), e.detail.get("new")) for e in rows] == [
        ("created", None, None),
        ("status", "Active", "Mitigated"),
        ("updated", "Mitigated", "Mitigated"),
    ]
    assert risk.mitigation == "Lock dependencies"


def test_the_matrix_as_of_an_instant_shows_the_status_then(
    session: Session, example: Sprint
) -> None:
    critical = add(session, example, status="Critical", impact="High", probability="High")
    active = add(session, example, description="Docs slip", impact="Low", probability="High")
    later = T0 + timedelta(days=1)
    edit(session, example, active, later, status="Resolved")

    def matrix(at: datetime) -> figures.Figures:
        return figures.compute(session=session, sprint=example, at=at)

    before = matrix(later - timedelta(minutes=1))
    assert {r.code: r.status for r in before.risks} == {
        risks.code(critical): "Critical",
        risks.code(active): "Active",
    }
    assert before.risk_counts() == {"Critical": 1, "Active": 1, "Mitigated": 0, "Resolved": 0}
    assert [r.code for r in before.open_risks] == [risks.code(critical), risks.code(active)]

    after = matrix(later)
    assert after.risk_counts() == {"Critical": 1, "Active": 0, "Mitigated": 0, "Resolved": 1}
    assert [(r.code, r.impact, r.probability) for r in after.open_risks] == [
        (risks.code(critical), "High", "High")
    ]
    # Before it was recorded a risk is not in the matrix at all.
    assert matrix(T0 - timedelta(minutes=1)).risks == []


def test_a_blocker_is_linked_to_the_risk_it_realises(session: Session, example: Sprint) -> None:
    risk = add(session, example)
    b = factories.blocker(
        session,
        example,
        component="Unit Tests",
        description="new failures after fix",
        severity="P1",
        reporter="U0DEV",
        now=T0,
    )
    assert b.id is not None and risk.id is not None
    risks.link_blocker(
        session=session, sprint=example, blocker_id=b.id, risk_id=risk.id, user_id="U0DEV", now=T0
    )
    assert b.risk_id == risk.id
    linked = session.exec(
        select(Event).where(Event.subject == "blocker", Event.action == "linked")
    ).one()
    assert (linked.subject_id, linked.detail) == (b.id, {"risk": risks.code(risk)})
    with pytest.raises(SprintError, match="There is no risk R-999999"):
        risks.link_blocker(
            session=session,
            sprint=example,
            blocker_id=b.id,
            risk_id=999999,
            user_id="U0DEV",
            now=T0,
        )


def test_the_same_form_adds_one_risk(session: Session, example: Sprint) -> None:
    key = risks.view_key("VRISK")
    first = risks.create(
        session=session, sprint=example, fields=FIELDS, user_id="U0PM", now=T0, request_key=key
    )
    with pytest.raises(risks.AlreadyAdded) as again:
        risks.create(
            session=session, sprint=example, fields=FIELDS, user_id="U0PM", now=T0, request_key=key
        )
    assert again.value.risk.id == first.id
    assert session.exec(select(Risk).where(Risk.request_key == key)).all() == [first]
    assert keys(session, "risk:") == [f"risk:{first.id}:created"]


@pytest.mark.parametrize(("text", "number"), [("R-003", 3), ("r3", 3), ("R0012", 12)])
def test_risk_codes(text: str, number: int) -> None:
    assert risks.parse_code(text) == number
