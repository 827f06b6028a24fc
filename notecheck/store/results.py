"""Writing reports into the results database: shared by bulk scans and the inline gate."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from notecheck.note import Note
from notecheck.report import Report
from notecheck.store.models import FindingRow, NoteResult, Scan

GATE_SCAN_ID = "gate"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_flagged(report: Report) -> bool:
    """A note is kept for reviewers when any finding is an error or a warning."""
    return report.decision != "allow"


def ensure_scan(session: Session, scan_id: str, *, source: str, policy: str, checker_version: str) -> Scan:
    scan = session.get(Scan, scan_id)
    if scan is None:
        scan = Scan(id=scan_id, source=source, policy=policy, checker_version=checker_version, options={})
        session.add(scan)
        session.flush()
    return scan


def record_report(
    session: Session, scan_id: str, note: Note, report: Report, *, keep_text: bool | None = None
) -> NoteResult:
    """Insert (or replace) one note's result. Text is stored only for flagged notes, never for clean ones."""
    keep = is_flagged(report) if keep_text is None else keep_text and is_flagged(report)
    note_id = note.id or report.note_id or text_digest(note.text)[:16]
    existing = session.scalar(select(NoteResult).where(NoteResult.scan_id == scan_id, NoteResult.note_id == note_id))
    if existing is not None:
        session.delete(existing)
        session.flush()
    row = NoteResult(
        scan_id=scan_id,
        note_id=note_id,
        client_id=note.client_id,
        staff=note.staff,
        office=note.office,
        program=note.program,
        contact_date=dt.datetime.combine(note.contact_date, dt.time()) if note.contact_date else None,
        entered_at=note.entered_at.replace(tzinfo=None) if note.entered_at else None,
        decision=report.decision,
        score=report.score,
        policy=report.policy,
        checker_version=report.checker_version,
        elements={k: v.present for k, v in report.elements.items()},
        text_sha256=text_digest(note.text),
        text=note.text if keep else None,
        title=note.title if keep else None,
    )
    row.findings = [
        FindingRow(
            scan_id=scan_id,
            note_id=note_id,
            office=note.office,
            staff=note.staff,
            kind=f.kind,
            category=f.category,
            rule=f.rule,
            severity=f.severity,
            start=f.start,
            end=f.end,
            confidence=f.confidence,
            message=f.message,
            policy_ref=f.policy_ref,
            fingerprint=f.fingerprint,
        )
        for f in report.findings
    ]
    session.add(row)
    return row
