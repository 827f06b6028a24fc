"""The seven required elements of a case note, each with evidence spans (CONTRACT §2 definitions)."""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from notecheck.lexicon import Lexicons
from notecheck.matching import PhraseBank, RuleSet, doc_text, sentence_of, sentence_spans, word_count
from notecheck.report import ELEMENTS, Element, Span

MAX_EVIDENCE = 3
# "by phone" is a method, not a place; location evidence inside these words is ignored.
NOT_A_LOCATION = ("by phone", "over the phone", "via phone", "by email", "via email", "by text")
# A note whose first words say the contact was remote ("Called client", "Cl called me", "Email from Jess") has no
# contact location, except one stated in that same first sentence ("Phone call ... to this worker at the X office").
REMOTE_OPENING = re.compile(
    r"^\W*(?:\S+\s+){0,3}?(?:called|call|calls|phone|phoned|telephone|tc|t/c|email|emailed|e-mail|e-mailed|texted|"
    r"text|txt|voicemail|vm|lvm|video|zoom|teams|teleconference|virtual)\b",
    re.IGNORECASE,
)
# A place in a plan ("Next: orientation 7/1 at youth center", "will meet at the library") is not where this contact
# happened.
FUTURE_CUE = re.compile(
    r"\b(?:(?<!the )next|will|'ll|plan|plans|planned|scheduled|schedule|reschedule|rescheduled|tomorrow|tmrw|f/u|"
    r"follow-up|follow up|going to|gonna|upcoming)\b|(?<![\w/])p:",
    re.IGNORECASE,
)
# After the opening sentence, an event with its date before the place ("Enrollment appt 2/12 at 10 at our office",
# "Texted her the appt for 8/6 at the Bethel office") is a scheduled one; in the opening it is usually this contact.
SCHEDULED_EVENT = re.compile(
    r"\b(?:appt|appointment|orientation|intake|session|mtg|meeting|workshop|interview|review|visit)\s+(?:on\s+|for\s+)?"
    r"\d{1,2}/\d{1,2}",
    re.IGNORECASE,
)

# An opening word that names a document or an awaited call, not this contact: "help w/ cover letter", "is expecting
# a call back from the manager", "uses the shelter's address for mail".
NOT_THIS_CONTACT_BEFORE = re.compile(
    r"\b(?:cover|reference|recommendation|offer|acceptance|award|denial|approval|layoff|separation|resignation|"
    r"thank-you|thank you|expecting\s+(?:a|her|his|the|their)|awaiting\s+(?:a|her|his|the|their)|waiting\s+(?:on|for)"
    r"\s+(?:a|her|his|the|their)|address\s+for|orientation|training|safety)\s+$",
    re.IGNORECASE,
)

# Narrower, for `not_in_plans` elements: "follow-up call" is this contact, "next follow-up by phone" is a plan.
PLAN_CUE = re.compile(
    r"\b(?:next|will|'ll|plan:|plans? to|going to|gonna|tomorrow|tmrw|upcoming)(?!\w)|(?<![\w/])p:",
    re.IGNORECASE,
)

# A date, weekday, time or relative day in a sentence makes a generic follow-up concrete.
DATE_LIKE = re.compile(
    r"\b(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}-\d{2}|\d{1,2}(?::\d{2})?\s*(?:am|pm)|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}|"
    r"(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)s?|"
    r"tomorrow|tmrw|tomorow|next (?:week|month|mon|tue|wed|thu|fri)|"
    r"(?:with)?in (?:\d+|a|one|two|three) (?:days?|weeks?|wks?|months?)|the \d{1,2}(?:st|nd|rd|th)|"
    r"in (?:may|the (?:fall|spring|summer|winter))|"
    r"end of (?:the )?(?:week|month)|(?:january|february|march|april|june|july|august|september|october|"
    r"november|december))\b",
    re.IGNORECASE,
)


