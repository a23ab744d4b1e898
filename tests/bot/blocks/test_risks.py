"""The risk register by value: a risk added or changed, `/risk list`, the risk form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.blocks import render
from bot.blocks.common import VALUE
from bot.blocks.risks import render_risk_matrix, risk_change, risk_form
from jobs.risks import RiskAdded, RiskField, RiskFields, RiskStatusChanged, field_errors
from storage.models import Risk
from tests.bot.blocks.hostile import assert_safe, hostile

T0 = datetime(2025, 10, 31, 9, tzinfo=UTC)


def a_risk(rid: int, status: str = "Active", **extra: object) -> Risk:
    fields = {
        "description": f"risk {rid}",
        "impact": "High",
        "probability": "Medium",
        "mitigation": None,
        "owner": None,
        "status": status,
        **extra,
    }
    return Risk(id=rid, created_by="U0DEV", created_at=T0, updated_at=T0, **fields)


def added(**extra: object) -> RiskAdded:
    data: RiskAdded = {
        "id": 3,
        "code": "R-003",
        "description": "Swarm deadlock under partition",
        "impact": "High",
        "probability": "Medium",
        "mitigation": None,
        "owner": None,
        "status": "Active",
        "user": "U0DEV",
        "change": "created",
    }
    return {**data, **extra}


def test_hostile_risks_fit_and_notify_no_one() -> None:
    risk = {
        "code": "R-001",
        "description": hostile(),
        "mitigation": hostile(),
        "impact": "High",
        "probability": "High",
        "owner": "U0DEV",
        "status": "Critical",
        "user": "U0DEV",
        "change": "created",
    }
    assert_safe(risk_change(risk))


def test_a_new_risk_says_who_added_it_and_how_bad_it_is() -> None:
    message = risk_change(added())
    assert message["text"] == (
        ":clipboard: New risk *R-003* (Active, by <@U0DEV>)\nSwarm deadlock under partition\n"
        "Impact High · probability Medium · no owner"
    )
    assert [b["text"]["text"] for b in message["blocks"]] == [message["text"]]


def test_a_status_change_shows_old_and_new_and_the_mitigation() -> None:
    changed: RiskStatusChanged = {
        **added(owner="U0ANA", mitigation="add a lease", status="Mitigated"),
        "change": "status",
        "old": "Active",
    }
    assert risk_change(changed)["text"] == (
        ":clipboard: *R-003* Active → *Mitigated* (by <@U0DEV>)\nSwarm deadlock under partition\n"
        "Impact High · probability Medium · <@U0ANA>\nMitigation: add a lease"
    )


def test_a_queued_risk_change_renders_through_the_registry() -> None:
    assert render({"template": "risk_change", "v": 1, "data": added()}) == risk_change(added())


def test_the_matrix_lists_the_most_urgent_first() -> None:
    assert render_risk_matrix([]) == "The risk register is empty. `/risk` adds one."
    text = render_risk_matrix(
        [
            a_risk(1, "Resolved"),
            a_risk(2, "Active", owner="U0ANA"),
            a_risk(3, "Critical", mitigation="<!channel> failover"),
        ]
    )
    assert text.splitlines() == [
        "*Risk Tracking Matrix*",
        ":red_circle: *R-003* risk 3 · impact High · probability Medium · — · Critical",
        "      _mitigation: &lt;!channel&gt; failover_",
        ":large_yellow_circle: *R-002* risk 2 · impact High · probability Medium · <@U0ANA> "
        "· Active",
        ":white_circle: *R-001* risk 1 · impact High · probability Medium · — · Resolved",
    ]
    many = render_risk_matrix([a_risk(i) for i in range(1, 43)])
    # As many whole rows as fit an ephemeral answer, and how many more there are.
    lines = many.splitlines()
    shown = [line.split()[1] for line in lines[1:-1]]
    assert len(many) <= 3000 and shown == [f"*R-{n:03d}*" for n in range(1, len(shown) + 1)]
    assert lines[-1] == f"…and {42 - len(shown)} more."


def test_the_risk_form_asks_for_each_field_that_field_errors_names() -> None:
    view = risk_form()
    assert view["title"]["text"] == "Add a risk" and view["callback_id"] == "risk"
    assert json.loads(view["private_metadata"]) == {"risk": None}
    inputs = {b["block_id"]: b for b in view["blocks"]}
    assert list(inputs) == list(RiskField)
    assert {b["element"]["action_id"] for b in inputs.values()} == {VALUE}
    initial = {k: b["element"].get("initial_option", {}).get("value") for k, b in inputs.items()}
    assert (initial["impact"], initial["probability"], initial["status"]) == (
        "Medium",
        "Medium",
        "Active",
    )
    bad = RiskFields(
        description="", impact="Huge", probability="?", mitigation="\x00", owner="\x00", status="?"
    )
    assert set(field_errors(bad)) == set(inputs)


def test_the_risk_form_edits_a_risk_prefilled() -> None:
    risk = a_risk(3, "Mitigated", mitigation="add a lease", owner="U0ANA")
    view = risk_form(risk)
    assert view["title"]["text"] == "Edit R-003"
    # With the edit it was opened on: a save after another edit is refused.
    assert json.loads(view["private_metadata"]) == {
        "risk": 3,
        "as_of": risk.updated_at.isoformat(),
    }
    inputs = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert inputs[RiskField.DESCRIPTION]["initial_value"] == "risk 3"
    assert inputs[RiskField.MITIGATION]["initial_value"] == "add a lease"
    assert inputs[RiskField.OWNER]["initial_user"] == "U0ANA"
    assert inputs[RiskField.STATUS]["initial_option"]["value"] == "Mitigated"
    assert inputs[RiskField.IMPACT]["initial_option"]["value"] == "High"
