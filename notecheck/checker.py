"""The Checker: one parse per note, every detector over it, the policy applied, a Report out.

Build it once (lexicons, policy, Presidio and the classifier load in the constructor) and reuse it: it is safe to
share across threads and to fork into worker processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from spacy.tokens import Doc

from notecheck._version import __version__
from notecheck.classifier import SentenceClassifier, load_classifier
from notecheck.detectors import Hit
from notecheck.detectors.elements import ElementDetector
from notecheck.detectors.pii import PiiDetector
from notecheck.detectors.prohibited import ProhibitedDetector
from notecheck.detectors.quality import MULTI_RULE, VAGUE_GENERIC_RULE, VAGUE_RULE, QualityDetector
from notecheck.detectors.timeliness import RULE as LATE_RULE
from notecheck.detectors.timeliness import late_entry
from notecheck.fingerprint import fingerprint
from notecheck.lexicon import Lexicons, load_lexicons
from notecheck.matching import PhraseBank, remember_text
from notecheck.nlp import SharedParseNlpEngine, load_nlp
from notecheck.note import Note, validate_text
from notecheck.policy import Policy, load_policy
from notecheck.report import KIND_RANK, Finding, Report, decide

TITLE_PREFIX = "In the title: "
TITLE_CACHE_SIZE = 4096  # distinct titles whose hits a Checker remembers


class Checker:
    """Checks notes against one policy profile. `Checker(policy="help-link")`, then `check()` or `check_many()`."""

    def __init__(
        self,
        policy: str | Policy = "default",
        *,
        model: str | None = None,
        lexicon_dir: str | None = None,
        classifier: bool | str = True,
    ):
        self.nlp = load_nlp(model)
        self.lexicons: Lexicons = load_lexicons(lexicon_dir)
        phrases = PhraseBank(self.nlp)  # every detector's phrases in one PhraseMatcher, run once per Doc
        self._prohibited = ProhibitedDetector(self.nlp, self.lexicons, phrases=phrases)
        self._pii = PiiDetector(SharedParseNlpEngine(self.nlp), self.lexicons)
        self._elements = ElementDetector(self.nlp, self.lexicons, phrases=phrases)
        self._quality = QualityDetector(self.nlp, self.lexicons, phrases=phrases)
        self.classifier: SentenceClassifier | None = load_classifier(classifier) if classifier else None
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy, frozenset(self.rule_ids()))
        self._suppressed: frozenset[str] = frozenset()
        self._title_cache: dict[str, tuple[Hit, ...]] = {}

    # -- the agency suppression list --------------------------------------------------------------------------------
    @property
    def suppressed(self) -> frozenset[str]:
        """Fingerprints reviewers dismissed for the whole agency: such findings are not raised again."""
        return self._suppressed

    def set_suppressed(self, fingerprints: Iterable[str]) -> None:
        self._suppressed = frozenset(fingerprints)  # one assignment: safe for threads reading it

    def add_suppressed(self, fingerprints: Iterable[str]) -> None:
        self._suppressed = self._suppressed | frozenset(fingerprints)

    def rule_ids(self) -> list[str]:
        """Every rule id a policy's `rules:` section may name."""
        ids = list(self.lexicons.prohibited_rules())
        ids += [r.id for r in self.lexicons.quality.rules] + [
            VAGUE_RULE,
            VAGUE_GENERIC_RULE,
            MULTI_RULE,
            LATE_RULE,
        ]
        ids += [f"prohibited.{c.category}.classifier" for c in self.lexicons.categories]
        ids += self._pii.rule_ids
        return sorted(ids)

    # -- public API -------------------------------------------------------------------------------------------
    def check(
        self,
        text: str,
        *,
        note_id: str | None = None,
        contact_date: dt.date | str | None = None,
        entered_at: dt.datetime | str | None = None,
        title: str | None = None,
    ) -> Report:
        """Check one note's text; dates may be ISO strings. Raises InputError for unusable input."""
        note = Note.from_dict(
            {
                "id": note_id,
                "text": text,
                "title": title,
                "contact_date": contact_date,
                "entered_at": entered_at,
            },
            max_chars=self.policy.max_chars,
        )
        return self.check_note(note)

    def check_note(self, note: Note | dict[str, Any]) -> Report:
        note = self._as_note(note)
        return self._report(note, remember_text(self.nlp(note.text), note.text))

    def check_many(self, notes: Iterable[Note | dict[str, Any]], *, batch_size: int = 64) -> Iterator[Report]:
        """Check notes in batches (one tokenizer pass per batch, one classifier call per batch), in input order."""
        batch: list[Note] = []
        for note in notes:
            batch.append(self._as_note(note))
            if len(batch) >= batch_size:
                yield from self._check_batch(batch)
                batch = []
        if batch:
            yield from self._check_batch(batch)

    # -- internals ----------------------------------------------------------------------------------------------
    def _as_note(self, note: Note | dict[str, Any]) -> Note:
        if isinstance(note, Note):
            validate_text(note.text, max_chars=self.policy.max_chars)
            return note
        return Note.from_dict(note, max_chars=self.policy.max_chars)

    def _check_batch(self, notes: list[Note]) -> Iterator[Report]:
        texts = [n.text for n in notes]
        docs = [remember_text(d, t) for d, t in zip(self.nlp.pipe(texts, batch_size=len(notes)), texts, strict=True)]
        predictions = self.classifier.predict_docs(docs) if self.classifier else [None] * len(docs)
        for note, doc, prediction in zip(notes, docs, predictions, strict=True):
            yield self._report(note, doc, prediction)

    def _report(self, note: Note, doc: Doc, prediction: Any = None) -> Report:
        hits = self._prohibited.detect(doc) + self._pii.detect(doc)
        if self.classifier is not None:
            if prediction is None:
                prediction = self.classifier.predict_docs([doc])[0]
            if self.policy.classifier_veto_below:
                hits = self.classifier.confirmed(doc, prediction, hits, self.policy.classifier_veto_below)
            hits += self.classifier.hits(
                doc,
                prediction,
                hits,
                self.policy.classifier_threshold,
                excluded=lambda: self._prohibited.excluded_spans(doc),
            )
        if note.title:
            hits += self._title_hits(note.title)
        hits += self._quality.detect(doc)
        hits += late_entry(note.contact_date, note.entered_at, self.policy.late_entry, note.title)
        findings = self._apply_policy(note.text, note.id, hits)
        elements = self._elements.detect(doc, contact_date_given=note.contact_date is not None, title=note.title)
        return Report(
            note_id=note.id,
            decision=decide(findings),
            score=self._score(elements, findings),
            policy=self.policy.name,
            checker_version=__version__,
            elements=elements,
            findings=findings,
        )

    def _title_hits(self, title: str) -> list[Hit]:
        """Prohibited content and PII in the title (note-level hits), remembered per title: titles repeat (a
        system's picklist, "Phone", "Intake"), and checking one is a parse and two detectors' fixed costs, ~0.1 ms
        a titled note. Hits are frozen and depend on the title alone; the cache is cleared when full."""
        cached = self._title_cache.get(title)
        if cached is None:
            doc = remember_text(self.nlp(title), title)
            cached = tuple(
                Hit(h.kind, h.category, h.rule, None, None, h.confidence, TITLE_PREFIX + h.message, h.seed)
                for h in self._prohibited.detect(doc) + self._pii.detect(doc)
            )
            if len(self._title_cache) >= TITLE_CACHE_SIZE:
                self._title_cache.clear()
            self._title_cache[title] = cached
        return list(cached)

    def _apply_policy(self, text: str, note_id: str | None, hits: list[Hit]) -> list[Finding]:
        findings: list[Finding] = []
        seen: dict[tuple[str, str], int] = {}
        for hit in sorted(hits, key=lambda h: (h.start if h.start is not None else -1, h.end or -1, h.rule)):
            severity = self._severity(hit)
            if severity == "off":
                continue
            span_text = text[hit.start : hit.end] if hit.start is not None else None
            key = (hit.rule, span_text.lower() if span_text else "")
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            digest = fingerprint(hit.kind, hit.category, hit.rule, span_text or hit.message, occurrence)
            if digest in self._suppressed:
                continue
            findings.append(
                Finding(
                    kind=hit.kind,
                    category=hit.category,
                    start=hit.start,
                    end=hit.end,
                    severity=severity,
                    rule=hit.rule,
                    confidence=hit.confidence,
                    message=hit.message,
                    policy_ref=self._ref(hit),
                    fingerprint=digest,
                )
            )
        findings.sort(key=lambda f: (KIND_RANK[f.kind], f.start if f.start is not None else -1, f.rule))
        return findings

    def _severity(self, hit: Hit) -> str:
        if hit.kind == "timeliness":
            rule = self.policy.late_entry
            return "off" if rule is None else rule.severity
        return self.policy.severity_for(hit.kind, hit.category, hit.rule)

    def _ref(self, hit: Hit) -> str:
        if hit.kind == "timeliness":
            return hit.seed
        return self.policy.ref_for(hit.kind, hit.category, hit.rule) or hit.seed

    def _score(self, elements: dict[str, Any], findings: list[Finding]) -> int:
        policy = self.policy
        penalty = sum(
            rule.weight for name, rule in policy.elements.items() if rule.required and not elements[name].present
        )
        found = {f.category for f in findings if f.kind == "quality"}
        penalty += sum(rule.weight for cat, rule in policy.quality.items() if cat in found and rule.severity != "off")
        if policy.late_entry and any(f.category == "late_entry" for f in findings):
            penalty += policy.late_entry.weight
        return max(0, min(100, 100 - penalty))
