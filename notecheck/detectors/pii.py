"""PII through Presidio's AnalyzerEngine, fed notecheck's own parse, with only the recognizers notecheck trusts.

No PERSON/ORGANIZATION/DATE_TIME: only the entities of CONTRACT §2 are requested. Presidio's own US_SSN
recognizer is left out because it rejects numbers such as 123-45-6789 that are still SSNs written into a note.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from typing import Any

import regex
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as presidio
from spacy.tokens import Doc

from notecheck.detectors import Hit
from notecheck.detectors.pii_recognizers import OfflineEmailRecognizer, YamlPatternRecognizer
from notecheck.errors import ConfigError
from notecheck.lexicon import Lexicons
from notecheck.matching import doc_text
from notecheck.nlp import SharedParseNlpEngine
from notecheck.report import PII_CATEGORIES

BUILTIN = {
    "PhoneRecognizer": presidio.PhoneRecognizer,
    "EmailRecognizer": OfflineEmailRecognizer,
    "CreditCardRecognizer": presidio.CreditCardRecognizer,
    "UsBankRecognizer": presidio.UsBankRecognizer,
    "UsLicenseRecognizer": presidio.UsLicenseRecognizer,
    "IbanRecognizer": presidio.IbanRecognizer,
}
RULE_PREFIX = "pii"


class PiiDetector:
    def __init__(self, engine: SharedParseNlpEngine, lexicons: Lexicons):
        spec = lexicons.pii
        registry = RecognizerRegistry(supported_languages=["en"])
        gated: list[tuple[Any, str, str | None]] = []  # (recognizer, its name in pii.yaml, its `requires` regex)
        for builtin in spec.builtin:
            if builtin.name not in BUILTIN:
                raise ConfigError(
                    f"pii.yaml: unknown builtin recognizer '{builtin.name}'; choose from {sorted(BUILTIN)}"
                )
            try:
                recognizer = BUILTIN[builtin.name](**builtin.options)
            except TypeError as exc:
                raise ConfigError(f"pii.yaml: bad options for {builtin.name}: {exc}") from None
            registry.add_recognizer(recognizer)
            gated.append((recognizer, builtin.name, builtin.requires))
        self._seeds: dict[str, str] = {}
        for recognizer_spec in spec.recognizers:
            recognizer = YamlPatternRecognizer(recognizer_spec)
            registry.add_recognizer(recognizer)
            self._seeds[recognizer_spec.name] = recognizer_spec.seed
            gated.append((recognizer, recognizer_spec.name, recognizer_spec.requires))
        self.rule_ids = sorted(
            f"{RULE_PREFIX}.{entity}.{_snake(r.name)}" for r in registry.recognizers for entity in r.supported_entities
        )
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
        self._engine = engine
        self._entities = [e for e in PII_CATEGORIES if e in set(self._analyzer.get_supported_entities("en"))]
        self._min_score = spec.min_score
        self._messages = spec.messages
        self._gates = _entity_gates(gated, self._entities)

    def entities_possible(self, text: str) -> list[str]:
        """The entities some recognizer could find in `text`: its `requires` pattern matches and, for a YAML
        recognizer, one of its own patterns does (most notes then need no Presidio call at all)."""
        seen: dict[Any, bool] = {}  # recognizers share patterns (most need a digit)

        def found(pattern: Any) -> bool:
            hit = seen.get(pattern)
            if hit is None:
                hit = seen[pattern] = pattern.search(text) is not None
            return hit

        return [
            entity
            for entity, gates in self._gates
            if any(
                (requires is None or found(requires)) and (not own or any(map(found, own))) for requires, own in gates
            )
        ]

    def detect(self, doc: Doc) -> list[Hit]:
        text = doc_text(doc)
        entities = self.entities_possible(text)
        if not entities:
            return []
        results = self._analyzer.analyze(
            text,
            language="en",
            entities=entities,
            nlp_artifacts=self._engine.artifacts(doc),
            score_threshold=self._min_score,
        )
        hits = []
        for r in _drop_contained(results):
            recognizer = (r.recognition_metadata or {}).get("recognizer_name", "presidio")
            rule = f"{RULE_PREFIX}.{r.entity_type}.{_snake(recognizer)}"
            message = self._messages.get(r.entity_type, f"{r.entity_type} is personal information.")
            seed = self._seeds.get(recognizer, "000_307c4094741002af.txt")
            hits.append(Hit("pii", r.entity_type, rule, r.start, r.end, float(r.score), message, seed))
        return hits


Gate = tuple[Any, tuple[Any, ...]]  # (`requires` pattern or None, own patterns), compiled by `_gate_pattern`


def _entity_gates(gated: list[tuple[Any, str, str | None]], entities: list[str]) -> list[tuple[str, list[Gate]]]:
    """Per entity, one gate per recognizer that finds it: its `requires` pattern (None: none) and, for a YAML
    recognizer, its own patterns (it can only find something where one of them matches)."""
    gates: dict[str, list[Gate]] = defaultdict(list)
    for recognizer, name, requires in gated:
        try:
            compiled = _gate_pattern(requires, re.IGNORECASE) if requires else None
        except regex.error as exc:
            raise ConfigError(f"pii.yaml: recognizer {name}: bad 'requires' pattern: {exc}") from None
        own: tuple[Any, ...] = ()
        if isinstance(recognizer, YamlPatternRecognizer):
            own = tuple(_gate_pattern(p.pattern, p.flags) for p in recognizer.compiled_patterns())
        for entity in recognizer.supported_entities:
            gates[entity].append((compiled, own))
    return [(entity, gates[entity]) for entity in entities]


@cache
def _gate_pattern(pattern: str, flags: int) -> Any:
    """A gate's pattern on the `regex` package (as Presidio's own recognizers use): the gates run on every note, and
    `regex` answers them about 30% faster than `re` here (112 -> 78 us a note). One object per pattern, so
    recognizers that share a pattern share its answer in `entities_possible`."""
    kept = flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL)
    return regex.compile(pattern, kept | regex.VERSION0)


def _drop_contained(results: list) -> list:  # type: ignore[type-arg]
    """Where one PII span contains another (a DOB inside a "bank number"), keep the higher-scoring one."""
    ordered = sorted(results, key=lambda r: (-r.score, -(r.end - r.start)))
    kept: list = []  # type: ignore[type-arg]
    for r in ordered:
        if not any(k.start < r.end and r.start < k.end for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r.start)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name.replace("Recognizer", "")):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out) or "presidio"
