"""Rule matching: cached sentences and text, and sentence-selective token matching that loses no match."""

from __future__ import annotations

import json
from pathlib import Path

from spacy.matcher import Matcher

from notecheck.lexicon import Matchers, load_lexicons
from notecheck.matching import RuleSet, doc_text, sentence_of, sentence_spans

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
    selective = RuleSet(checker.nlp, rules)
    plain = Matcher(checker.nlp.vocab)
    for key, rule in rules:
        plain.add(key, [list(p) for p in rule.patterns])
    strings = checker.nlp.vocab.strings
    matched = 0
    for text in _texts():
        doc = checker.nlp(text)
        expected = set()
        for sent in doc.sents:
            for match_id, start, end in plain(sent):
                span = sent[start:end]
                expected.add((strings[match_id], span.start_char, span.end_char))
        assert {(m.key, m.start, m.end) for m in selective.find(doc)} == expected
        matched += len(expected)
    assert matched > 50
