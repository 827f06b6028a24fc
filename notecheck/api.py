"""The module-level convenience functions of CONTRACT §4: `check()` and `guard()`.

They reuse one Checker per policy for the life of the process (building one costs about a second); long-running
services should build their own `Checker` and pass it around instead.
"""

from __future__ import annotations

import datetime as dt
import threading

from notecheck.checker import Checker
from notecheck.errors import NoteBlocked
from notecheck.report import Report

_checkers: dict[str, Checker] = {}
_lock = threading.Lock()


def _checker(policy: str) -> Checker:
    with _lock:
        if policy not in _checkers:
            _checkers[policy] = Checker(policy=policy)
        return _checkers[policy]


def check(
    text: str,
    policy: str = "default",
    contact_date: dt.date | str | None = None,
    entered_at: dt.datetime | str | None = None,
    title: str | None = None,
    note_id: str | None = None,
) -> Report:
    """Check one note and return its Report."""
    return _checker(policy).check(text, note_id=note_id, contact_date=contact_date, entered_at=entered_at, title=title)


def guard(
    text: str,
    policy: str = "default",
    contact_date: dt.date | str | None = None,
    entered_at: dt.datetime | str | None = None,
    title: str | None = None,
    note_id: str | None = None,
) -> Report:
    """Check a note before it is saved: return the report, or raise NoteBlocked(report) when it must not be saved."""
    report = check(text, policy, contact_date, entered_at, title, note_id)
    if report.decision == "block":
        raise NoteBlocked(report)
    return report
