"""What the note view shows: the text cut into highlighted segments, the element checklist with its evidence, and
the redaction suggestion. The text is only ever escaped into HTML here (markupsafe), never trusted."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from api.review.filters import risk_of
from notecheck.errors import NotecheckError
from notecheck.redact import redact
from notecheck.report import ELEMENTS, Element, Finding, Report, Span
from notecheck.store.models import FindingRow, NoteResult

ELEMENT_LABELS = {
    "date": "Date of contact",
    "contact_method": "Contact method",
    "participants": "Participants",
    "location": "Location",
    "purpose": "Purpose",
    "substance": "What happened",
    "next_steps": "Next steps",
}


@dataclass
class Segment:
    start: int
    end: int
    findings: list[int] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    kind: str | None = None


def segments(text: str, findings: Sequence[FindingRow], evidence: dict[str, list[Span]]) -> list[Segment]:
    """Cut the text at every span boundary; each piece knows which findings and elements cover it."""
    n = len(text)
    spans: list[tuple[int, int, str, Any]] = []
    for f in findings:
        if f.start is not None and f.end is not None and 0 <= f.start < f.end <= n:
            spans.append((f.start, f.end, "f", f))
    for name, found in evidence.items():
        for s in found:
            if 0 <= s.start < s.end <= n:
                spans.append((s.start, s.end, "e", name))
    cuts = sorted({0, n, *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = Segment(a, b)
        best = None
        for start, end, what, item in spans:
            if start <= a and b <= end:
                if what == "f":
                    seg.findings.append(item.id)
                    rank = risk_of(item.kind, item.severity)
                    if best is None or rank < best[0]:
                        best = (rank, item.kind)
                elif item not in seg.elements:
                    seg.elements.append(item)
        seg.kind = best[1] if best else None
        out.append(seg)
    return out


def highlighted(text: str, segs: Sequence[Segment]) -> Markup:
    """The note as HTML: every character escaped, findings in <mark>, element evidence in <span class="ev">."""
    parts: list[str] = []
    for seg in segs:
        piece = escape(text[seg.start : seg.end])
        if seg.findings:
            ids = " ".join(f"f{i}" for i in seg.findings)
            parts.append(f'<mark class="hl hl-{escape(seg.kind or "other")}" data-findings="{ids}">{piece}</mark>')
        elif seg.elements:
            names = " ".join(seg.elements)
            parts.append(f'<span class="ev" data-elements="{escape(names)}">{piece}</span>')
        else:
            parts.append(str(piece))
    return Markup("".join(parts))


class EvidenceCache:
    """Element evidence is not stored (only present/absent is), so the note view asks the checker again for it;
    the answer is remembered by text digest (a check costs ~30 ms)."""

    def __init__(self, checker: Any, size: int = 512):
        self.checker, self.size = checker, size
        self._items: OrderedDict[tuple[Any, ...], dict[str, list[Span]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, note: NoteResult) -> dict[str, list[Span]]:
        if self.checker is None or not note.text:
            return {}
        key = (note.text_sha256, note.contact_date, note.title)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            report = self.checker.check_note(
                {
                    "text": note.text,
                    "title": note.title,
                    "contact_date": note.contact_date.date().isoformat() if note.contact_date else None,
                }
            )
            found = {name: list(e.evidence) for name, e in report.elements.items()}
        except (NotecheckError, ValueError):
            found = {}
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found


def elements(note: NoteResult, evidence: dict[str, list[Span]]) -> list[dict[str, Any]]:
    """The seven elements as stored (present or not), with the evidence quoted from the text."""
    stored = note.elements or {}
    text = note.text or ""
    out = []
    for name in ELEMENTS:
        present = bool(stored.get(name, False))
        spans = evidence.get(name, []) if present else []
        quotes = [text[s.start : s.end] for s in spans if 0 <= s.start < s.end <= len(text)]
        out.append({"name": name, "label": ELEMENT_LABELS[name], "present": present, "quotes": quotes[:4]})
    return out


def redaction(note: NoteResult, findings: Sequence[FindingRow], dismissed: set[str]) -> str | None:
    """notecheck.redact over a Report rebuilt from the stored findings (dismissed ones left in the text)."""
    if not note.text:
        return None
    kept = [
        Finding(
            kind=f.kind,
            category=f.category,
            start=f.start,
            end=f.end,
            severity=f.severity,  # type: ignore[arg-type]
            rule=f.rule,
            confidence=f.confidence,
            message=f.message,
            policy_ref=f.policy_ref,
            fingerprint=f.fingerprint,
        )
        for f in findings
        if f.fingerprint not in dismissed and (f.end or 0) <= len(note.text)
    ]
    report = Report(
        note_id=note.note_id,
        decision=note.decision,  # type: ignore[arg-type]
        score=note.score,
        policy=note.policy,
        checker_version=note.checker_version,
        elements={name: Element(bool((note.elements or {}).get(name))) for name in ELEMENTS},
        findings=kept,
    )
    return redact(note.text, report)
