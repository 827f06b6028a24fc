"""Redaction suggestions: the note with prohibited spans and PII replaced by `<CATEGORY>` placeholders."""

from __future__ import annotations

from functools import cache

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from notecheck.report import Report

REDACTED_KINDS = ("prohibited", "pii")


@cache
def _engine() -> AnonymizerEngine:
    return AnonymizerEngine()


def placeholder(category: str) -> str:
    return f"<{category.upper()}>"


def redact(text: str, report: Report) -> str:
    """Replace every located prohibited or PII finding; overlapping spans merge (presidio-anonymizer rules)."""
    results = [
        RecognizerResult(entity_type=f.category.upper(), start=f.start, end=f.end, score=f.confidence)
        for f in report.findings
        if f.kind in REDACTED_KINDS and f.start is not None and f.end is not None
    ]
    if not results:
        return text
    operators = {r.entity_type: OperatorConfig("replace", {"new_value": placeholder(r.entity_type)}) for r in results}
    return _engine().anonymize(text=text, analyzer_results=results, operators=operators).text
