"""Writing to the append-only audit log: who saw or decided what. Ids and fingerprints only, never note text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from notecheck.store.models import AuditEvent


def audit(
    session: Session,
    *,
    actor: str,
    actor_type: str,
    action: str,
    note_id: str | None = None,
    office: str | None = None,
    fingerprints: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (committed with the caller's transaction)."""
    event = AuditEvent(
        actor=actor,
        actor_type=actor_type,
        action=action,
        note_id=note_id,
        office=office,
        fingerprints=list(fingerprints),
        detail=detail or {},
    )
    session.add(event)
    return event
