"""PII gating loses nothing: the `requires` patterns of pii.yaml and the YAML recognizers' own patterns are
necessary conditions, so a note skips only recognizers that could not have found anything in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notecheck.detectors.pii import PiiDetector
from notecheck.errors import ConfigError
from notecheck.lexicon import Lexicons, load_lexicons
from notecheck.matching import remember_text
from notecheck.nlp import SharedParseNlpEngine, load_nlp

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus.jsonl"

# Formats near the edge of each recognizer's patterns.
EDGE_CASES = [
    "Call (301) 555-0142 or 301.555.0143 or +1 301 555 0144 or 1-800-555-0199 x12.",
    "Her UK number is +44 20 7946 0958; Niue +683 4002; local only 555-0142.",
    "cell 3015550142, work 301 555 0142 ext. 7, fax 301/555/0145",
    "Dates 10/12/2025-10/15/2025 and 3/4/90; DOB 04/12/1988; born March 3, 1979.",
    "SSN 123-45-6789, 123 45 6789, 123.45.6789, ss# 078051120; card 4111 1111 1111 1111; 4111-1111-1111-1111.",
    "Acct 12345678 routing 021000021; DL A1234567, B12, 123456789A, 12ABC12345, 12345678AB, A1B2C.",
    "Case # WIOA-22-01873; client id: C-10442; 1420 Elm St Apt 3; PO Box 12; jo.smith@example.org, a@b.co",
    "Called client at ５５５-０１４２-１２３４? No digits here at all.",
]


def _detector(lexicons: Lexicons, nlp) -> PiiDetector:  # type: ignore[no-untyped-def]
    return PiiDetector(SharedParseNlpEngine(nlp), lexicons)


@pytest.fixture(scope="module")
def pair():  # type: ignore[no-untyped-def]
    """The detector as shipped, and the same detector asking Presidio for every entity on every note."""
    nlp = load_nlp()
    lexicons = load_lexicons()
    assert any(b.requires for b in lexicons.pii.builtin), "pii.yaml should gate its recognizers"
    gated, ungated = _detector(lexicons, nlp), _detector(lexicons, nlp)
    every = list(ungated._entities)
    ungated.entities_possible = lambda text: every  # type: ignore[method-assign]
    return nlp, gated, ungated


def _same(pair, text: str) -> None:  # type: ignore[no-untyped-def]
    nlp, gated, ungated = pair
    assert gated.detect(remember_text(nlp(text), text)) == ungated.detect(remember_text(nlp(text), text))


def test_edge_cases_find_the_same_pii(pair) -> None:  # type: ignore[no-untyped-def]
    for text in EDGE_CASES:
        _same(pair, text)
    nlp, gated, _ = pair
    found = {h.category for text in EDGE_CASES for h in gated.detect(remember_text(nlp(text), text))}
    assert {"PHONE_NUMBER", "US_SSN", "EMAIL_ADDRESS", "CREDIT_CARD", "DATE_OF_BIRTH", "CASE_ID"} <= found


def test_corpus_notes_find_the_same_pii(pair) -> None:  # type: ignore[no-untyped-def]
    texts = [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]
    for text in texts:
        _same(pair, text)


def test_text_without_digits_or_at_sign_skips_every_recognizer(pair) -> None:  # type: ignore[no-untyped-def]
    _, gated, _ = pair
    assert gated.entities_possible("Met with client about her resume and the job fair.") == []
    assert "EMAIL_ADDRESS" in gated.entities_possible("write to jo@x.org")
    assert "PHONE_NUMBER" not in gated.entities_possible("Next visit 10/12/2025.")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789", min_size=1, max_size=5),
            st.sampled_from([" ", "-", ".", "(", ")", "/", "+", "x", " ext ", "@", "a", "Z", "#", ", "]),
        ),
        max_size=14,
    )
)
def test_digit_and_separator_strings_find_the_same_pii(pair, parts) -> None:  # type: ignore[no-untyped-def]
    _same(pair, "Client number " + "".join(parts) + " on file.")


def test_a_bad_requires_pattern_is_a_config_error() -> None:
    lexicons = load_lexicons()
    broken = lexicons.pii.model_copy(
        update={"builtin": (lexicons.pii.builtin[0].model_copy(update={"requires": "(unclosed"}),)}
    )
    with pytest.raises(ConfigError, match="PhoneRecognizer.*requires"):
        _detector(lexicons.model_copy(update={"pii": broken}), load_nlp())


# Gates written to be scanned from their digits, next to the plain form they must equal (pii.yaml says which).
REWRITTEN_GATES = [
    (r"[a-z\]]\d|\d{6}", r"\d(?:(?<=[a-z\]]\d)|\d{5})"),
    (
        r"\d(?:[-. ]?\d){8}|(?:ss|soc)[\s\S]{0,60}?\d{4}|(?:xx|\*\*|##)-?\d{4}",
        r"\d(?:(?:[-. ]?\d){8}|\d{3}(?<=(?:ss|soc)[\s\S]{0,60}?\d{4})|\d{3}(?<=(?:xx|\*\*|##)-?\d{4}))",
    ),
]


def test_rewritten_gates_are_in_pii_yaml() -> None:
    text = (Path(__file__).resolve().parents[2] / "notecheck" / "lexicons" / "pii.yaml").read_text()
    for plain, fast in REWRITTEN_GATES:
        assert f"requires: '{fast}'" in text and plain in text  # the plain form stays as the comment


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 -.sSoOcCxX*#]aZK\n\u212a")), max_size=90))
def test_rewritten_gates_match_where_their_plain_form_does(text: str) -> None:
    import regex

    flags = regex.IGNORECASE | regex.VERSION0
    for plain, fast in REWRITTEN_GATES:
        assert (regex.search(plain, text, flags) is None) == (regex.search(fast, text, flags) is None)
