"""Behaviour of the detection rules beyond the lexicon examples: generic words yielding, occupational uses,
contact location and method, concrete next steps, quality rules."""

from __future__ import annotations

import pytest


def _categories(checker, text: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.category for f in checker.check(text).findings if f.kind == "prohibited"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Client was diagnosed with bipolar disorder and takes lithium.", {"mental_health"}),
        ("He was diagnosed last month and is out of work.", {"medical"}),
        ("She is on meds for her nerves.", {"mental_health"}),
        ("Her OB says the pregnancy is high risk and put her on bedrest.", {"pregnancy", "medical"}),
    ],
)
def test_generic_care_words_take_the_specific_category(checker_no_model, text, expected) -> None:  # type: ignore[no-untyped-def]
    assert _categories(checker_no_model, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mackenzie called after her interview at the County Attorney's office.",
        "He was charged with running the sign-in table and did great.",
        "Starts at Lewis & Clark County Detention Center 10/14 as a detention officer.",
        "He's been using the campus tutoring center twice a week.",
        "Intake for a dislocated worker laid off from the refinery.",
        "She is enrolled with Vocational Rehab for job placement.",
        "He can earn over the trial work limit without losing his check.",
    ],
)
def test_occupational_and_incidental_uses_are_not_prohibited(checker_no_model, text) -> None:  # type: ignore[no-untyped-def]
    assert _categories(checker_no_model, text) - {"disability"} == set()


def test_hearing_the_sense_is_not_a_court_hearing(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert _categories(checker_no_model, "She lost most of her hearing and uses an ASL interpreter.") == {"disability"}
    assert "legal" in _categories(checker_no_model, "She has a hearing on 3/3 for the protective order.")


def _elements(checker, text: str, **kw) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {k: v.present for k, v in checker.check(text, **kw).elements.items()}


def test_location_is_where_the_contact_happened(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert _elements(checker_no_model, "Met with Marcus at the Rockville American Job Center for intake.")["location"]
    assert _elements(checker_no_model, "Cl in office with her paystubs from Walmart.")["location"]
    # a workplace mentioned in a phone call, and a place in a plan, are not the contact's location
    assert not _elements(checker_no_model, "Called Dominic. Still employed at Capital City Tire as a lube tech.")[
        "location"
    ]
    assert not _elements(checker_no_model, "Called youth about the job. Next: orientation 7/1 at the Lowell center.")[
        "location"
    ]


def test_contact_method_from_the_opening_or_an_in_person_location(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert _elements(checker_no_model, "Phone check-in with Kristy about her hours.")["contact_method"]
    assert _elements(checker_no_model, "Intake at MassHire Lowell. Customer 44, wants LPN.")["contact_method"]
    assert not _elements(checker_no_model, "Cl was hired as a cook, 30 hrs/wk. Will call her 8/18.")["contact_method"]


def test_a_document_or_an_awaited_call_in_the_opening_is_not_the_contact(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert not _elements(checker_no_model, "Client wants help w/ her cover letter for Kenworth.")["contact_method"]
    assert not _elements(checker_no_model, "Cl is expecting a call back from the manager by Friday.")["contact_method"]
    assert _elements(checker_no_model, "Call w/ cl about her cover letter for Kenworth.")["contact_method"]


def test_template_fields_give_the_method_and_the_location(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    template = "Contact Type: In person\nLocation: Montgomery Career Center\nPurpose: OJT placement"
    assert _elements(checker_no_model, template)["location"] and _elements(checker_no_model, template)["contact_method"]
    remote = "Contact Type: Phone\nLocation: N/A\nPurpose: Job placement"
    assert _elements(checker_no_model, remote)["contact_method"] and not _elements(checker_no_model, remote)["location"]
    assert not _elements(checker_no_model, "Met at the Jackson MS E&T office.")["participants"]


def test_next_steps_must_be_concrete(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert not _elements(checker_no_model, "Spoke w/ cl about E&T. Will follow up as needed.")["next_steps"]
    assert _elements(checker_no_model, "Spoke w/ cl about E&T. Will follow up on 5/27.")["next_steps"]
    assert _elements(checker_no_model, "Reviewed the ITA. I'll submit it to the board today.")["next_steps"]


def test_purpose_and_substance_are_present_in_any_note_of_substance(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    long_note = (
        "Kaden midterm check-in at the Billings Job Service. Grades: B in Intro to CJ, C+ in English comp. "
        "Still on track for the dispatcher goal."
    )
    assert _elements(checker_no_model, long_note)["purpose"] and _elements(checker_no_model, long_note)["substance"]
    short = _elements(checker_no_model, "Called client. Discussed plan. Will follow up.")
    assert not short["purpose"] and not short["substance"]


def _quality(checker, text: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.category for f in checker.check(text).findings if f.kind == "quality"}


def test_quality_rules(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    assert "vague" in _quality(checker_no_model, "Met with cl. Discussed plan and barriers. Will see her next month.")
    assert "vague" not in _quality(
        checker_no_model, "Paul completed the PM course on 8/15 and got the certificate. Will start job search 9/3."
    )
    several = (
        "Cl in office. Turned in paystubs. She also wants help with a car repair. She also asked about her "
        "daughter's school. And she asked about the GED class."
    )
    assert "multiple_subjects" in _quality(checker_no_model, several)
    assert "slang" in _quality(checker_no_model, "cx no-show again smh, txt'd him. gonna try tmrw.")
    assert "slang" not in _quality(checker_no_model, "Things are going well at the new job, 32 hrs a week.")
    assert "opinion" in _quality(checker_no_model, "Gary is a great guy and really deserved this one.")
