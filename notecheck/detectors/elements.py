"""The seven required elements of a case note, each with evidence spans (CONTRACT §2 definitions)."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from notecheck.lexicon import Lexicons
from notecheck.matching import RuleSet
from notecheck.report import ELEMENTS, Element, Span

MAX_EVIDENCE = 3
# "by phone" is a method, not a place; location evidence inside these words is ignored.
NOT_A_LOCATION = ("by phone", "over the phone", "via phone", "by email", "via email", "by text")


class ElementDetector:
    def __init__(self, nlp: Language, lexicons: Lexicons):
        self._rules = RuleSet(nlp, lexicons.elements.elements.items())

    def detect(self, doc: Doc, *, contact_date_given: bool = False, title: str | None = None) -> dict[str, Element]:
        spans: dict[str, list[Span]] = {name: [] for name in ELEMENTS}
        for m in sorted(self._rules.find(doc), key=lambda m: m.start):
            bucket = spans[m.key]
            if not any(s.start < m.end and m.start < s.end for s in bucket):
                bucket.append(Span(m.start, m.end))
        lowered = doc.text.lower()
        spans["location"] = [s for s in spans["location"] if not _inside_method_phrase(lowered, s)]
        elements = {name: Element(bool(spans[name]), spans[name][:MAX_EVIDENCE]) for name in ELEMENTS}
        if contact_date_given:
            elements["date"].present = True
        if title and title.strip() and not elements["purpose"].present:
            elements["purpose"].present = True  # a specific title states the purpose (004 "CLNO titles")
        return elements


def _inside_method_phrase(lowered: str, span: Span) -> bool:
    for phrase in NOT_A_LOCATION:
        start = lowered.find(phrase, max(0, span.start - len(phrase)))
        while start != -1 and start <= span.start:
            if start <= span.start and span.end <= start + len(phrase):
                return True
            start = lowered.find(phrase, start + 1)
    return False
