"""The report of CONTRACT §2: one per note, never a copy of the note text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ELEMENTS = ("date", "contact_method", "participants", "location", "purpose", "substance", "next_steps")
PROHIBITED_CATEGORIES = (
    "medical",
    "mental_health",
    "substance_use",
    "pregnancy",
    "disability",
    "criminal",
    "legal",
    "domestic_violence",
    "child_custody",
)
PII_CATEGORIES = (
    "US_SSN",
    "DATE_OF_BIRTH",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "STREET_ADDRESS",
    "CASE_ID",
    "CREDIT_CARD",
    "US_BANK_NUMBER",
    "US_DRIVER_LICENSE",
)
QUALITY_CATEGORIES = ("opinion", "slang", "vague", "cloned", "multiple_subjects")
TIMELINESS_CATEGORIES = ("late_entry", "contact_gap", "missed_follow_up")
CATEGORIES: dict[str, tuple[str, ...]] = {
    "prohibited": PROHIBITED_CATEGORIES,
    "pii": PII_CATEGORIES,
    "quality": QUALITY_CATEGORIES,
    "timeliness": TIMELINESS_CATEGORIES,
}
SEVERITIES = ("error", "warning", "info")
Severity = Literal["error", "warning", "info"]
Decision = Literal["block", "warn", "allow"]
KIND_RANK = {"prohibited": 0, "pii": 1, "quality": 2, "timeliness": 3}


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def to_dict(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


@dataclass
class Element:
    present: bool
    evidence: list[Span] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"present": self.present, "evidence": [s.to_dict() for s in self.evidence]}


@dataclass
class Finding:
    kind: str
    category: str
    start: int | None
    end: int | None
    severity: Severity
    rule: str
    confidence: float
    message: str
    policy_ref: str
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "severity": self.severity,
            "rule": self.rule,
            "confidence": round(float(self.confidence), 3),
            "message": self.message,
            "policy_ref": self.policy_ref,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def decide(findings: list[Finding]) -> Decision:
    """CONTRACT §2: block on any error, warn on any warning, else allow."""
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "block"
    if "warning" in severities:
        return "warn"
    return "allow"


@dataclass
class Report:
    note_id: str | None
    decision: Decision
    score: int
    policy: str
    checker_version: str
    elements: dict[str, Element]
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        return {
            "note_id": self.note_id,
            "decision": self.decision,
            "score": self.score,
            "policy": self.policy,
            "checker_version": self.checker_version,
            "elements": {name: self.elements[name].to_dict() for name in ELEMENTS},
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        elements = {
            name: Element(e["present"], [Span(s["start"], s["end"]) for s in e["evidence"]])
            for name, e in data["elements"].items()
        }
        return cls(
            note_id=data.get("note_id"),
            decision=data["decision"],
            score=data["score"],
            policy=data["policy"],
            checker_version=data["checker_version"],
            elements=elements,
            findings=[Finding.from_dict(f) for f in data["findings"]],
        )

    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]
