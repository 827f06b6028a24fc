"""Retention: the text of flagged notes is kept for reviewers only for a while, then removed (reports stay)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select, update

from notecheck.errors import InputError
from notecheck.store import Database, NoteResult
from notecheck.store.audit import audit
from notecheck.store.models import utcnow

_DURATION = re.compile(r"^\s*(\d+)\s*([dwh]?)\s*$", re.IGNORECASE)
_UNITS = {"": "days", "d": "days", "w": "weeks", "h": "hours"}


def parse_duration(value: str) -> dt.timedelta:
    """`90d`, `12w`, `48h` or a number of days."""
    match = _DURATION.match(value)
    if not match:
        raise InputError(f"--older-than must look like 90d, 12w or 48h, not {value!r}", field="older_than")
    return dt.timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def purge_text(db_url: str | Database | None, older_than: dt.timedelta) -> tuple[int, dt.datetime]:
    """Null the text and title of notes checked before now - older_than; returns (notes purged, cutoff)."""
    db = db_url if isinstance(db_url, Database) else Database(db_url)
    cutoff = utcnow() - older_than
    try:
        with db.session() as session:
            stale = (NoteResult.checked_at < cutoff) & (NoteResult.text.is_not(None) | NoteResult.title.is_not(None))
            count = session.scalar(select(func.count()).select_from(NoteResult).where(stale)) or 0
            if count:
                session.execute(
                    update(NoteResult)
                    .where(stale)
                    .values(text=None, title=None, text_purged_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            audit(
                session,
                actor="notecheck purge",
                actor_type="system",
                action="purge_text",
                detail={"notes": count, "cutoff": cutoff.isoformat(timespec="seconds")},
            )
    finally:
        if not isinstance(db_url, Database):
            db.dispose()
    return count, cutoff
