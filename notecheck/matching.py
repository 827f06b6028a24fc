"""Compile rule data (phrases, token patterns, regexes) into spaCy matchers and regexes, and report character spans.
One RuleSet per concern; each runs over the single parse of the note. The phrases of every RuleSet built on one
PhraseBank live in one spaCy PhraseMatcher, which runs once per Doc."""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import regex
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from notecheck.errors import ConfigError
from notecheck.lexicon import Matchers

try:  # the standard library's regular-expression parser, only to read the words a lexicon regex starts with
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

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


class PhraseBank:
    """The phrases of many RuleSets in one spaCy PhraseMatcher (attr LOWER), run once per Doc.

    spaCy's PhraseMatcher costs a few microseconds per call even when nothing matches, and its cost hardly grows
    with the phrases it holds: the RuleSets a Checker runs on every note share one bank instead of running one each.
    Each distinct LOWER token sequence gets one match id, whatever RuleSets and keys hold it (keys repeat across
    RuleSets), so at most one id matches a given span and each RuleSet's hits keep the order its own PhraseMatcher
    would give them: by start, then end, then (for keys sharing a phrase) that matcher's order, read off at
    registration. The matches, grouped per RuleSet, are cached on the Doc under the bank's own key with a
    generation number: a RuleSet registered after a Doc was matched makes the bank match it again.
    """

    _numbers = itertools.count()

    def __init__(self, nlp: Language):
        self.vocab = nlp.vocab
        self._matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._ids: dict[tuple[int, ...], int] = {}  # LOWER sequence -> match id
        self._owners: dict[int, list[tuple[int, tuple[str, ...]]]] = {}  # match id -> (RuleSet slot, its keys)
        self._slots = 0
        self._generation = 0
        self._cache_key = f"notecheck.phrases.{next(PhraseBank._numbers)}"

    def register(self, phrases: dict[tuple[int, ...], tuple[str, ...]]) -> int:
        """Add one RuleSet's phrases (LOWER sequence -> its keys, in match order); returns the RuleSet's slot."""
        slot = self._slots
        self._slots += 1
        for sequence, keys in phrases.items():
            match_id = self._ids.get(sequence)
            if match_id is None:
                name = f"{self._cache_key}.{len(self._ids)}"
                self._matcher.add(name, [list(sequence)])
                match_id = self._ids[sequence] = self.vocab.strings.add(name)
            self._owners.setdefault(match_id, []).append((slot, keys))
        self._generation += 1
        return slot

    def matches(self, doc: Doc, slot: int) -> list[Match]:
        """The phrase hits of the RuleSet in `slot`, in its PhraseMatcher's order (a list the caller may keep)."""
        generation = self._generation
        cached = doc.user_data.get(self._cache_key)
        if cached is None or cached[0] != generation:
            # per RuleSet slot, (keys, start char, end char) of each hit: a RuleSet that is never asked (most
            # exclusion cue sets) builds no Match
            grouped: dict[int, list[tuple[tuple[str, ...], int, int]]] = {}
            found = self._matcher(doc)
            if found:
                starts, ends = _token_offsets(doc)
                owners = self._owners
                for match_id, start, end in found:
                    span = (starts[start], ends[end - 1])
                    for owner, keys in owners[match_id]:
                        hits = grouped.get(owner)
                        if hits is None:
                            grouped[owner] = [(keys, *span)]
                        else:
                            hits.append((keys, *span))
            cached = doc.user_data[self._cache_key] = (generation, grouped)
        return [Match(key, start, end) for keys, start, end in cached[1].get(slot, ()) for key in keys]


