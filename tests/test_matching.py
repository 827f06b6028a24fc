"""Rule matching: cached sentences and text, and sentence-selective token matching that loses no match."""

from __future__ import annotations

import json
from pathlib import Path

from spacy.matcher import Matcher, PhraseMatcher

from notecheck.lexicon import Matchers, load_lexicons
from notecheck.matching import (
    PhraseBank,
    RuleSet,
    _ascii_words,
    _regex_words,
    doc_text,
    remember_text,
    sentence_of,
    sentence_spans,
)

ROOT = Path(__file__).resolve().parent.parent


def _texts(n: int = 120) -> list[str]:
    lines = (ROOT / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line)["text"] for line in lines]


def test_sentence_spans_equal_doc_sents(checker) -> None:  # type: ignore[no-untyped-def]
    for text in [*_texts(), "", "   ", "One", "A. B.\n\nC"]:
        doc = checker.nlp(text)
        assert sentence_spans(doc) == [(s.start_char, s.end_char) for s in doc.sents]
        assert doc_text(doc) == doc.text
    doc = checker.nlp("First one. Second one here.")
    assert sentence_of(doc, 12) == (11, 27) and sentence_of(doc, 0) == (0, 10)


def test_token_patterns_find_what_a_plain_matcher_finds_within_sentences(checker) -> None:  # type: ignore[no-untyped-def]
    lexicons = load_lexicons()
    rules = [(r.id, Matchers(patterns=r.patterns)) for lex in lexicons.categories for r in lex.rules if r.patterns]
    rules += [(e.id, Matchers(patterns=e.patterns)) for e in lexicons.exclusions.exclusions if e.patterns]
    rules += [(n, Matchers(patterns=r.patterns)) for n, r in lexicons.elements.elements.items() if r.patterns]
    quality = lexicons.quality
    rules += [(r.id, Matchers(patterns=r.patterns)) for r in quality.rules if r.patterns]
    rules += [(k, Matchers(patterns=m.patterns)) for k, m in [("shift", quality.subject_shifts)] if m and m.patterns]
    selective = RuleSet(checker.nlp, rules)
    plain = Matcher(checker.nlp.vocab)
    for key, rule in rules:
        plain.add(key, [list(p) for p in rule.patterns])
    strings = checker.nlp.vocab.strings
    matched = 0
    for text in _texts(400):
        doc = checker.nlp(text)
        expected = set()
        for sent in doc.sents:
            for match_id, start, end in plain(sent):
                span = sent[start:end]
                expected.add((strings[match_id], span.start_char, span.end_char))
        assert {(m.key, m.start, m.end) for m in selective.find(doc)} == expected
        matched += len(expected)
    assert matched > 50


def test_regex_word_gates_read_the_leading_words() -> None:
    assert _regex_words(r"\b(?:met|came|walk-in)\b\s+") == {"met", "came", "walk"}
    assert _regex_words(r"(?<!\d\s)\bperson\s*,") == {"person"}
    assert _regex_words(r"\b(?:cl|cx)\s+in") == {"cl", "cx"}
    assert _regex_words(r"\b(today|this morning)\b") == {"today", "this"}
    for unknown in (
        r"\bmet",
        r"\bmet\w",
        r"x\bmet\b",
        r"\b(?:met|@)\b",
        r"\b(jan|feb)[a-z]*\s",
        r"^\W*(met)\s",
        r"\d+",
    ):
        assert _regex_words(unknown) is None, unknown


def test_regex_word_gates_lose_no_match(checker) -> None:  # type: ignore[no-untyped-def]
    """A regex skipped because the note lacks its leading words finds nothing in that note when run anyway."""
    rule_sets = [v for d in (checker._prohibited, checker._elements, checker._quality) for v in vars(d).values()]
    gated = [(p, words) for r in rule_sets if isinstance(r, RuleSet) for _, p, words in r._regexes if words is not None]
    assert len(gated) >= 5
    texts = [*_texts(400), "Cl MET/came in at the Helena office.", "PERSON, Bob", "walk-in at AJC", "kſ met at X"]
    skipped = 0
    for text in texts:
        words = _ascii_words(remember_text(checker.nlp(text), text))
        for pattern, needs in gated:
            if words and needs.isdisjoint(words):
                skipped += 1
                assert pattern.search(text) is None, (pattern.pattern[:40], text[:40])
    assert skipped


def _plain_phrase_hits(nlp, rules, doc):  # type: ignore[no-untyped-def]
    """What a RuleSet's own spaCy PhraseMatcher finds, in its order (how RuleSet matched phrases before PhraseBank)."""
    plain = PhraseMatcher(nlp.vocab, attr="LOWER")
    for key, rule in rules:
        if rule.phrases:
            plain.add(key, [nlp.make_doc(p) for p in rule.phrases])
    return [
        (nlp.vocab.strings[match_id], doc[start:end].start_char, doc[start:end].end_char)
        for match_id, start, end in plain(doc)
    ]


def test_a_shared_phrase_bank_finds_what_separate_phrase_matchers_find_in_their_order(checker) -> None:  # type: ignore[no-untyped-def]
    nlp = checker.nlp
    lexicons = load_lexicons()
    elements = lexicons.elements.elements
    # "location" is a key of several of these; the last two hold one phrase under several keys
    rule_lists = [
        [(r.id, Matchers(phrases=r.phrases)) for lex in lexicons.categories for r in lex.rules if r.phrases],
        [(n, Matchers(phrases=r.phrases)) for n, r in elements.items() if r.phrases],
        [(n, Matchers(phrases=r.opening.phrases)) for n, r in elements.items() if r.opening and r.opening.phrases],
        [(k, Matchers(phrases=["at the office", "office"])) for k in ("location", "purpose", "b", "a", "x9", "zz")],
        [(k, Matchers(phrases=["the office", "office"])) for k in ("zz", "location", "q", "a")],
    ]
    bank = PhraseBank(nlp)
    shared = [RuleSet(nlp, rules, phrases=bank) for rules in rule_lists]
    alone = [RuleSet(nlp, rules) for rules in rule_lists]
    matched = 0
    for text in [*_texts(), "Met at the Office; the office at the office."]:
        doc = remember_text(nlp(text), text)
        for rules, one, other in zip(rule_lists, shared, alone, strict=True):
            expected = _plain_phrase_hits(nlp, rules, doc)
            assert [(m.key, m.start, m.end) for m in one.find(doc)] == expected
            assert [(m.key, m.start, m.end) for m in other.find(doc)] == expected
            matched += len(expected)
    assert matched > 100


def test_a_rule_set_added_to_a_bank_after_a_doc_was_matched_sees_its_phrases(checker) -> None:  # type: ignore[no-untyped-def]
    nlp = checker.nlp
    bank = PhraseBank(nlp)
    first = RuleSet(nlp, [("location", Matchers(phrases=["office"]))], phrases=bank)
    doc = remember_text(nlp("Met at the office, then the food bank."), "Met at the office, then the food bank.")
    assert [(m.key, m.start, m.end) for m in first.find(doc)] == [("location", 11, 17)]
    later = RuleSet(nlp, [("location", Matchers(phrases=["food bank", "office"]))], phrases=bank)
    assert [(m.key, m.start, m.end) for m in later.find(doc)] == [("location", 11, 17), ("location", 28, 37)]
    assert [(m.key, m.start, m.end) for m in first.find(doc)] == [("location", 11, 17)]
    assert RuleSet(nlp, [("location", Matchers(phrases=["nowhere"]))], phrases=bank).find(doc) == []