class ElementDetector:
    def __init__(self, nlp: Language, lexicons: Lexicons, *, phrases: PhraseBank | None = None):
        rules = lexicons.elements.elements
        self._rules = RuleSet(nlp, [(name, rule) for name, rule in rules.items() if rule.phrases or rule.patterns
                                    or rule.regex], phrases=phrases)  # fmt: skip
        self._opening = RuleSet(nlp, [(n, r.opening) for n, r in rules.items() if r.opening is not None],
                                phrases=phrases)  # fmt: skip
        self._with_date = RuleSet(nlp, [(n, r.with_date) for n, r in rules.items() if r.with_date is not None],
                                  phrases=phrases)  # fmt: skip
        self._closing = RuleSet(nlp, [(n, r.closing) for n, r in rules.items() if r.closing is not None],
                                phrases=phrases)  # fmt: skip
        self._implied_by = {n: r.implied_by for n, r in rules.items() if r.implied_by}
        self._min_words = {n: r.min_words for n, r in rules.items() if r.min_words}
        self._not_in_plans = tuple(n for n, r in rules.items() if r.not_in_plans)

    def detect(self, doc: Doc, *, contact_date_given: bool = False, title: str | None = None) -> dict[str, Element]:
        sentences = sentence_spans(doc) or [(0, len(doc_text(doc)))]
        found = list(self._rules.find(doc))
        opening_text = doc_text(doc)[: sentences[0][1]]
        found += [
            m
            for m in self._opening.find(doc)
            if m.start < sentences[0][1]
            and not NOT_THIS_CONTACT_BEFORE.search(opening_text[max(0, m.start - 40) : m.start])
        ]
        for m in self._with_date.find(doc):
            start, end = next(((a, b) for a, b in sentences if a <= m.start < b), (0, len(doc_text(doc))))
            if DATE_LIKE.search(doc_text(doc)[start:end]):
                found.append(m)
        closing = [m for m in self._closing.find(doc) if m.start >= sentences[-1][0]]
        if closing and DATE_LIKE.search(doc_text(doc)[sentences[-1][0] : sentences[-1][1]]):
            found += closing
        spans: dict[str, list[Span]] = {name: [] for name in ELEMENTS}
        reach: dict[str, int] = {}  # per element, the furthest end of a kept span (matches come sorted by start)
        for m in sorted(found, key=lambda m: m.start):
            if m.end > m.start and m.start >= reach.get(m.key, -1):
                spans[m.key].append(Span(m.start, m.end))
                reach[m.key] = m.end
        lowered = doc_text(doc).lower()
        spans["location"] = [s for s in spans["location"] if not _inside_method_phrase(lowered, s)]
        spans["location"] = _contact_locations(doc, spans["location"])
        for name in self._not_in_plans:
            spans[name] = _outside_plans(doc, spans[name])
        elements = {name: Element(bool(spans[name]), spans[name][:MAX_EVIDENCE]) for name in ELEMENTS}
        words = word_count(doc)
        for name, minimum in self._min_words.items():
            if words >= minimum:
                elements[name].present = True
        for name, sources in self._implied_by.items():
            if any(elements[source].present for source in sources):
                elements[name].present = True
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


def _contact_locations(doc: Doc, found: list[Span]) -> list[Span]:
    """Locations of this contact: none in plans, and only the first sentence's when the note opens as remote."""
    if not found:
        return found
    sentences = sentence_spans(doc)
    first_end = sentences[0][1] if sentences else len(doc_text(doc))
    remote = bool(REMOTE_OPENING.match(doc_text(doc)[:first_end]))
    kept = []
    for span in found:
        if remote and span.start >= first_end:
            continue
        sentence_start = next((a for a, b in sentences if a <= span.start < b), 0)
        before = doc_text(doc)[sentence_start : span.start]
        if FUTURE_CUE.search(before) or (span.start >= first_end and SCHEDULED_EVENT.search(before)):
            continue
        kept.append(span)
    return kept


def _outside_plans(doc: Doc, found: list[Span]) -> list[Span]:
    """The spans not preceded by a plan cue in their own sentence ("will meet at the library", "Next appt by phone")."""
    if not found:
        return found
    text = doc_text(doc)
    kept = []
    for span in found:
        sentence_start = sentence_of(doc, span.start)[0]
        if not PLAN_CUE.search(text[sentence_start : span.start]):
            kept.append(span)
    return kept
