"""Quality findings: opinion and slang (lexicon spans), vague and multiple subjects (note level)."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from notecheck.detectors import Hit
from notecheck.lexicon import Lexicons
from notecheck.matching import PhraseBank, RuleSet, doc_text, longest_non_overlapping, word_count

VAGUE_RULE = "quality.vague.too_short"
VAGUE_GENERIC_RULE = "quality.vague.generic"
MULTI_RULE = "quality.multiple_subjects.topics"
SEED_001 = "001_d938a723a3cc94a0.txt"
SEED_004 = "004_6ed360e28e7eb5bb.txt"


class QualityDetector:
    def __init__(self, nlp: Language, lexicons: Lexicons, *, phrases: PhraseBank | None = None):
        q = lexicons.quality
        self._by_id = {r.id: r for r in q.rules}
        self._rules = RuleSet(nlp, ((r.id, r) for r in q.rules), phrases=phrases)
        self._generic = (
            RuleSet(nlp, [(VAGUE_GENERIC_RULE, q.vague_generic)], phrases=phrases) if q.vague_generic else None
        )
        self._topics = RuleSet(nlp, ((t.name, t) for t in q.topics), phrases=phrases)
        self._shifts = RuleSet(nlp, [("shift", q.subject_shifts)], phrases=phrases) if q.subject_shifts else None
        self._min_words = q.vague_min_words
        self._min_words_no_numbers = q.vague_min_words_without_numbers or 0
        self._min_topics = q.multiple_subjects_min_topics
        self._min_shifts = q.multiple_subjects_min_shifts

    def detect(self, doc: Doc) -> list[Hit]:
        hits = []
        for m in longest_non_overlapping(self._rules.find(doc)):
            rule = self._by_id[m.key]
            hits.append(
                Hit(
                    "quality",
                    rule.category,
                    rule.id,
                    m.start,
                    m.end,
                    rule.confidence,
                    rule.message,
                    rule.seed,
                )
            )
        hits.extend(self._vague(doc))
        topics = {m.key for m in self._topics.find(doc)}
        if self._multiple_subjects(doc, topics):
            hits.append(
                Hit("quality", "multiple_subjects", MULTI_RULE, None, None, min(0.5 + 0.1 * len(topics), 0.95),
                    f"The note covers {len(topics)} major subjects; enter separate notes for separate subjects.",
                    SEED_004)
            )  # fmt: skip
        return hits

    def _multiple_subjects(self, doc: Doc, topics: set[str]) -> bool:
        if self._shifts is None:
            return len(topics) >= self._min_topics
        shifts = len(longest_non_overlapping(self._shifts.find(doc)))
        return shifts >= self._min_shifts or (shifts >= 1 and len(topics) >= self._min_topics)

    def _vague(self, doc: Doc) -> list[Hit]:
        words = word_count(doc)
        if words < self._min_words:
            return [
                Hit("quality", "vague", VAGUE_RULE, None, None, 0.9,
                    f"The note has {words} words; say what happened, what was decided and what comes next.", SEED_001)
            ]  # fmt: skip
        if words < self._min_words_no_numbers and not any(ch.isdigit() for ch in doc_text(doc)):
            return [
                Hit("quality", "vague", VAGUE_RULE, None, None, 0.7,
                    f"The note has {words} words and no date, hours or amounts; say what happened, what was "
                    "decided and what comes next.", SEED_001)
            ]  # fmt: skip
        if self._generic and self._generic.find(doc):
            return [
                Hit("quality", "vague", VAGUE_GENERIC_RULE, None, None, 0.8,
                    "The note is generic; record the substance of the contact.", SEED_001)
            ]  # fmt: skip
        return []
