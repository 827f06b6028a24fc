"""Reviewed notes as labeled data in the development-corpus format (data/README.md), for retraining.

One JSON object a line: the note's fields (CONTRACT §1) plus `labels`, built from verdicts on the latest result of
each note:

- `prohibited` / `evidence`: categories with a confirmed finding, the confirmed spans quoted from the text;
- `pii` / `pii_evidence`: the same for PII (`type` rather than `category`, as the corpus has it);
- `quality`: confirmed quality categories the corpus labels (`opinion`, `slang`, `vague`, `multiple_subjects`);
- `elements`: the checker's element booleans as stored (reviewers do not judge elements; `review.elements_source`
  says so);
- `hard_negative`: a prohibited finding was dismissed and no prohibited category was confirmed.

An extra `review` object (ignored by the corpus loader, like any unknown field) lists the dismissed spans, so they
can serve as negatives. By default only fully reviewed notes are written (every finding has a verdict), since an
open finding is neither a positive nor a negative; `include_partial=True` writes notes with any verdict.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from notecheck.report import ELEMENTS
from notecheck.store.audit import audit
from notecheck.store.db import Database
from notecheck.store.models import FindingRow, NoteResult, Verdict

CORPUS_QUALITY = ("opinion", "slang", "vague", "multiple_subjects")


@dataclass
class ExportSummary:
    written: int = 0
    partial_skipped: int = 0
    no_text: int = 0


def _latest_reviewed(session: Session) -> Iterator[NoteResult]:
    newer = NoteResult.__table__.alias("newer")
    n = NoteResult.__table__
    superseded = exists().where(
        newer.c.note_id == n.c.note_id,
        or_(newer.c.checked_at > n.c.checked_at, and_(newer.c.checked_at == n.c.checked_at, newer.c.id > n.c.id)),
    )
    reviewed = exists().where(Verdict.note_id == NoteResult.note_id)
    query = select(NoteResult).where(~superseded, reviewed).order_by(NoteResult.note_id)
    yield from session.scalars(query.execution_options(yield_per=500))


def _date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else None


def record(note: NoteResult, findings: list[FindingRow], decided: dict[str, Verdict]) -> dict[str, Any]:
    """One corpus record from a note's text, its findings and their verdicts."""
    text = note.text or ""
    prohibited: list[str] = []
    evidence: list[dict[str, str]] = []
    pii: list[str] = []
    pii_evidence: list[dict[str, str]] = []
    quality: list[str] = []
    dismissed: list[dict[str, Any]] = []
    dismissed_prohibited = False
    for f in findings:
        v = decided.get(f.fingerprint)
        if v is None:
            continue
        quote = text[f.start : f.end] if f.start is not None and f.end is not None else None
        if v.verdict == "dismissed":
            dismissed_prohibited |= f.kind == "prohibited"
            dismissed.append({"kind": f.kind, "category": f.category, "rule": f.rule, "quote": quote})
            continue
        if f.kind == "prohibited":
            if f.category not in prohibited:
                prohibited.append(f.category)
            if quote and {"category": f.category, "quote": quote} not in evidence:
                evidence.append({"category": f.category, "quote": quote})
        elif f.kind == "pii":
            if f.category not in pii:
                pii.append(f.category)
            if quote and {"type": f.category, "quote": quote} not in pii_evidence:
                pii_evidence.append({"type": f.category, "quote": quote})
        elif f.kind == "quality" and f.category in CORPUS_QUALITY and f.category not in quality:
            quality.append(f.category)
    stored = note.elements or {}
    out: dict[str, Any] = {"id": note.note_id}
    for name in ("program", "office", "staff", "client_id", "title"):
        value = getattr(note, name)
        if value is not None:
            out[name] = value
    if note.contact_date is not None:
        out["contact_date"] = _date(note.contact_date)
    if note.entered_at is not None:
        out["entered_at"] = note.entered_at.isoformat(timespec="seconds")
    out["text"] = text
    out["labels"] = {
        "prohibited": prohibited,
        "evidence": evidence,
        "pii": pii,
        "pii_evidence": pii_evidence,
        "elements": {name: bool(stored.get(name, False)) for name in ELEMENTS},
        "quality": quality,
        "hard_negative": dismissed_prohibited and not prohibited,
    }
    out["review"] = {
        "source": "notecheck review queue",
        "checker_version": note.checker_version,
        "policy": note.policy,
        "elements_source": "checker",
        "complete": all(f.fingerprint in decided for f in findings),
        "dismissed": dismissed,
    }
    return out


def export_labels(db: Database, out: str | Path, *, include_partial: bool = False, actor: str = "cli") -> ExportSummary:
    """Write the reviewed notes to `out` (JSONL) and audit the export (counts only)."""
    summary = ExportSummary()
    path = Path(out)
    with db.session() as session, path.open("w", encoding="utf-8") as handle:
        for note in _latest_reviewed(session):
            if not note.text:
                summary.no_text += 1
                continue
            findings = list(
                session.scalars(select(FindingRow).where(FindingRow.note_pk == note.id).order_by(FindingRow.id))
            )
            fps = {f.fingerprint for f in findings}
            decided = {
                v.fingerprint: v
                for v in session.scalars(
                    select(Verdict).where(Verdict.note_id == note.note_id, Verdict.fingerprint.in_(fps or {""}))
                )
            }
            if not decided:
                continue
            if not include_partial and not fps <= set(decided):
                summary.partial_skipped += 1
                continue
            handle.write(json.dumps(record(note, findings, decided), ensure_ascii=False) + "\n")
            summary.written += 1
        audit(
            session,
            actor=actor,
            actor_type="system",
            action="review.export_labels",
            detail={"written": summary.written, "partial_skipped": summary.partial_skipped, "no_text": summary.no_text},
        )
    return summary
