"""Property tests (hypothesis): offsets always slice inside the text; fingerprints ignore unrelated edits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notecheck.fingerprint import fingerprint

PHRASES = [
    "she is in rehab", "her PO", "SSN 123-45-6789", "DOB 4/12/1988", "call 301-555-0142", "gets SSI",
    "was in county lockup", "the baby is due in May", "custody hearing", "seems lazy", "jo@example.org",
    "Foster Farms", "legal name", "CNA training", "met at the office", "will call Friday", "her ex hit her",
]  # fmt: skip
words = st.sampled_from(PHRASES) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
notes = st.lists(words, min_size=1, max_size=12).map(" ".join).filter(lambda t: t.strip())
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=notes)
def test_every_offset_slices_inside_the_text(checker, text: str) -> None:  # type: ignore[no-untyped-def]
    report = checker.check(text)
    for f in report.findings:
        if f.start is None:
            assert f.end is None
            continue
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end].strip() == text[f.start : f.end] or f.kind != "prohibited"
    for element in report.elements.values():
        for span in element.evidence:
            assert 0 <= span.start < span.end <= len(text)


@SETTINGS
@given(prefix=notes, note=st.sampled_from(PHRASES[:10]))
def test_fingerprint_unchanged_when_unrelated_text_is_added_before(checker_no_model, prefix: str, note: str) -> None:  # type: ignore[no-untyped-def]
    """Rules alone: every finding survives an unrelated paragraph before it, with the same fingerprint. (With the
    model, text joining a finding's sentence may change whether the model vetoes it: see the next test.)"""
    checker = checker_no_model
    original = {f.rule: f.fingerprint for f in checker.check(note).findings if f.start is not None}
    edited_text = prefix + "\n\n" + note
    edited = checker.check(edited_text).findings
    for rule, fp in original.items():
        same_rule = [f for f in edited if f.rule == rule]
        if any(edited_text[f.start : f.end].lower() in prefix.lower() for f in same_rule if f.start is not None):
            continue  # the prefix happened to contain the same words: occurrence numbering may legitimately shift
        assert fp in {f.fingerprint for f in same_rule}


@SETTINGS
@given(prefix=notes, note=st.sampled_from(PHRASES[:10]))
def test_a_finding_that_survives_an_added_prefix_keeps_its_fingerprint(checker, prefix: str, note: str) -> None:  # type: ignore[no-untyped-def]
    edited_text = prefix + "\n\n" + note
    shift = len(prefix) + 2
    findings = checker.check(edited_text).findings
    edited = {(f.rule, f.start, f.end): f.fingerprint for f in findings if f.start is not None}
    for f in checker.check(note).findings:
        if f.start is None or note[f.start : f.end].lower() in prefix.lower():
            continue  # the prefix holds the same words: occurrence numbering may legitimately shift
        moved = edited.get((f.rule, f.start + shift, f.end + shift))
        assert moved is None or moved == f.fingerprint


@given(text=st.text(alphabet="abcdefghij XYZ-0123", min_size=1, max_size=40), extra=st.text("klmnop", min_size=1))
def test_fingerprint_ignores_case_and_spacing_but_not_content(text: str, extra: str) -> None:
    fp = fingerprint("pii", "US_SSN", "r", text)
    assert fp == fingerprint("pii", "US_SSN", "r", f"  {text.upper()}\n ")
    assert fp != fingerprint("pii", "US_SSN", "r", f"{text} {extra}")
    assert fp != fingerprint("pii", "US_SSN", "other.rule", text)
    assert len(fp) == 32 and int(fp, 16) >= 0


def test_fingerprint_is_stable_across_rescans(checker) -> None:  # type: ignore[no-untyped-def]
    text = "Client was in county lockup. SSN 123-45-6789."
    first = [f.fingerprint for f in checker.check(text).findings]
    assert first == [f.fingerprint for f in checker.check(text).findings]
    assert len(set(first)) == len(first)
