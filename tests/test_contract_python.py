"""CONTRACT §4: the Python API, and the public names it promises (pinned, as httpx pins its own)."""

from __future__ import annotations

import inspect

import pytest

import notecheck
from notecheck.errors import InputError, NoteBlocked, NotecheckError

BLOCKED = "Client was in county lockup until Friday and is on probation."
CLEAN = "Met with client at the Helena office to review job leads; she applied to two and will call me Monday."


def test_public_names_are_pinned_and_sorted() -> None:
    assert notecheck.__all__ == sorted(notecheck.__all__)
    assert notecheck.__all__ == [
        "Checker", "ConfigError", "Finding", "InputError", "NoteBlocked", "NotecheckError", "Report", "__version__",
        "check", "guard",
    ]  # fmt: skip
    for name in notecheck.__all__:
        assert hasattr(notecheck, name)


def test_check_signature_matches_the_contract() -> None:
    params = inspect.signature(notecheck.check).parameters
    assert list(params)[:5] == ["text", "policy", "contact_date", "entered_at", "title"]
    assert params["policy"].default == "default"
    assert all(params[p].default is None for p in ("contact_date", "entered_at", "title"))


def test_check_returns_a_report() -> None:
    report = notecheck.check(BLOCKED)
    assert report.decision == "block"
    assert {f.category for f in report.findings if f.kind == "prohibited"} >= {"criminal"}
    assert report.to_dict()["decision"] == "block"


def test_checker_check_many_takes_note_dicts_and_keeps_order(checker) -> None:  # type: ignore[no-untyped-def]
    notes = [{"id": f"N-{i}", "text": CLEAN if i % 2 else BLOCKED, "office": "Helena"} for i in range(5)]
    reports = list(checker.check_many(notes, batch_size=2))
    assert [r.note_id for r in reports] == [f"N-{i}" for i in range(5)]
    assert [r.decision for r in reports][::2] == ["block"] * 3
    single = checker.check(BLOCKED, note_id="N-0")
    assert reports[0].to_dict() == single.to_dict()


def test_checker_uses_the_named_policy() -> None:
    checker = notecheck.Checker(policy="wioa-montgomery")
    report = checker.check(BLOCKED)
    assert report.policy == "wioa-montgomery"
    assert report.decision == "warn"  # this agency flags prohibited content as warnings (001)


def test_guard_raises_note_blocked_with_the_report() -> None:
    with pytest.raises(NoteBlocked) as info:
        notecheck.guard(BLOCKED)
    assert info.value.report.decision == "block"
    assert "county lockup" not in str(info.value)
    assert isinstance(info.value, NotecheckError)
    assert notecheck.guard(CLEAN).decision in ("allow", "warn")


@pytest.mark.parametrize("bad", ["", "   \n", "a\x00b", "x" * 70_000])
def test_bad_text_raises_input_error_naming_the_field(checker, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        checker.check(bad)
    assert info.value.field == "text"


@pytest.mark.parametrize(("field", "value"), [("contact_date", "March 4"), ("entered_at", "yesterday")])
def test_bad_dates_raise_input_error_naming_the_field(checker, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        checker.check(CLEAN, **{field: value})
    assert info.value.field == field


def test_check_many_rejects_a_note_without_text(checker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        list(checker.check_many([{"id": "x"}]))
    assert info.value.field == "text"


def test_unknown_extra_fields_are_kept_and_ignored(checker) -> None:  # type: ignore[no-untyped-def]
    report = checker.check_note({"id": "N-9", "text": CLEAN, "caseworker_email": "x@y.org", "program": "TANF"})
    assert report.note_id == "N-9"


def test_title_content_is_checked_as_a_note_level_finding(checker) -> None:  # type: ignore[no-untyped-def]
    report = checker.check(CLEAN, title="Follow-up after her rehab stay")
    finding = next(f for f in report.findings if f.category == "substance_use")
    assert finding.start is None and finding.message.startswith("In the title")
