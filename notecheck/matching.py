"""Compile rule data (phrases, token patterns, regexes) into one spaCy PhraseMatcher, one Matcher and one regex
pass, and report character spans. One RuleSet per concern; each runs over the single parse of the note."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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


def _required_words(pattern: Sequence[dict[str, Any]]) -> list[tuple[str, frozenset[str]]]:
    """For each required token of a pattern that matches a finite set of words: (attribute, words).

    A pattern can only match in a sentence holding a word of every one of these sets, so the token matcher,
    whose cost grows with patterns x tokens, runs only over such sentences.
    """
    out = []
    for token in pattern:
        if token.get("OP") not in (None, "+"):
            continue
        for attr in ("LOWER", "ORTH", "TEXT"):
            value = token.get(attr)
            if isinstance(value, str):
                words = [value]
            elif isinstance(value, dict) and set(value) == {"IN"}:
                words = list(value["IN"])
            else:
                continue
            if attr == "LOWER":
                out.append(("LOWER", frozenset(w.lower() for w in words)))
            else:
                out.append(("ORTH", frozenset(words)))
            break
    return out


class RuleSet:
    """Many keyed matchers compiled together; `find` returns every (key, char span) hit.

    Token patterns run only over sentences that hold a word of each of some pattern's required word sets
    (`_required_words`); a pattern therefore never matches across a sentence boundary.
    """

    def __init__(self, nlp: Language, rules: Iterable[tuple[str, Matchers]]):
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._tokens = Matcher(nlp.vocab, validate=True)
        self._regexes: list[tuple[str, re.Pattern[str]]] = []
        self._has_phrases = self._has_tokens = False
        # per token pattern: the word sets (as hashes, LOWER or ORTH) a sentence must all touch for it to match
        self._requirements: list[list[tuple[int, frozenset[int]]]] = []
        self._unanchored = False
        strings = nlp.vocab.strings
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
                for pattern in spec.patterns:
                    required = _required_words(pattern)
                    if not required:
                        self._unanchored = True
                    self._requirements.append(
                        [
                            (0 if attr == "LOWER" else 1, frozenset(strings.add(w) for w in words))
                            for attr, words in required
                        ]
                    )
            for expression in spec.regex:
                try:
                    self._regexes.append((key, re.compile(expression, re.IGNORECASE)))
                except re.error as exc:
                    raise ConfigError(f"rule '{key}': invalid regex: {exc}") from None
        # word hash -> ids of the required word sets it belongs to; each pattern as the set of ids it needs
        set_ids: dict[tuple[int, frozenset[int]], int] = {}
        self._word_sets: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        self._pattern_needs: list[frozenset[int]] = []
        for required in self._requirements:
            needs = []
            for attr, words in required:
                if (attr, words) not in set_ids:
                    set_ids[(attr, words)] = len(set_ids)
                    for word in words:
                        self._word_sets[attr].setdefault(word, []).append(set_ids[(attr, words)])
                needs.append(set_ids[(attr, words)])
            self._pattern_needs.append(frozenset(needs))

    def find(self, doc: Doc) -> list[Match]:
        strings = doc.vocab.strings
        hits: list[Match] = []
        if self._has_phrases:
            phrase_matches = self._phrases(doc)
            if phrase_matches:
                starts, ends = _token_offsets(doc)
                for match_id, start, end in phrase_matches:
                    hits.append(Match(strings[match_id], starts[start], ends[end - 1]))
        if self._has_tokens:
            for offset, sentence in self._anchored_sentences(doc):
                token_matches = self._tokens(sentence)
                if token_matches:
                    starts, ends = _token_offsets(doc)
                    for match_id, start, end in token_matches:
                        hits.append(Match(strings[match_id], starts[offset + start], ends[offset + end - 1]))
        text = doc_text(doc)
        for key, pattern in self._regexes:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    start, end = m.span("value") if "value" in pattern.groupindex else m.span()
                    hits.append(Match(key, start, end))
        return hits

    def _anchored_sentences(self, doc: Doc) -> list[tuple[int, Any]]:
        """(first token index, Span) of the runs of sentences where some token pattern could match."""
        if not len(doc):
            return []
        if self._unanchored:
            return [(0, doc[:])]
        lower_sets, orth_sets = self._word_sets
        table = doc.to_array(["LOWER", "ORTH"]).tolist()
        positions = [i for i, (lower, orth) in enumerate(table) if lower in lower_sets or orth in orth_sets]
        if not positions:
            return []
        bounds = _sentence_tokens(doc)
        first_tokens = [a for a, _ in bounds]
        touched: dict[int, set[int]] = {}
        for position in positions:
            sentence = bisect_right(first_tokens, position) - 1
            found = touched.setdefault(sentence, set())
            lower, orth = table[position]
            found.update(lower_sets.get(lower, ()))
            found.update(orth_sets.get(orth, ()))
        runs: list[list[int]] = []  # adjacent selected sentences are matched as one span
        for sentence in sorted(touched):
            if not any(needs <= touched[sentence] for needs in self._pattern_needs):
                continue
            a, b = bounds[sentence]
            if runs and runs[-1][1] == a:
                runs[-1][1] = b
            else:
                runs.append([a, b])
        return [(a, doc[a:b]) for a, b in runs]


def _token_offsets(doc: Doc) -> tuple[list[int], list[int]]:
    """Start and end character offset of every token, cached on the Doc."""
    cached = doc.user_data.get(_TOKEN_OFFSETS_KEY)
    if cached is None:
        table = doc.to_array(["IDX", "LENGTH"]).tolist() if len(doc) else []
        cached = ([row[0] for row in table], [row[0] + row[1] for row in table])
        doc.user_data[_TOKEN_OFFSETS_KEY] = cached
    return cached  # type: ignore[no-any-return]


def _sentence_tokens(doc: Doc) -> list[tuple[int, int]]:
    """(start, end) token indices of every sentence, cached on the Doc."""
    cached = doc.user_data.get(_SENTENCE_TOKENS_KEY)
    if cached is None:
        starts = [i for i, s in enumerate(doc.to_array("SENT_START").tolist()) if s == 1 or i == 0] if len(doc) else []
        cached = [(a, b) for a, b in zip(starts, [*starts[1:], len(doc)], strict=True)]
        doc.user_data[_SENTENCE_TOKENS_KEY] = cached
    return cached  # type: ignore[no-any-return]


def longest_non_overlapping(matches: list[Match]) -> list[Match]:
    """Keep the longest match where matches with the same key overlap (spaCy's filter_spans, per key)."""
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: (m.key, -(m.end - m.start), m.start)):
        if not any(k.key == m.key and k.start < m.end and m.start < k.end for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.end, m.key))


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


