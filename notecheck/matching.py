"""Compile rule data (phrases, token patterns, regexes) into one spaCy PhraseMatcher, one Matcher and one regex
pass, and report character spans. One RuleSet per concern; each runs over the single parse of the note."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import regex
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

    Each token pattern gets its own spaCy Matcher and runs only over the sentences that hold a word of each of its
    required word sets (`_required_words`): spaCy's Matcher tries every pattern it holds at every token, so one
    Matcher for all patterns would pay for all of them on every sentence. Patterns never match across a sentence
    boundary.
    """

    def __init__(self, nlp: Language, rules: Iterable[tuple[str, Matchers]]):
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        # The `regex` package, not `re`: same syntax (VERSION0), and on these long case-insensitive alternations it
        # scans notes about twice as fast (the lexicon regexes were 0.3 ms of a note's 1.8 ms with `re`).
        self._regexes: list[tuple[str, regex.Pattern[str]]] = []
        self._has_phrases = False
        # one (key, Matcher) per token pattern, and the ids of the word sets a sentence must touch for it to match
        self._patterns: list[tuple[str, Matcher]] = []
        pattern_needs: list[list[tuple[int, frozenset[int]]]] = []
        strings = nlp.vocab.strings
        for key, spec in rules:
            if spec.phrases:
                self._phrases.add(key, [nlp.make_doc(p) for p in spec.phrases])
                self._has_phrases = True
            for pattern in spec.patterns or ():
                for token in pattern:
                    bad = set(token) - ALLOWED_TOKEN_ATTRS
                    if bad:
                        raise ConfigError(
                            f"rule '{key}': token attribute(s) {sorted(bad)} need a statistical parser; "
                            f"use one of {sorted(ALLOWED_TOKEN_ATTRS)}"
                        )
                matcher = Matcher(nlp.vocab, validate=True)
                try:
                    matcher.add(key, [list(pattern)])
                except ValueError as exc:
                    raise ConfigError(f"rule '{key}': invalid token pattern: {exc}") from None
                self._patterns.append((key, matcher))
                pattern_needs.append(
                    [
                        (0 if attr == "LOWER" else 1, frozenset(strings.add(w) for w in words))
                        for attr, words in _required_words(pattern)
                    ]
                )
            for expression in spec.regex:
                try:
                    self._regexes.append((key, regex.compile(expression, regex.IGNORECASE | regex.VERSION0)))
                except regex.error as exc:
                    raise ConfigError(f"rule '{key}': invalid regex: {exc}") from None
        # word hash -> ids of the required word sets it belongs to; each pattern as the set of ids it needs; and
        # per set id, the patterns that need it (so a sentence checks only patterns it touches at least once)
        set_ids: dict[tuple[int, frozenset[int]], int] = {}
        self._word_sets: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        self._needs: list[frozenset[int]] = []
        self._needed_by: dict[int, list[int]] = {}
        self._unanchored: list[int] = []  # patterns with no required word: they run over every sentence
        for index, required in enumerate(pattern_needs):
            needs = []
            for attr, words in required:
                if (attr, words) not in set_ids:
                    set_ids[(attr, words)] = len(set_ids)
                    for word in words:
                        self._word_sets[attr].setdefault(word, []).append(set_ids[(attr, words)])
                needs.append(set_ids[(attr, words)])
            self._needs.append(frozenset(needs))
            if needs:
                for set_id in set(needs):
                    self._needed_by.setdefault(set_id, []).append(index)
            else:
                self._unanchored.append(index)

    def find(self, doc: Doc) -> list[Match]:
        strings = doc.vocab.strings
        hits: list[Match] = []
        if self._has_phrases:
            phrase_matches = self._phrases(doc)
            if phrase_matches:
                starts, ends = _token_offsets(doc)
                for match_id, start, end in phrase_matches:
                    hits.append(Match(strings[match_id], starts[start], ends[end - 1]))
        if self._patterns:
            seen: set[tuple[str, int, int]] = set()
            candidates = self._candidates(doc)
            starts, ends = _token_offsets(doc) if candidates else ([], [])
            for first, last, indices in candidates:
                sentence = doc[first:last]
                for index in indices:
                    key, matcher = self._patterns[index]
                    for _, start, end in matcher(sentence):
                        found = (key, starts[first + start], ends[first + end - 1])
                        if found not in seen:
                            seen.add(found)
                            hits.append(Match(*found))
        text = doc_text(doc)
        for key, pattern in self._regexes:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    start, end = m.span("value") if "value" in pattern.groupindex else m.span()
                    hits.append(Match(key, start, end))
        return hits

    def _candidates(self, doc: Doc) -> list[tuple[int, int, list[int]]]:
        """(first token, end token, pattern indices) of each sentence where some token pattern could match."""
        if not len(doc):
            return []
        bounds = _sentence_tokens(doc)
        if self._unanchored:
            every = list(range(len(self._patterns)))
            return [(a, b, every) for a, b in bounds]
        lower_sets, orth_sets = self._word_sets
        lower_positions, orth_positions = _word_positions(doc)
        present = [(i, lower_sets[w]) for w in lower_sets.keys() & lower_positions.keys() for i in lower_positions[w]]
        if orth_sets:
            present += [(i, orth_sets[w]) for w in orth_sets.keys() & orth_positions.keys() for i in orth_positions[w]]
        if not present:
            return []
        first_tokens = [a for a, _ in bounds]
        touched: dict[int, set[int]] = {}
        for position, ids in present:
            sentence = bisect_right(first_tokens, position) - 1
            found = touched.get(sentence)
            if found is None:
                touched[sentence] = set(ids)
            else:
                found.update(ids)
        out = []
        needs, needed_by = self._needs, self._needed_by
        for sentence, found in sorted(touched.items()):
            indices = sorted(
                {index for set_id in found for index in needed_by.get(set_id, ()) if needs[index] <= found}
            )
            if indices:
                out.append((*bounds[sentence], indices))
        return out


def _word_positions(doc: Doc) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Token positions of every LOWER and every ORTH hash in the Doc, built once (every RuleSet intersects its
    required words with these keys instead of scanning the tokens)."""
    cached = doc.user_data.get(_TOKEN_WORDS_KEY)
    if cached is None:
        lower_positions: dict[int, list[int]] = {}
        orth_positions: dict[int, list[int]] = {}
        if len(doc):
            lowers, orths = doc.to_array(["LOWER", "ORTH"]).T.tolist()
            for i, word in enumerate(lowers):
                lower_positions.setdefault(word, []).append(i)
            for i, word in enumerate(orths):
                orth_positions.setdefault(word, []).append(i)
        cached = doc.user_data[_TOKEN_WORDS_KEY] = (lower_positions, orth_positions)
    return cached  # type: ignore[no-any-return]


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
_TOKEN_WORDS_KEY = "notecheck.token_words"
_SENTENCE_STARTS_KEY = "notecheck.sentence_starts"


def remember_text(doc: Doc, text: str) -> Doc:
    """Record the text a Doc was parsed from, so `doc_text` never rebuilds it (the tokenizer keeps text exactly)."""
    doc.user_data[_TEXT_KEY] = text
    return doc


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
    starts = doc.user_data.get(_SENTENCE_STARTS_KEY)
    if starts is None:
        starts = doc.user_data[_SENTENCE_STARTS_KEY] = [a for a, _ in spans]
    index = bisect_right(starts, start) - 1
    if 0 <= index < len(spans):
        return spans[index]
    return (0, len(doc_text(doc)))
