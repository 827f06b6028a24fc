"""Compile rule data (phrases, token patterns, regexes) into one spaCy PhraseMatcher, one Matcher and one regex
pass, and report character spans. One RuleSet per concern; each runs over the single parse of the note."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from notecheck.errors import ConfigError
from notecheck.lexicon import Matchers

# Token attributes that need no statistical component: patterns may only use these, because notecheck parses with
# the tokenizer and a rule-based sentencizer (see benchmarks/README.md for why).
ALLOWED_TOKEN_ATTRS = frozenset(
    {
        "ORTH", "TEXT", "LOWER", "NORM", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER",
        "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP", "IS_SENT_START", "LIKE_NUM", "LIKE_EMAIL", "SHAPE",
        "PREFIX", "SUFFIX", "OP",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    start: int
    end: int


class RuleSet:
    """Many keyed matchers compiled together; `find` returns every (key, char span) hit."""

    def __init__(self, nlp: Language, rules: Iterable[tuple[str, Matchers]]):
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._tokens = Matcher(nlp.vocab, validate=True)
        self._regexes: list[tuple[str, re.Pattern[str]]] = []
        self._has_phrases = self._has_tokens = False
        for key, spec in rules:
            if spec.phrases:
                self._phrases.add(key, [nlp.make_doc(p) for p in spec.phrases])
                self._has_phrases = True
            if spec.patterns:
                for pattern in spec.patterns:
                    for token in pattern:
                        bad = set(token) - ALLOWED_TOKEN_ATTRS
                        if bad:
                            raise ConfigError(
                                f"rule '{key}': token attribute(s) {sorted(bad)} need a statistical parser; "
                                f"use one of {sorted(ALLOWED_TOKEN_ATTRS)}"
                            )
                try:
                    self._tokens.add(key, [list(p) for p in spec.patterns])
                except ValueError as exc:
                    raise ConfigError(f"rule '{key}': invalid token pattern: {exc}") from None
                self._has_tokens = True
            for expression in spec.regex:
                try:
                    self._regexes.append((key, re.compile(expression, re.IGNORECASE)))
                except re.error as exc:
                    raise ConfigError(f"rule '{key}': invalid regex: {exc}") from None

    def find(self, doc: Doc) -> list[Match]:
        strings = doc.vocab.strings
        hits: list[Match] = []
        if self._has_phrases:
            for match_id, start, end in self._phrases(doc):
                span = doc[start:end]
                hits.append(Match(strings[match_id], span.start_char, span.end_char))
        if self._has_tokens:
            for match_id, start, end in self._tokens(doc):
                span = doc[start:end]
                hits.append(Match(strings[match_id], span.start_char, span.end_char))
        text = doc.text
        for key, pattern in self._regexes:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    start, end = m.span("value") if "value" in pattern.groupindex else m.span()
                    hits.append(Match(key, start, end))
        return hits


def longest_non_overlapping(matches: list[Match]) -> list[Match]:
    """Keep the longest match where matches with the same key overlap (spaCy's filter_spans, per key)."""
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: (m.key, -(m.end - m.start), m.start)):
        if not any(k.key == m.key and k.start < m.end and m.start < k.end for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.end, m.key))


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end
