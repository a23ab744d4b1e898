"""Sprint files for tests, as parsed TOML."""

from __future__ import annotations

from typing import Any


def minimal(**overrides: Any) -> dict[str, Any]:
    """A small valid sprint file as parsed TOML."""
    raw: dict[str, Any] = {
        "sprint": {
            "name": "Test sprint",
            "start": "2025-10-29",
            "days": 10,
            "timezone": "Europe/Berlin",
        },
        "targets": {"readiness": 85, "pass_rate": 87},
        "channels": {"team": "#team", "status": "#status", "blockers": "C0BLOCKERS"},
        "people": {"participants": ["U01", "U02"], "tech_lead": ["U01"], "admins": ["U01"]},
        "components": [
            {
                "name": "Core",
                "weight": 2,
                "target": 90,
                "source": "tests",
                "tests": ["tests/core/**"],
                "score": 60,
            },
            {"name": "Docs", "weight": 1, "target": 100, "source": "manual", "score": 60},
        ],
    }
    raw.update(overrides)
    return raw
