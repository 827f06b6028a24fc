"""The sentence classifier: finds paraphrased prohibited content that the lexicon rules miss.

Trained by `make train` (notecheck/training.py) and shipped in notecheck/models/. This module only runs it.

Two ways to run the same model:
- the canonical scikit-learn pipeline in `sentence_classifier.skops` (loading it imports scikit-learn and skops,
  about 1.5-2 s of start-up);
- the fast path (`LinearTfidfModel`): the same vocabularies, idf weights, coefficients and sigmoid calibration
  exported by training to `sentence_classifier.npz` + `sentence_classifier.json`, evaluated with numpy alone. It
  reproduces scikit-learn's `word` and `char_wb` analyzers exactly; tests/test_classifier.py checks that both give
  the same probabilities. The Checker loads the fast path when it is there.
"""

from __future__ import annotations

import json
import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from spacy.tokens import Doc

from notecheck.detectors import Hit
from notecheck.matching import doc_text, overlaps, sentence_spans

MODEL_FILE = "sentence_classifier.skops"
FAST_MODEL_FILE = "sentence_classifier.npz"
FAST_VOCAB_FILE = "sentence_classifier.json"
SEED = "000_307c4094741002af.txt"
# In a sentence where a rule already found another category, the classifier's extra categories are mostly echoes
# of that category's wording (a disability sentence scored as medical); it must be this sure there (tuned on dev).
CROWDED_SENTENCE_THRESHOLD = 0.9
_WHITE_SPACES = re.compile(r"\s\s+")


def default_model_path() -> Path:
    return Path(str(resources.files("notecheck") / "models" / MODEL_FILE))


