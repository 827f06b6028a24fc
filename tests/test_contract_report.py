"""CONTRACT §2: the report, key by key and name by name."""

from __future__ import annotations

import json

import pytest

from notecheck.report import (
    ELEMENTS,
    PII_CATEGORIES,
    PROHIBITED_CATEGORIES,
    QUALITY_CATEGORIES,
    TIMELINESS_CATEGORIES,
    Finding,
    decide,
)

NOTE = (
    "Phone call with client Dana Whitfield on 3/4/2026 re: CDL training. She is in rehab until April and her "
    "PO approved the schedule. SSN 123-45-6789. Client seems lazy lol. CM will call her Friday to confirm."
)
REPORT_KEYS = {"note_id", "decision", "score", "policy", "checker_version", "elements", "findings"}
FINDING_KEYS = {
    "kind", "category", "start", "end", "severity", "rule", "confidence", "message", "policy_ref", "fingerprint",
}  # fmt: skip


@pytest.fixture(scope="module")
def report(checker):  # type: ignore[no-untyped-def]
    return checker.check(NOTE, note_id="N-1042", contact_date="2026-03-04", entered_at="2026-03-05T09:00:00")


def test_report_has_exactly_the_contract_keys(report) -> None:  # type: ignore[no-untyped-def]
    data = report.to_dict()
    assert set(data) == REPORT_KEYS
    assert data["note_id"] == "N-1042"
    assert data["policy"] == "default"
    assert data["checker_version"] == "0.3.0"
    assert isinstance(data["score"], int) and 0 <= data["score"] <= 100


def test_elements_always_carry_all_seven_keys(report, checker) -> None:  # type: ignore[no-untyped-def]
    assert ELEMENTS == ("date", "contact_method", "participants", "location", "purpose", "substance", "next_steps")
    for r in (report, checker.check("ok then")):
        elements = r.to_dict()["elements"]
        assert list(elements) == list(ELEMENTS)
        for value in elements.values():
            assert set(value) == {"present", "evidence"}
            assert isinstance(value["present"], bool)
            for span in value["evidence"]:
                assert set(span) == {"start", "end"}


def test_findings_have_exactly_the_contract_keys(report) -> None:  # type: ignore[no-untyped-def]
    findings = report.to_dict()["findings"]
    assert findings
    for f in findings:
        assert set(f) == FINDING_KEYS
        assert f["severity"] in ("error", "warning", "info")
        assert 0 <= f["confidence"] <= 1
        assert f["policy_ref"].endswith(".txt")
        assert (f["start"] is None) == (f["end"] is None)


def test_category_names_are_the_contract_names() -> None:
    assert PROHIBITED_CATEGORIES == (
        "medical", "mental_health", "substance_use", "pregnancy", "disability", "criminal", "legal",
        "domestic_violence", "child_custody",
    )  # fmt: skip
    assert PII_CATEGORIES == (
        "US_SSN", "DATE_OF_BIRTH", "PHONE_NUMBER", "EMAIL_ADDRESS", "STREET_ADDRESS", "CASE_ID", "CREDIT_CARD",
        "US_BANK_NUMBER", "US_DRIVER_LICENSE",
    )  # fmt: skip
    assert QUALITY_CATEGORIES == ("opinion", "slang", "vague", "cloned", "multiple_subjects")
    assert TIMELINESS_CATEGORIES == ("late_entry", "contact_gap", "missed_follow_up")


def test_findings_use_only_contract_kinds_and_categories(report) -> None:  # type: ignore[no-untyped-def]
    allowed = {
        "prohibited": PROHIBITED_CATEGORIES,
        "pii": PII_CATEGORIES,
        "quality": QUALITY_CATEGORIES,
        "timeliness": TIMELINESS_CATEGORIES,
    }
    for f in report.findings:
        assert f.category in allowed[f.kind]


def test_the_example_note_is_blocked_for_the_right_reasons(report) -> None:  # type: ignore[no-untyped-def]
    assert report.decision == "block"
    by_kind = {(f.kind, f.category) for f in report.findings}
    assert ("prohibited", "substance_use") in by_kind
    assert ("prohibited", "criminal") in by_kind
    assert ("pii", "US_SSN") in by_kind
    assert ("quality", "opinion") in by_kind
    ssn = next(f for f in report.findings if f.category == "US_SSN")
    assert NOTE[ssn.start : ssn.end] == "123-45-6789"


def test_report_never_copies_the_note_text(report) -> None:  # type: ignore[no-untyped-def]
    serialized = json.dumps(report.to_dict())
    for fragment in ("Whitfield", "rehab until April", "123-45-6789", "lazy lol", "CDL training"):
        assert fragment not in serialized


def _finding(severity: str) -> Finding:
    return Finding("quality", "slang", 0, 1, severity, "r", 0.5, "m", "001_d938a723a3cc94a0.txt", "f")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severities", "decision"),
    [([], "allow"), (["info"], "allow"), (["warning", "info"], "warn"), (["warning", "error"], "block")],
)
def test_decision_follows_the_most_severe_finding(severities: list[str], decision: str) -> None:
    assert decide([_finding(s) for s in severities]) == decision


def test_clean_complete_note_is_allowed_with_full_score(checker) -> None:  # type: ignore[no-untyped-def]
    text = (
        "On 3/4/2026 I met in person with the client at the Rockville office to review her resume for the CDL job "
        "posting. She completed the resume and submitted two applications. Next step: I will call her on 3/11 "
        "to confirm interview dates."
    )
    report = checker.check(text, contact_date="2026-03-04", entered_at="2026-03-04T16:00:00")
    assert report.decision == "allow", [f.to_dict() for f in report.findings]
    assert all(e.present for e in report.elements.values())
    assert report.score == 100


def test_late_entry_counts_business_days_and_federal_holidays(checker) -> None:  # type: ignore[no-untyped-def]
    text = "Called client to confirm the orientation date; she agreed to attend and will bring her ID."
    # Thursday 2026-11-26 is Thanksgiving: Wed 11/25 -> Tue 12/1 is 3 business days (Fri, Mon, Tue).
    on_time = checker.check(text, contact_date="2026-11-25", entered_at="2026-12-01T09:00")
    late = checker.check(text, contact_date="2026-11-25", entered_at="2026-12-02T09:00")
    assert "late_entry" not in {f.category for f in on_time.findings}
    late_finding = next(f for f in late.findings if f.category == "late_entry")
    assert late_finding.kind == "timeliness" and late_finding.start is None and late_finding.end is None
    assert late_finding.policy_ref == "002_79a53be2a09ade33.txt"
