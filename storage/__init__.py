"""Persistence: SQLModel tables, engine and sessions, migrations and queries."""