# -- the numpy-only model ------------------------------------------------------------------------------------------
class _Block:
    """One TfidfVectorizer: analyzer, vocabulary, idf; l2-normalised tf-idf of a text as (indices, values)."""

    def __init__(self, spec: dict[str, Any], idf: np.ndarray, offset: int):
        self.analyzer = spec["analyzer"]
        if self.analyzer not in ("word", "char_wb"):
            raise ValueError(f"unsupported analyzer {self.analyzer!r}")
        self.min_n, self.max_n = spec["ngram_range"]
        self.lowercase = bool(spec["lowercase"])
        self.sublinear = bool(spec["sublinear_tf"])
        self.binary = bool(spec["binary"])
        self.token_re = re.compile(spec["token_pattern"]) if self.analyzer == "word" else None
        self.vocabulary = {term: i for i, term in enumerate(spec["terms"])}
        self.idf = idf
        self.offset = offset
        self._word_cache: _WordCache[bytes] = _WordCache(self.word_columns)
        # With a token pattern whose tokens are runs of word characters, no token holds a space: an n-gram term
        # "a b" can be looked up as the token tuple ("a", "b") without joining strings.
        self._by_tuples = self.analyzer == "word" and spec["token_pattern"] in _WORD_CHAR_TOKEN_PATTERNS
        self._ngram_ids = {tuple(term.split(" ")): i for term, i in self.vocabulary.items() if " " in term}

    def ngrams(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if self.analyzer == "word":
            return self._word_ngrams(self.token_re.findall(text))  # type: ignore[union-attr]
        return self._char_wb_ngrams(text)

    def _word_ngrams(self, tokens: list[str]) -> list[str]:
        # sklearn.feature_extraction.text._VectorizerMixin._word_ngrams
        if self.max_n == 1:
            return tokens
        out = list(tokens) if self.min_n == 1 else []
        for n in range(max(self.min_n, 2), min(self.max_n + 1, len(tokens) + 1)):
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out

    def _char_wb_ngrams(self, text: str) -> list[str]:
        # sklearn.feature_extraction.text._VectorizerMixin._char_wb_ngrams
        text = _WHITE_SPACES.sub(" ", text)
        out: list[str] = []
        for word in text.split():
            w = " " + word + " "
            w_len = len(w)
            for n in range(self.min_n, self.max_n + 1):
                offset = 0
                out.append(w[offset : offset + n])
                while offset + n < w_len:
                    offset += 1
                    out.append(w[offset : offset + n])
                if offset == 0:
                    break
        return out

    def columns(self, text: str) -> bytes:
        """Vocabulary index of every n-gram of `text` that is in the vocabulary, repeated as often as it occurs, as
        native C ints (`np.intc`)."""
        if self.lowercase:
            text = text.lower()
        if self.analyzer == "word":
            tokens = self.token_re.findall(text)  # type: ignore[union-attr]
            if not self._by_tuples:
                grams = self._word_ngrams(tokens)
                return array("i", [i for i in map(self.vocabulary.get, grams) if i is not None]).tobytes()
            found = [i for i in map(self.vocabulary.get, tokens) if i is not None] if self.min_n == 1 else []
            get = self._ngram_ids.get
            for n in range(max(self.min_n, 2), min(self.max_n + 1, len(tokens) + 1)):
                grams = zip(tokens, tokens[1:]) if n == 2 else zip(*(tokens[k:] for k in range(n)))  # noqa: B905
                found += [i for i in map(get, grams) if i is not None]
            return array("i", found).tobytes()
        # char_wb n-grams never cross whitespace: each word's columns are computed once and cached
        return b"".join(map(self._word_cache.__getitem__, text.split()))

    def word_columns(self, word: str) -> bytes:
        """The columns of one (lowercased) word's char_wb n-grams, as `columns` gives them."""
        found = [i for i in map(self.vocabulary.get, self._char_wb_ngrams(word)) if i is not None]
        return array("i", found).tobytes()

    def weights(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The l2-normalised tf-idf of every text as (rows, columns in this block, values), by row then column."""
        width = len(self.idf)
        per_text = [self.columns(text) for text in texts]
        lengths = [len(found) // _INT_SIZE for found in per_text]
        if not any(lengths):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        columns = np.frombuffer(b"".join(per_text), dtype=np.intc)
        if len(texts) <= _SHORT_LIMIT and width <= _SHORT_LIMIT:
            rows, cols, counts = _count_pairs_16(np.repeat(np.arange(len(texts), dtype=np.uint16), lengths), columns)
        else:
            keys = np.repeat(np.arange(len(texts), dtype=np.int64) * width, lengths) + columns
            unique, counts = np.unique(keys, return_counts=True)
            rows, cols = np.divmod(unique, width)
        tf = np.ones(len(counts)) if self.binary else counts.astype(np.float64)
        if self.sublinear:
            tf = np.log(tf) + 1.0
        values = tf * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
        return rows, cols, values / norms[rows]


_SHORT_LIMIT = 1 << 16
_WORD_CHAR_TOKEN_PATTERNS = {r"(?u)\b\w\w+\b", r"\b\w\w+\b"}  # scikit-learn's default, with and without (?u)
_T = TypeVar("_T")


def _count_pairs_16(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (row, column) pairs, sorted by row then column, and how often each occurs; rows and columns
    below 2**16. Two stable argsorts of 16-bit keys (numpy radix-sorts those), column then row: about 3x faster
    than np.unique of row * width + column, with the same result."""
    cols = columns.astype(np.uint16)
    order = np.argsort(cols, kind="stable")
    rows, cols = rows[order], cols[order]
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    first = np.empty(len(rows), dtype=bool)
    first[0] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    first[1:] |= cols[1:] != cols[:-1]
    starts = np.flatnonzero(first)
    return rows[starts].astype(np.int64), cols[starts].astype(np.intp), np.diff(starts, append=len(rows))


class _WordCache(dict[str, _T]):
    """word -> `compute(word)`, computed on first use; cleared when it reaches _WORD_CACHE_SIZE words."""

    def __init__(self, compute: Callable[[str], _T]):
        super().__init__()
        self.compute = compute

    def __missing__(self, word: str) -> _T:
        found = self.compute(word)
        if len(self) >= _WORD_CACHE_SIZE:
            self.clear()
        self[word] = found
        return found


_INT_SIZE = np.dtype(np.intc).itemsize
# Bounds the cache to about a quarter of the ~50 MB that 200,000 entries reached with notes full of new words
# (api_bench --fresh-words); the 950 corpus notes hold about 7,900 distinct words, so clears stay rare.
_WORD_CACHE_SIZE = 50_000


class LinearTfidfModel:
    """TF-IDF blocks -> one linear score per category -> sigmoid calibration; `predict_proba` like the pipeline."""

    def __init__(self, config: dict[str, Any], arrays: dict[str, np.ndarray]):
        self.blocks = []
        offset = 0
        for spec in config["blocks"]:
            idf = np.asarray(arrays[f"idf_{spec['name']}"], dtype=np.float64)
            self.blocks.append(_Block(spec, idf, offset))
            offset += len(idf)
        coef = np.asarray(arrays["coef"], dtype=np.float64)  # (categories, features)
        if coef.shape[1] != offset:
            raise ValueError("model arrays do not match the vocabularies")
        # each block's coefficients as (features, categories) rows: one contiguous gather per non-zero
        self.coef_by_feature = [
            np.ascontiguousarray(coef[:, block.offset : block.offset + len(block.idf)].T) for block in self.blocks
        ]
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        self.sig_a = np.asarray(arrays["sig_a"], dtype=np.float64)
        self.sig_b = np.asarray(arrays["sig_b"], dtype=np.float64)
        self.categories: list[str] = list(config["categories"])
        self.messages: dict[str, str] = dict(config.get("messages", {}))

    @classmethod
    def load(cls, npz_path: Path, json_path: Path | None = None) -> LinearTfidfModel:
        json_path = json_path or npz_path.with_suffix(".json")
        config = json.loads(json_path.read_text(encoding="utf-8"))
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(config, arrays)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """The linear score of every text for every category: one sparse-times-dense product for the batch."""
        scores = np.tile(self.intercept, (len(texts), 1))
        for block, coef in zip(self.blocks, self.coef_by_feature, strict=True):
            rows, cols, values = block.weights(texts)
            if len(rows):
                # each non-zero's coefficient row times its value, summed per text: rows are sorted, so every text's
                # non-zeros are one segment (`take` is several times faster than fancy indexing here)
                products = coef.take(cols, axis=0)
                products *= values[:, None]
                starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
                scores[rows[starts]] += np.add.reduceat(products, starts, axis=0)
        return scores

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        z = self.sig_a * self.decision_function(texts) + self.sig_b
        return 1.0 / (1.0 + np.exp(z))  # scipy.special.expit(-(a*T + b)), as sklearn's _SigmoidCalibration


# -- the classifier the Checker uses ---------------------------------------------------------------------------------
class SentenceClassifier:
    """Wraps a fitted model (a scikit-learn pipeline or a LinearTfidfModel): sentence text -> probability per
    prohibited category."""

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
        spans_per_doc = [[(a, b) for a, b in sentence_spans(doc) if doc_text(doc)[a:b].strip()] for doc in docs]
        texts = [doc_text(doc)[a:b] for doc, spans in zip(docs, spans_per_doc, strict=True) for a, b in spans]
        probabilities = self.predict_sentences(texts)
        out, i = [], 0
        for spans in spans_per_doc:
            out.append((spans, probabilities[i : i + len(spans)]))
            i += len(spans)
        return out

    def confirmed(self, doc: Doc, prediction: Any, rule_hits: list[Hit], veto_below: float) -> list[Hit]:
        """The prohibited rule hits the model does not veto: a hit is dropped when its sentence's probability for
        the hit's category is below `veto_below` (the policy's `classifier_veto_below`). Hits outside any scored
        sentence, and every other kind of hit, are kept."""
        spans, probabilities = prediction
        starts = [a for a, _ in spans]

        def sentence(hit: Hit) -> int | None:
            i = bisect_right(starts, hit.start) - 1  # type: ignore[arg-type]
            return i if 0 <= i < len(spans) and hit.start < spans[i][1] else None  # type: ignore[operator]

        where = [sentence(h) if h.kind == "prohibited" and h.start is not None else None for h in rule_hits]
        categories_in: dict[int, set[str]] = {}
        for hit, i in zip(rule_hits, where, strict=True):
            if i is not None:
                categories_in.setdefault(i, set()).add(hit.category)
        # A sentence where the rules found several categories is scored as a whole by the model, which then ranks
        # the minor one low ("in rehab ... her PO"): no veto there.
        return [
            hit
            for hit, i in zip(rule_hits, where, strict=True)
            if i is None
            or len(categories_in[i]) > 1
            or hit.category not in self.categories
            or float(probabilities[i][self.categories.index(hit.category)]) >= veto_below
        ]

    def hits(
        self,
        doc: Doc,
        prediction: Any,
        rule_hits: list[Hit],
        threshold: float,
        excluded: Callable[[], Sequence[tuple[int, int, frozenset[str]]]] = tuple,
    ) -> list[Hit]:
        """Sentence-level findings for categories no rule already found in that sentence.

        A sentence's probability must reach `threshold` (the policy's `classifier_threshold`), or
        `CROWDED_SENTENCE_THRESHOLD` when a rule already found a different prohibited category in that sentence.
        Where the lexicon's exclusions mark words of the sentence as an occupational or incidental use of the
        category ("criminal justice degree", "CNA training"), those words are blanked and the sentence scored
        again: only what remains may carry the finding. `excluded` is called only if some sentence qualifies.
        """
        spans, probabilities = prediction
        crowded = max(threshold, CROWDED_SENTENCE_THRESHOLD)
        text = doc_text(doc)
        exclusions: Sequence[tuple[int, int, frozenset[str]]] | None = None
        found = []
        for (start, end), row in zip(spans, probabilities, strict=True):
            in_sentence = {
                h.category
                for h in rule_hits
                if h.kind == "prohibited" and h.start is not None and overlaps(start, end, h.start, h.end)
            }
            needed = crowded if in_sentence else threshold
            for index, category in enumerate(self.categories):
                p = float(row[index])
                if category in in_sentence or p < needed:
                    continue
                if exclusions is None:
                    exclusions = excluded()
                covered = [(a, b) for a, b, cats in exclusions if category in cats and overlaps(start, end, a, b)]
                if covered:
                    p = float(self.predict_sentences([_blank(text, start, end, covered)])[0][index])
                    if p < needed:
                        continue
                start_trim, end_trim = _trim(text, start, end)
                found.append(
                    Hit("prohibited", category, f"prohibited.{category}.classifier", start_trim, end_trim, p,
                        self.messages.get(category, f"This sentence appears to convey {category.replace('_', ' ')} "
                                                    "information, which must not be recorded in the case file."),
                        SEED)
                )  # fmt: skip
        return found


def _blank(text: str, start: int, end: int, covered: list[tuple[int, int]]) -> str:
    """The sentence text[start:end] with the covered spans replaced by spaces."""
    chars = list(text[start:end])
    for a, b in covered:
        for i in range(max(a, start), min(b, end)):
            chars[i - start] = " "
    return "".join(chars)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _load_skops(path: Path) -> SentenceClassifier:
    import skops.io as sio  # deferred: scikit-learn is only imported for the canonical artifact

    bundle = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    return SentenceClassifier(bundle["pipeline"], list(bundle["categories"]), dict(bundle.get("messages", {})))


def _load_fast(path: Path) -> SentenceClassifier:
    model = LinearTfidfModel.load(path)
    return SentenceClassifier(model, model.categories, model.messages)


def load_classifier(spec: bool | str | Path = True) -> SentenceClassifier | None:
    """Load the bundled model (spec=True: the numpy fast path when exported, else the .skops file) or a model file
    (`.skops` for the scikit-learn pipeline, `.npz` for the fast path); None when no model has been trained yet."""
    if spec is True:
        canonical = default_model_path()
        fast = canonical.with_name(FAST_MODEL_FILE)
        if fast.exists() and fast.with_name(FAST_VOCAB_FILE).exists():
            return _load_fast(fast)
        return _load_skops(canonical) if canonical.exists() else None
    path = Path(str(spec))
    if not path.exists():
        return None
    return _load_fast(path) if path.suffix == ".npz" else _load_skops(path)