_SENTENCES_KEY = "notecheck.sentences"
_SENTENCE_TOKENS_KEY = "notecheck.sentence_tokens"
_TOKEN_OFFSETS_KEY = "notecheck.token_offsets"
_TEXT_KEY = "notecheck.text"


def doc_text(doc: Doc) -> str:
    """`doc.text`, built once per Doc (the property joins every token's text on each access)."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text  # type: ignore[no-any-return]


def sentence_spans(doc: Doc) -> list[tuple[int, int]]:
    """(start_char, end_char) of every sentence, as `doc.sents` gives them, computed once per Doc and cached.

    Iterating `doc.sents` builds a Token object per token each time; detectors ask for sentences several times per
    note, so the boundaries are read once from the token arrays instead.
    """
    cached = doc.user_data.get(_SENTENCES_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    n = len(doc)
    spans: list[tuple[int, int]] = []
    if n:
        table = doc.to_array(["SENT_START", "IDX", "LENGTH"]).tolist()
        first = 0
        for i in range(1, n + 1):
            if i == n or table[i][0] == 1:
                spans.append((table[first][1], table[i - 1][1] + table[i - 1][2]))
                first = i
    doc.user_data[_SENTENCES_KEY] = spans
    return spans


def sentence_of(doc: Doc, start: int) -> tuple[int, int]:
    """The (start_char, end_char) of the sentence holding character `start` (the whole text if none does)."""
    spans = sentence_spans(doc)
    index = bisect_right([a for a, _ in spans], start) - 1
    if 0 <= index < len(spans):
        return spans[index]
    return (0, len(doc_text(doc)))
