"""Prohibited content from lexicon rules, with occupational and incidental uses excluded.

Negated mentions are kept on purpose: "denies drug use" still records drug-use information (CONTRACT §2).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from notecheck.detectors import Hit
from notecheck.lexicon import Lexicons
from notecheck.matching import Match, PhraseBank, RuleSet, longest_non_overlapping, overlaps, sentence_of


class ProhibitedDetector:
    def __init__(self, nlp: Language, lexicons: Lexicons, *, phrases: PhraseBank | None = None):
        self._rules = lexicons.prohibited_rules()
        self._matcher = RuleSet(nlp, ((rule_id, rule) for rule_id, (_, rule) in self._rules.items()), phrases=phrases)
        self._exclusions = {e.id: e for e in lexicons.exclusions.exclusions}
        self._exclusion_matcher = RuleSet(nlp, ((e.id, e) for e in self._exclusions.values()), phrases=phrases)
        # The cue sets run only for a note where their exclusion matched (a few in a hundred): they share a bank of
        # their own, so the note-wide bank does not find and group their phrases in every note.
        cue_phrases = PhraseBank(nlp)
        self._cues = {
            e.id: RuleSet(nlp, [(e.id, e.only_with)], phrases=cue_phrases)
            for e in self._exclusions.values()
            if e.only_with is not None
        }

    def _active_exclusions(self, doc: Doc) -> list[tuple[Match, frozenset[str]]]:
        cached = doc.user_data.get(_EXCLUSIONS_KEY)
        if cached is None:
            cached = doc.user_data[_EXCLUSIONS_KEY] = self._find_exclusions(doc)
        return cached  # type: ignore[no-any-return]

    def excluded_spans(self, doc: Doc) -> list[tuple[int, int, frozenset[str]]]:
        """(start, end, categories) of every occupational or incidental use the exclusions found in the note."""
        return [(m.start, m.end, categories) for m, categories in self._active_exclusions(doc)]

    def _find_exclusions(self, doc: Doc) -> list[tuple[Match, frozenset[str]]]:
        active = []
        cue_hits: dict[str, list[Match]] = {}
        for m in self._exclusion_matcher.find(doc):
            exclusion = self._exclusions[m.key]
            if m.key in self._cues:
                start, end = sentence_of(doc, m.start)
                if m.key not in cue_hits:
                    cue_hits[m.key] = self._cues[m.key].find(doc)
                if not any(start <= c.start < end for c in cue_hits[m.key]):
                    continue
            active.append((m, frozenset(exclusion.categories)))
        return active

    def detect(self, doc: Doc) -> list[Hit]:
        matches = self._matcher.find(doc)
        if not matches:
            return []
        exclusions = self._active_exclusions(doc)
        hits = []
        for m in longest_non_overlapping(matches):
            lexicon, rule = self._rules[m.key]
            if any(lexicon.category in cats and overlaps(m.start, m.end, x.start, x.end) for x, cats in exclusions):
                continue
            hits.append(
                Hit("prohibited", lexicon.category, rule.id, m.start, m.end, rule.confidence,
                    rule.message or lexicon.message, lexicon.seed)
            )  # fmt: skip
        return _merge_adjacent(self._drop_yielding(doc, hits))

    def _drop_yielding(self, doc: Doc, hits: list[Hit]) -> list[Hit]:
        """Drop hits of generic rules (`yields_to`) whose sentence has a hit of a category they yield to."""
        yielding = [h for h in hits if self._rules[h.rule][1].yields_to]
        if not yielding:
            return hits

        def sentence(h: Hit) -> tuple[int, int]:
            return sentence_of(doc, h.start)  # type: ignore[arg-type]

        kept = []
        for hit in hits:
            yields = self._rules[hit.rule][1].yields_to
            if yields and any(
                o.category in yields and not self._rules[o.rule][1].yields_to and sentence(o) == sentence(hit)
                for o in hits
            ):
                continue
            kept.append(hit)
        return kept


_EXCLUSIONS_KEY = "notecheck.exclusions"


def _merge_adjacent(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits of the same category become one finding (the longest span, the best confidence)."""
    merged: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.category, h.start, -(h.end or 0))):
        last = merged[-1] if merged else None
        if last and last.category == hit.category and overlaps(last.start, last.end, hit.start, hit.end):  # type: ignore[arg-type]
            if (hit.end or 0) - (hit.start or 0) > (last.end or 0) - (last.start or 0):
                merged[-1] = hit
            continue
        merged.append(hit)
    return sorted(merged, key=lambda h: (h.start, h.end))
