"""The sentence classifier: finds paraphrased prohibited content that the lexicon rules miss.

Trained by `make train` (notecheck/training.py) and shipped in notecheck/models/. This module only runs it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from spacy.tokens import Doc

from notecheck.detectors import Hit
from notecheck.matching import overlaps

MODEL_FILE = "sentence_classifier.skops"
SEED = "000_307c4094741002af.txt"


def default_model_path() -> Path:
    return Path(str(resources.files("notecheck") / "models" / MODEL_FILE))


class SentenceClassifier:
    """Wraps a fitted scikit-learn pipeline: sentence text -> probability per prohibited category."""

    def __init__(self, pipeline: Any, categories: list[str], messages: dict[str, str] | None = None):
        self.pipeline = pipeline
        self.categories = categories
        self.messages = messages or {}

    def predict_sentences(self, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, len(self.categories)))
        return np.asarray(self.pipeline.predict_proba(sentences))

    def predict_docs(self, docs: list[Doc]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """One classifier call for a whole batch of notes; returns per note (sentence spans, probabilities)."""
        spans_per_doc = [[(s.start_char, s.end_char) for s in doc.sents if s.text.strip()] for doc in docs]
        texts = [doc.text[a:b] for doc, spans in zip(docs, spans_per_doc, strict=True) for a, b in spans]
        probabilities = self.predict_sentences(texts)
        out, i = [], 0
        for spans in spans_per_doc:
            out.append((spans, probabilities[i : i + len(spans)]))
            i += len(spans)
        return out

    def hits(self, doc: Doc, prediction: Any, rule_hits: list[Hit], threshold: float) -> list[Hit]:
        """Sentence-level findings for categories no rule already found in that sentence."""
        spans, probabilities = prediction
        found = []
        for (start, end), row in zip(spans, probabilities, strict=True):
            for index, category in enumerate(self.categories):
                p = float(row[index])
                if p < threshold:
                    continue
                if any(h.category == category and h.start is not None and overlaps(start, end, h.start, h.end)
                       for h in rule_hits):  # fmt: skip
                    continue
                start_trim, end_trim = _trim(doc.text, start, end)
                found.append(
                    Hit("prohibited", category, f"prohibited.{category}.classifier", start_trim, end_trim, p,
                        self.messages.get(category, f"This sentence appears to convey {category.replace('_', ' ')} "
                                                    "information, which must not be recorded in the case file."),
                        SEED)
                )  # fmt: skip
        return found


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def load_classifier(spec: bool | str = True) -> SentenceClassifier | None:
    """Load the bundled model (spec=True) or a model file; None when no model has been trained yet."""
    path = default_model_path() if spec is True else Path(str(spec))
    if not path.exists():
        return None
    import skops.io as sio  # deferred: scikit-learn is only imported when a model exists

    bundle = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    return SentenceClassifier(bundle["pipeline"], list(bundle["categories"]), dict(bundle.get("messages", {})))
