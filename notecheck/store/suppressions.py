"""The agency suppression list: fingerprints of findings an admin dismissed for every note."""

from __future__ import annotations

from sqlalchemy import select

from notecheck.store.db import Database
from notecheck.store.models import Suppression


def suppressed_fingerprints(db: Database) -> frozenset[str]:
    """Every suppressed fingerprint, for `Checker.set_suppressed()`."""
    with db.session() as session:
        return frozenset(session.scalars(select(Suppression.fingerprint)))