def _phrase_keys(
    nlp: Language, phrases: dict[tuple[int, ...], list[str]], docs: dict[tuple[int, ...], Doc]
) -> dict[tuple[int, ...], tuple[str, ...]]:
    """Each LOWER sequence's keys in the order a PhraseMatcher holding only these phrases reports them at one span.

    spaCy reports the keys of one phrase in its hash map's order, not insertion order; a probe matcher with the
    same keys added in the same order gives exactly that order (only sequences shared by several keys need it)."""
    out: dict[tuple[int, ...], tuple[str, ...]] = {}
    for sequence, keys in phrases.items():
        if len(keys) > 1:
            probe = PhraseMatcher(nlp.vocab, attr="LOWER")
            for key in keys:
                probe.add(key, [docs[sequence]])
            strings = nlp.vocab.strings
            whole = len(sequence)
            out[sequence] = tuple(strings[m] for m, start, end in probe(docs[sequence]) if start == 0 and end == whole)
        else:
            out[sequence] = tuple(keys)
    return out


class RuleSet:
    """Many keyed matchers compiled together; `find` returns every (key, char span) hit.

    Phrases go to a PhraseBank: the one given (RuleSets that run on the same Docs share one, so one PhraseMatcher
    call per Doc serves them all) or a private one.

    Each token pattern gets its own spaCy Matcher and runs only over the sentences that hold a word of each of its
    required word sets (`_required_words`): spaCy's Matcher tries every pattern it holds at every token, so one
    Matcher for all patterns would pay for all of them on every sentence. Patterns never match across a sentence
    boundary.
    """

    def __init__(self, nlp: Language, rules: Iterable[tuple[str, Matchers]], *, phrases: PhraseBank | None = None):
        if phrases is not None and phrases.vocab is not nlp.vocab:
            raise ValueError("the PhraseBank was built for another Language's vocab")
        # LOWER token sequence -> keys holding it, in the order they were added; a Doc of each sequence
        phrase_keys: dict[tuple[int, ...], list[str]] = {}
        phrase_docs: dict[tuple[int, ...], Doc] = {}
        # The `regex` package, not `re`: same syntax (VERSION0), and on these long case-insensitive alternations it
        # scans notes about twice as fast (the lexicon regexes were 0.3 ms of a note's 1.8 ms with `re`).
        # each with the words one of which a match must hold as a whole word (None: not known; see _regex_words)
        self._regexes: list[tuple[str, regex.Pattern[str], frozenset[str] | None]] = []
        # one (key, Matcher) per token pattern, and the ids of the word sets a sentence must touch for it to match
        self._patterns: list[tuple[str, Matcher]] = []
        pattern_needs: list[list[tuple[int, frozenset[int]]]] = []
        strings = nlp.vocab.strings
        for key, spec in rules:
            for phrase in spec.phrases or ():
                phrase_doc = nlp.make_doc(phrase)
                if not len(phrase_doc):
                    continue  # spaCy's PhraseMatcher skips an empty phrase too
                sequence = tuple(phrase_doc.to_array("LOWER").tolist())
                keys = phrase_keys.setdefault(sequence, [])
                phrase_docs.setdefault(sequence, phrase_doc)
                if key not in keys:
                    keys.append(key)
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
                    compiled = regex.compile(expression, regex.IGNORECASE | regex.VERSION0)
                    self._regexes.append((key, compiled, _regex_words(expression)))
                except regex.error as exc:
                    raise ConfigError(f"rule '{key}': invalid regex: {exc}") from None
        self._phrases: PhraseBank | None = None
        self._phrase_slot = -1
        if phrase_keys:
            self._phrases = phrases if phrases is not None else PhraseBank(nlp)
            self._phrase_slot = self._phrases.register(_phrase_keys(nlp, phrase_keys, phrase_docs))
        # word hash -> ids of the required word sets it belongs to; each pattern as the set of ids it needs; per set
        # id, the patterns anchored on it (each pattern on one of its sets, so a Doc checks each pattern at most once)
        set_ids: dict[tuple[int, frozenset[int]], int] = {}
        self._word_sets: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        self._set_words: list[tuple[int, frozenset[int]]] = []  # set id -> (0 LOWER / 1 ORTH, word hashes)
        self._needs: list[frozenset[int]] = []
        self._unanchored: list[int] = []  # patterns with no required word: they run over every sentence
        for index, required in enumerate(pattern_needs):
            needs = []
            for attr, words in required:
                if (attr, words) not in set_ids:
                    set_ids[(attr, words)] = len(set_ids)
                    self._set_words.append((attr, words))
                    for word in words:
                        self._word_sets[attr].setdefault(word, []).append(set_ids[(attr, words)])
                needs.append(set_ids[(attr, words)])
            self._needs.append(frozenset(needs))
            if not needs:
                self._unanchored.append(index)
        shared = Counter(set_id for needs in self._needs for set_id in needs)
        self._anchored: dict[int, list[int]] = {}
        for index, needs in enumerate(self._needs):
            if needs:
                anchor = min(needs, key=lambda i: (shared[i], len(self._set_words[i][1]), i))
                self._anchored.setdefault(anchor, []).append(index)
        # The same as bit masks over set ids, for the whole-Doc step: per word, the sets holding it; per pattern, the
        # sets it needs; and per word, the patterns anchored on a set holding it.
        self._word_masks: tuple[dict[int, int], dict[int, int]] = tuple(  # type: ignore[assignment]
            {w: sum(1 << i for i in set(ids)) for w, ids in by_word.items()} for by_word in self._word_sets
        )
        self._need_masks = [sum(1 << i for i in needs) for needs in self._needs]
        self._word_anchored: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for anchor, indices in self._anchored.items():
            attr, words = self._set_words[anchor]
            for w in words:
                self._word_anchored[attr].setdefault(w, []).extend(indices)

    def find(self, doc: Doc) -> list[Match]:
        hits: list[Match] = self._phrases.matches(doc, self._phrase_slot) if self._phrases is not None else []
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
        words = None
        for key, pattern, needs_word in self._regexes:
            if needs_word is not None:
                # an ASCII note without one of the words the regex starts with cannot match it
                if words is None:
                    words = _ascii_words(doc)
                if words and needs_word.isdisjoint(words):
                    continue
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
        lower_masks, orth_masks = self._word_masks
        doc_words = _doc_words(doc)
        # First the whole Doc: which patterns have a word of each required set somewhere (most notes: none). A
        # sentence's words are a subset of the Doc's, so only these patterns can match in any sentence. The sets
        # the Doc touches are a bit mask; the patterns to test are those anchored on a set one of its words is in.
        present = (lower_masks.keys() & doc_words.lower, orth_masks.keys() & doc_words.orth if orth_masks else set())
        in_doc = 0
        reached: set[int] = set()
        for attr, words in enumerate(present):
            masks, word_anchored = self._word_masks[attr], self._word_anchored[attr]
            for w in words:
                in_doc |= masks[w]
                indices = word_anchored.get(w)
                if indices:
                    reached.update(indices)
        need_masks = self._need_masks
        possible = sorted(index for index in reached if not need_masks[index] & ~in_doc)
        if not possible:
            return []
        if len(bounds) == 1:
            return [(*bounds[0], possible)]
        # Then each sentence: the sets its words are in (as a mask, from the Doc's words in a set some possible
        # pattern needs), and the possible patterns whose every set is among them.
        wanted = 0
        for index in possible:
            wanted |= need_masks[index]
        in_sentence: dict[int, int] = {}
        for attr, words in enumerate(present):
            masks = self._word_masks[attr]
            for w in words:
                mask = masks[w]
                if mask & wanted:
                    for sentence in doc_words.sentences_of(attr, w):
                        in_sentence[sentence] = in_sentence.get(sentence, 0) | mask
        out = []
        for sentence, mask in sorted(in_sentence.items()):
            indices = [index for index in possible if not need_masks[index] & ~mask]
            if indices:
                out.append((*bounds[sentence], indices))
        return out


