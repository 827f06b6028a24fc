"""Recording reviewers' verdicts (keyed by note id and fingerprint), the agency suppression list, and rule precision.

Every verdict is written to the audit log: who, which note, which fingerprints, which verdict and reason code.
Never the note text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.review.filters import VERDICTS
from api.review.scope import Viewer
from notecheck.errors import InputError
from notecheck.store.audit import audit
from notecheck.store.models import FindingRow, NoteResult, Suppression, Verdict, utcnow

OTHER = "other"
REASONS: dict[str, dict[str, str]] = {
    "dismissed": {
        "incidental": "Not about the client or household (occupational or incidental use)",
        "false_match": "The words do not mean this here (false match)",
        "wrong_category": "Real issue, wrong category",
        "allowed": "Allowed by policy or consent in this program",
        "duplicate": "Duplicate of another finding",
    },
    "confirmed": {
        "redact": "Must be removed or redacted from the case file",
        "coach": "Correct; coach the staff member",
        "corrected": "Correct; already fixed in the source system",
    },
}
MAX_REASON_CHARS = 500


def resolve_reason(verdict: str, code: str | None, text: str | None) -> tuple[str | None, str | None]:
    """(reason stored with the verdict, reason code for the audit log). Dismissals need a reason."""
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {', '.join(VERDICTS)}", field="verdict")
    text = (text or "").strip()
    code = (code or "").strip() or None
    if len(text) > MAX_REASON_CHARS:
        raise InputError(f"the reason must be at most {MAX_REASON_CHARS} characters", field="reason")
    choices = REASONS[verdict]
    if code is not None and code != OTHER and code not in choices:
        raise InputError(f"reason_code must be one of {', '.join([*choices, OTHER])}", field="reason_code")
    if code in choices:
        return choices[code], code
    if text:
        return text, OTHER
    if verdict == "dismissed":
        raise InputError("a dismissal needs a reason: choose one or type it", field="reason")
    return None, None


@dataclass
class Decided:
    finding_id: int
    note_id: str
    fingerprint: str
    verdict: str | None  # None after reopening
    reason: str | None
    reviewer: str | None


def record(
    session: Session,
    viewer: Viewer,
    findings: Sequence[FindingRow],
    verdict: str,
    *,
    reason: str | None,
    reason_code: str | None,
    suppress: bool = False,
    bulk: bool = False,
) -> list[Decided]:
    """Upsert one verdict per finding (by note id and fingerprint) and audit them, one event per note."""
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {', '.join(VERDICTS)}", field="verdict")
    if suppress and (verdict != "dismissed" or not viewer.is_admin):
        raise PermissionError("only an admin's dismissal can add to the agency suppression list")
    out: list[Decided] = []
    seen: set[tuple[str, str]] = set()
    now = utcnow()
    for f in findings:
        key = (f.note_id, f.fingerprint)
        if key not in seen:
            seen.add(key)
            _upsert(session, f, verdict, reason, viewer.name, now)
            if suppress:
                _suppress(session, f, reason, viewer.name)
        out.append(Decided(f.id, f.note_id, f.fingerprint, verdict, reason, viewer.name))
    for note_id, office, fps in _by_note(findings):
        audit(
            session,
            actor=viewer.name,
            actor_type=viewer.kind,
            action="review.verdict",
            note_id=note_id,
            office=office,
            fingerprints=fps,
            detail={"verdict": verdict, "reason_code": reason_code, "suppressed": suppress, "bulk": bulk},
        )
    return out


def reopen(session: Session, viewer: Viewer, findings: Sequence[FindingRow]) -> list[Decided]:
    """Remove the verdicts on these findings (they become open again); audited."""
    for f in findings:
        session.execute(delete(Verdict).where(Verdict.note_id == f.note_id, Verdict.fingerprint == f.fingerprint))
    for note_id, office, fps in _by_note(findings):
        audit(
            session,
            actor=viewer.name,
            actor_type=viewer.kind,
            action="review.reopened",
            note_id=note_id,
            office=office,
            fingerprints=fps,
        )
    return [Decided(f.id, f.note_id, f.fingerprint, None, None, None) for f in findings]


def _upsert(session: Session, f: FindingRow, verdict: str, reason: str | None, reviewer: str, now) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(2):
        row = session.scalar(select(Verdict).where(Verdict.note_id == f.note_id, Verdict.fingerprint == f.fingerprint))
        if row is None:
            row = Verdict(note_id=f.note_id, fingerprint=f.fingerprint)
            session.add(row)
        row.rule, row.category, row.verdict, row.reason = f.rule, f.category, verdict, reason
        row.reviewer, row.decided_at = reviewer, now
        try:
            with session.begin_nested():
                session.flush()
            return
        except IntegrityError:  # another reviewer inserted the same (note, fingerprint) just now: update theirs
            if attempt:
                raise


def _suppress(session: Session, f: FindingRow, reason: str | None, who: str) -> None:
    row = session.scalar(select(Suppression).where(Suppression.fingerprint == f.fingerprint))
    if row is None:
        session.add(
            Suppression(fingerprint=f.fingerprint, rule=f.rule, category=f.category, reason=reason, created_by=who)
        )
        session.flush()


def _by_note(findings: Iterable[FindingRow]) -> list[tuple[str, str | None, list[str]]]:
    groups: dict[str, tuple[str | None, list[str]]] = {}
    for f in findings:
        office, fps = groups.setdefault(f.note_id, (f.office, []))
        if f.fingerprint not in fps:
            fps.append(f.fingerprint)
    return [(note_id, office, fps) for note_id, (office, fps) in groups.items()]


def verdicts_for(session: Session, note_id: str, fingerprints: Iterable[str]) -> dict[str, Verdict]:
    fps = list(set(fingerprints))
    if not fps:
        return {}
    rows = session.scalars(select(Verdict).where(Verdict.note_id == note_id, Verdict.fingerprint.in_(fps)))
    return {v.fingerprint: v for v in rows}


def suppressed(session: Session, fingerprints: Iterable[str]) -> set[str]:
    fps = list(set(fingerprints))
    if not fps:
        return set()
    return set(session.scalars(select(Suppression.fingerprint).where(Suppression.fingerprint.in_(fps))))


# -- rule quality ------------------------------------------------------------------------------------------------------
@dataclass
class Precision:
    key: str
    kind: str
    category: str
    confirmed: int = 0
    dismissed: int = 0

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def precision(session: Session, viewer: Viewer) -> tuple[list[Precision], list[Precision]]:
    """(per rule, per category): confirmed / (confirmed + dismissed) over the verdicts the viewer may see.

    A verdict counts for a reviewer when its note belongs to one of their offices."""
    stmt = select(Verdict.rule, Verdict.category, Verdict.verdict, func.count()).group_by(
        Verdict.rule, Verdict.category, Verdict.verdict
    )
    if not viewer.all_offices:
        stmt = stmt.where(
            exists().where(NoteResult.note_id == Verdict.note_id, NoteResult.office.in_(list(viewer.offices)))
        )
    rules: dict[str, Precision] = {}
    categories: dict[str, Precision] = {}
    for rule, category, verdict, n in session.execute(stmt):
        kind = rule.split(".", 1)[0] if rule else ""
        for table, key in ((rules, rule), (categories, category)):
            entry = table.setdefault(key, Precision(key, kind, category))
            if verdict == "confirmed":
                entry.confirmed += n
            elif verdict == "dismissed":
                entry.dismissed += n

    def order(p: Precision) -> tuple[float, int, str]:
        return (p.precision if p.precision is not None else 2.0, -p.decided, p.key)

    return sorted(rules.values(), key=order), sorted(categories.values(), key=order)


def findings_of_note(session: Session, note_pk: int) -> list[FindingRow]:
    return list(session.scalars(select(FindingRow).where(FindingRow.note_pk == note_pk).order_by(FindingRow.id)))
