"""Presidio recognizers notecheck adds: YAML-defined pattern recognizers and an offline email recognizer."""

from __future__ import annotations

import re
from functools import cache

import tldextract
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from notecheck.lexicon import PiiRecognizerSpec

_FLAGS = re.IGNORECASE | re.MULTILINE


@cache
def offline_tld_extractor() -> tldextract.TLDExtract:
    """tldextract with its bundled suffix snapshot: no fetch, no cache directory."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer, validating domains against the bundled public-suffix snapshot only."""

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tld_extractor()(pattern_text).fqdn != ""


class YamlPatternRecognizer(LocalRecognizer):
    """A pattern recognizer whose patterns, context and examples come from lexicons/pii.yaml.

    Unlike Presidio's PatternRecognizer, a named group `value` narrows the result to the identifier, so "DOB
    4/12/1988" reports the date only and the label stays readable after redaction.
    """

    def __init__(self, spec: PiiRecognizerSpec):
        self.spec = spec
        self._patterns = [(p.name, re.compile(p.regex, _FLAGS), p.score) for p in spec.patterns]
        self._deny = [w.lower() for w in spec.deny_context]
        super().__init__(
            supported_entities=[spec.entity],
            name=spec.name,
            context=list(spec.context),
            supported_language="en",
        )

    def load(self) -> None:
        return None

    def compiled_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(pattern for _, pattern, _ in self._patterns)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for name, pattern, score in self._patterns:
            for match in pattern.finditer(text):
                start, end = match.span("value") if "value" in pattern.groupindex else match.span()
                if end <= start or self._denied(text, start):
                    continue
                explanation = AnalysisExplanation(
                    recognizer=self.name, original_score=score, pattern_name=name, pattern=pattern.pattern
                )
                results.append(
                    RecognizerResult(
                        entity_type=self.spec.entity,
                        start=start,
                        end=end,
                        score=score,
                        analysis_explanation=explanation,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return results

    def _denied(self, text: str, start: int) -> bool:
        if not self._deny:
            return False
        window = text[max(0, start - 40) : start].lower()
        return any(word in window for word in self._deny)