_WORD_RUN = re.compile(r"[a-z0-9_]+")
_MAX_REGEX_WORDS = 300


def _ascii_words(doc: Doc) -> frozenset[str] | tuple[()]:
    """Every maximal run of word characters of the lowercased text, if the text is ASCII (else an empty tuple).

    In ASCII text a case-insensitive `\\b` + literal word matches only where that word, lowercased, is such a run:
    `regex`'s word characters are [A-Za-z0-9_] there, and no other character folds to an ASCII letter."""
    cached = doc.user_data.get(_ASCII_WORDS_KEY)
    if cached is None:
        text = doc_text(doc)
        cached = frozenset(_WORD_RUN.findall(text.lower())) if text.isascii() else ()
        doc.user_data[_ASCII_WORDS_KEY] = cached
    return cached  # type: ignore[no-any-return]


def _regex_words(expression: str) -> frozenset[str] | None:
    """Words one of which every match of `expression` holds as a whole word (a maximal run of word characters), or
    None when that cannot be read off the pattern.

    Read for patterns that begin (after lookarounds) at `\\b` with an ASCII literal word or an alternation of them,
    each word followed by a non-word character or `\\b` ("\\b(?:met|came|walk-in)\\b", "\\bperson\\s*,"): RuleSet
    skips the regex for an ASCII note holding none of the words. Anything else gives None and the regex always runs.
    """
    try:
        nodes = list(_sre_parse.parse(expression, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - syntax only `regex` knows: no gate
        return None
    start = 0
    boundary = False
    while start < len(nodes) and nodes[start][0] in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        boundary = boundary or nodes[start] == (_sre.AT, _sre.AT_BOUNDARY)
        start += 1
    if not boundary:
        return None
    words: set[str] = set()
    if not _leading_words(nodes[start:], "", words):
        return None
    return frozenset(words)


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _leading_words(nodes: list[Any], prefix: str, out: set[str]) -> bool:
    """Add to `out` every word the sequence `nodes` can begin with (continuing `prefix`); False if one is unknown."""
    i = 0
    while i < len(nodes):
        op, av = nodes[i]
        if op is _sre.LITERAL and _is_word_char(chr(av)):
            prefix += chr(av).lower()
            i += 1
            continue
        if op is _sre.SUBPATTERN:  # a group: read on through it
            nodes = list(av[-1]) + list(nodes[i + 1 :])
            i = 0
            continue
        alternatives = None
        if op is _sre.BRANCH:
            alternatives = [list(alt) for alt in av[1]]
        elif op is _sre.IN and all(kind is _sre.LITERAL and _is_word_char(chr(c)) for kind, c in av):
            alternatives = [[(_sre.LITERAL, c)] for _, c in av]  # (?:cl|cx) is parsed as c[lx]
        if alternatives is not None:
            rest = list(nodes[i + 1 :])
            return all(_leading_words(alt + rest, prefix, out) for alt in alternatives) and (
                len(out) <= _MAX_REGEX_WORDS
            )
        if not prefix or not _starts_with_non_word(list(nodes[i:])):
            return False
        out.add(prefix)  # the word ends here: what follows is not a word character
        return True
    return False  # the pattern ends with the word (or has none): the next character of the text is not known


def _starts_with_non_word(nodes: list[Any]) -> bool:
    """True if the first character `nodes` consume is certainly not a word character (or `\\b` is asserted first)."""
    for op, av in nodes:
        if op is _sre.AT:
            return bool(av is _sre.AT_BOUNDARY)
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            continue
        if op is _sre.LITERAL:
            return not _is_word_char(chr(av)) and chr(av).isascii()
        if op is _sre.IN:
            return all(
                (kind is _sre.CATEGORY and value in (_sre.CATEGORY_SPACE, _sre.CATEGORY_NOT_WORD))
                or (kind is _sre.LITERAL and chr(value).isascii() and not _is_word_char(chr(value)))
                for kind, value in av
            )
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, _, item = av
            if not _starts_with_non_word(list(item)):
                return False
            if low >= 1:
                return True
            continue  # zero repetitions: the next node decides
        if op is _sre.SUBPATTERN:
            return _starts_with_non_word(list(av[-1]))
        if op is _sre.BRANCH:
            return all(_starts_with_non_word(list(alt)) for alt in av[1])
        return False
    return False


class _TokenTable(NamedTuple):
    """Per-token columns of a Doc, as lists (one `to_array` call: see `_token_table`)."""

    lower: list[int]
    orth: list[int]
    idx: list[int]
    length: list[int]
    sent_start: list[int]  # 1 starts a sentence; -1 comes back as 2**64 - 1 (uint64), only `== 1` is asked
    is_alpha: list[int]


_TABLE_ATTRS = ["LOWER", "ORTH", "IDX", "LENGTH", "SENT_START", "IS_ALPHA"]  # in _TokenTable's order


def _token_table(doc: Doc) -> _TokenTable:
    """The token columns every per-Doc cache below derives from, read in one `to_array` call and cached (one call
    instead of six; each costs a fixed few microseconds). Read after the pipeline has set sentence starts."""
    cached = doc.user_data.get(_TOKEN_TABLE_KEY)
    if cached is None:
        columns = doc.to_array(_TABLE_ATTRS).T.tolist() if len(doc) else [[] for _ in _TABLE_ATTRS]
        cached = doc.user_data[_TOKEN_TABLE_KEY] = _TokenTable(*columns)
    return cached  # type: ignore[no-any-return]


def word_count(doc: Doc) -> int:
    """How many tokens are alphabetic (`IS_ALPHA`), from the cached token table."""
    return sum(_token_table(doc).is_alpha)


class _DocWords:
    """The LOWER and ORTH hashes of a Doc as sets (every RuleSet intersects its required words with these instead of
    scanning the tokens) and, built when first asked, per hash the sentences holding it. The sets come from C-level
    `set()` calls: a per-token Python loop for every note cost more than all the RuleSets' lookups together, and only
    notes where some token pattern is possible in a note of several sentences need the sentence index."""

    __slots__ = ("lower", "orth", "_columns", "_bounds", "_sentences")

    def __init__(self, doc: Doc):
        table = _token_table(doc)
        self.lower = set(table.lower)
        self.orth = set(table.orth)
        self._columns = (table.lower, table.orth)
        self._bounds = _sentence_tokens(doc)
        self._sentences: list[dict[int, list[int]] | None] = [None, None]  # per attr: hash -> sentence indices

    def sentences_of(self, attr: int, word: int) -> list[int]:
        """Indices of the sentences holding `word` (a hash of LOWER when `attr` is 0, of ORTH when it is 1)."""
        index = self._sentences[attr]
        if index is None:
            index = self._sentences[attr] = {}
            column = self._columns[attr]
            for sentence, (first, last) in enumerate(self._bounds):
                for w in set(column[first:last]):
                    found = index.get(w)
                    if found is None:
                        index[w] = [sentence]
                    else:
                        found.append(sentence)
        return index.get(word, [])


def _doc_words(doc: Doc) -> _DocWords:
    cached = doc.user_data.get(_TOKEN_WORDS_KEY)
    if cached is None:
        cached = doc.user_data[_TOKEN_WORDS_KEY] = _DocWords(doc)
    return cached  # type: ignore[no-any-return]


def _token_offsets(doc: Doc) -> tuple[list[int], list[int]]:
    """Start and end character offset of every token, cached on the Doc."""
    cached = doc.user_data.get(_TOKEN_OFFSETS_KEY)
    if cached is None:
        table = _token_table(doc)
        cached = (table.idx, [start + length for start, length in zip(table.idx, table.length, strict=True)])
        doc.user_data[_TOKEN_OFFSETS_KEY] = cached
    return cached  # type: ignore[no-any-return]


def _sentence_tokens(doc: Doc) -> list[tuple[int, int]]:
    """(start, end) token indices of every sentence, cached on the Doc."""
    cached = doc.user_data.get(_SENTENCE_TOKENS_KEY)
    if cached is None:
        starts = [i for i, s in enumerate(_token_table(doc).sent_start) if s == 1 or i == 0]
        cached = list(zip(starts, [*starts[1:], len(doc)], strict=True)) if starts else []
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
_ASCII_WORDS_KEY = "notecheck.ascii_words"
_TOKEN_TABLE_KEY = "notecheck.token_table"


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
    starts, ends = _token_offsets(doc)
    spans = [(starts[first], ends[last - 1]) for first, last in _sentence_tokens(doc)]
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
