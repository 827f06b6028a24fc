"""Persistence: SQLAlchemy 2 models and Alembic migrations. SQLite by default, PostgreSQL in production."""

from notecheck.store.db import Database, database_url
from notecheck.store.models import (
    ApiKey,
    AuditEvent,
    Base,
    FindingRow,
    InputErrorRow,
    NoteResult,
    Scan,
    Suppression,
    User,
    Verdict,
)

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Database",
    "FindingRow",
    "InputErrorRow",
    "NoteResult",
    "Scan",
    "Suppression",
    "User",
    "Verdict",
    "database_url",
]
