"""The sentence classifier at check time: the numpy fast path equals the skops pipeline, and how it combines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from notecheck.classifier import (
    CROWDED_SENTENCE_THRESHOLD,
    FAST_MODEL_FILE,
    LinearTfidfModel,
    SentenceClassifier,
    default_model_path,
    load_classifier,
)
from notecheck.detectors import Hit
from notecheck.matching import remember_text
from notecheck.nlp import load_nlp
from notecheck.report import PROHIBITED_CATEGORIES
from notecheck.training import make_sentences, read_jsonl

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def skops_model() -> SentenceClassifier:
    model = load_classifier(str(default_model_path()))
    assert model is not None
    return model


@pytest.fixture(scope="module")
def fast_model() -> SentenceClassifier:
    model = load_classifier(True)
    assert model is not None
    return model


def test_the_bundled_model_loads_through_the_fast_path(fast_model: SentenceClassifier) -> None:
    assert isinstance(fast_model.pipeline, LinearTfidfModel)
    assert fast_model.categories == [
        "medical",
        "mental_health",
        "substance_use",
        "pregnancy",
        "disability",
        "criminal",
        "legal",
        "domestic_violence",
        "child_custody",
    ]


def test_fast_path_equals_the_skops_pipeline_on_dev_sentences(fast_model, skops_model) -> None:  # type: ignore[no-untyped-def]
    sentences = make_sentences(read_jsonl(ROOT / "data" / "dev.jsonl"), load_nlp()).texts
    sentences += ["", "   ", "ZZZ qqq", "Cx's PO -- DUI, 5/14 @ 9am!!", "naïve café résumé"]
    fast = fast_model.predict_sentences(sentences)
    slow = skops_model.predict_sentences(sentences)
    assert fast.shape == slow.shape == (len(sentences), 9)
    assert np.abs(fast - slow).max() < 1e-6


def test_load_classifier_accepts_either_artifact(skops_model) -> None:  # type: ignore[no-untyped-def]
    fast = load_classifier(str(default_model_path().with_name(FAST_MODEL_FILE)))
    assert fast is not None and isinstance(fast.pipeline, LinearTfidfModel)
    assert not isinstance(skops_model.pipeline, LinearTfidfModel)
    assert load_classifier(str(ROOT / "no-such-model.skops")) is None


def test_checking_a_note_does_not_import_scikit_learn() -> None:
    code = (
        "import sys; from notecheck.checker import Checker; c = Checker(); "
        "r = c.check('She relapsed and is back in rehab.'); "
        "assert c.classifier is not None; "
        "print(sorted(m for m in ('sklearn', 'skops') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


class _Fixed:
    """A stand-in model with fixed probabilities per sentence text."""

    def __init__(self, table: dict[str, list[float]]):
        self.table = table

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([self.table.get(t.strip(), [0.0] * 9) for t in texts])


def _probs(**by_category: float) -> list[float]:
    return [by_category.get(c, 0.0) for c in PROHIBITED_CATEGORIES]


def test_hits_add_sentences_the_rules_missed_and_respect_the_thresholds() -> None:
    nlp = load_nlp()
    text = "She is expecting in May. His PO called about the DUI. Nothing else."
    doc = nlp(text)
    model = SentenceClassifier(
        _Fixed(
            {
                "She is expecting in May.": _probs(pregnancy=0.7),
                "His PO called about the DUI.": _probs(criminal=0.99, substance_use=0.8, legal=0.95),
            }
        ),
        list(PROHIBITED_CATEGORIES),
    )
    po = text.index("His PO")
    rule_hits = [Hit("prohibited", "criminal", "prohibited.criminal.supervision", po, po + 6, 0.95, "m", "s")]
    (prediction,) = model.predict_docs([doc])
    hits = model.hits(doc, prediction, rule_hits, threshold=0.5)
    found = {(h.category, text[h.start : h.end]) for h in hits}
    # a new category in a quiet sentence at the policy threshold
    assert ("pregnancy", "She is expecting in May.") in found
    # the category a rule already found in that sentence is not repeated
    assert not any(c == "criminal" for c, _ in found)
    # in a sentence a rule already flagged, another category needs CROWDED_SENTENCE_THRESHOLD
    assert CROWDED_SENTENCE_THRESHOLD <= 0.95
    assert ("legal", "His PO called about the DUI.") in found
    assert not any(c == "substance_use" for c, _ in found)
    assert all(h.rule == f"prohibited.{h.category}.classifier" for h in hits)
    assert model.hits(doc, prediction, rule_hits, threshold=0.75) == [h for h in hits if h.confidence >= 0.75]


def test_predict_docs_keeps_notes_apart() -> None:
    nlp = load_nlp()
    docs = [nlp("One. Two."), nlp(""), nlp("Three.")]
    model = SentenceClassifier(_Fixed({}), ["medical"] * 9)
    spans = [s for s, _ in model.predict_docs(docs)]
    assert spans == [[(0, 4), (5, 9)], [], [(0, 6)]]


class _KeywordModel:
    """Stands in for the trained model: 'criminal' when a sentence says 'probation', nothing otherwise."""

    def predict_proba(self, texts):  # type: ignore[no-untyped-def]
        return np.array([[0.9 if "probation" in t.lower() else 0.1] for t in texts])


def test_excluded_words_cannot_carry_a_model_finding(checker) -> None:  # type: ignore[no-untyped-def]
    text = "She wants probation officer jobs. Her probation ends in May."
    doc = remember_text(checker.nlp(text), text)
    model = SentenceClassifier(_KeywordModel(), ["criminal"])
    prediction = model.predict_docs([doc])[0]
    occupational = text.index("probation officer jobs")
    excluded = [(occupational, occupational + len("probation officer jobs"), frozenset({"criminal"}))]

    flagged = model.hits(doc, prediction, [], 0.5, excluded=lambda: excluded)
    assert [text[h.start : h.end] for h in flagged] == ["Her probation ends in May."]

    other_category = [(a, b, frozenset({"legal"})) for a, b, _ in excluded]
    assert len(model.hits(doc, prediction, [], 0.5, excluded=lambda: other_category)) == 2
    assert len(model.hits(doc, prediction, [], 0.5)) == 2


def test_the_checker_blanks_occupational_uses_before_trusting_the_model(checker) -> None:  # type: ignore[no-untyped-def]
    report = checker.check("Cx finished her criminal justice degree and is applying for probation officer roles.")
    assert not [f for f in report.findings if f.category == "criminal"]


def _rule_hit(category: str, start: int, length: int, kind: str = "prohibited") -> Hit:
    return Hit(kind, category, "r", start, start + length, 0.9, "m", "s")


def test_the_model_vetoes_rule_hits_in_sentences_it_scores_as_unrelated(checker) -> None:  # type: ignore[no-untyped-def]
    text = "She wants probation officer jobs. Her probation ends in May."
    doc = remember_text(checker.nlp(text), text)
    model = SentenceClassifier(_KeywordModel(), ["criminal"])
    prediction = (model.predict_docs([doc])[0][0], np.array([[0.005], [0.9]]))
    first, second = text.index("probation"), text.rindex("probation")
    rule_hits = [
        _rule_hit("criminal", first, 9),
        _rule_hit("criminal", second, 9),
        _rule_hit("PHONE_NUMBER", first, 9, "pii"),
    ]
    kept = model.confirmed(doc, prediction, rule_hits, 0.01)
    assert [(h.kind, h.start) for h in kept] == [("prohibited", second), ("pii", first)]
    assert model.confirmed(doc, prediction, rule_hits, 0.001) == rule_hits


def test_the_default_policy_lets_the_model_veto_rule_hits(checker) -> None:  # type: ignore[no-untyped-def]
    assert checker.policy.classifier_veto_below is not None and 0 < checker.policy.classifier_veto_below < 0.1


def test_no_veto_where_the_rules_found_several_categories_in_one_sentence(checker) -> None:  # type: ignore[no-untyped-def]
    text = "She is in rehab and her PO approved it. She is in rehab."
    doc = remember_text(checker.nlp(text), text)
    model = SentenceClassifier(_KeywordModel(), ["criminal", "substance_use"])
    spans = model.predict_docs([doc])[0][0]
    prediction = (spans, np.array([[0.9, 0.001], [0.1, 0.001]]))
    first, second, po = text.index("rehab"), text.rindex("rehab"), text.index("PO")
    hits = [_rule_hit("substance_use", first, 5), _rule_hit("criminal", po, 2), _rule_hit("substance_use", second, 5)]
    kept = model.confirmed(doc, prediction, hits, 0.01)
    assert [(h.category, h.start) for h in kept] == [("substance_use", first), ("criminal", po)]


def _dev_sentences() -> list[str]:
    sentences = make_sentences(read_jsonl(ROOT / "data" / "dev.jsonl"), load_nlp()).texts
    return sentences + ["", "   ", "ZZZ qqq", "Cx's PO -- DUI, 5/14 @ 9am!!", "naïve café résumé", "a\u2003b\tc\n\nd"]


def test_the_word_cache_changes_no_probability_and_stays_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import notecheck.classifier as classifier

    model = classifier.LinearTfidfModel.load(default_model_path().with_name(FAST_MODEL_FILE))
    sentences = _dev_sentences()
    cold = model.predict_proba(sentences)
    (char_block,) = [b for b in model.blocks if b.analyzer == "char_wb"]
    assert len(char_block._word_cache) > 100
    warm = model.predict_proba(sentences)
    assert np.array_equal(cold, warm)
    # one text at a time (other batch neighbours) gives the same rows
    assert np.abs(np.vstack([model.predict_proba([s]) for s in sentences[:50]]) - cold[:50]).max() < 1e-12

    monkeypatch.setattr(classifier, "_WORD_CACHE_SIZE", 40)
    small = classifier.LinearTfidfModel.load(default_model_path().with_name(FAST_MODEL_FILE))
    (small_block,) = [b for b in small.blocks if b.analyzer == "char_wb"]
    for chunk in range(0, len(sentences), 7):
        rows = small.predict_proba(sentences[chunk : chunk + 7])
        assert np.abs(rows - cold[chunk : chunk + 7]).max() < 1e-12
        assert len(small_block._word_cache) <= 40


def test_the_16_bit_pair_count_equals_np_unique(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import notecheck.classifier as classifier

    model = classifier.LinearTfidfModel.load(default_model_path().with_name(FAST_MODEL_FILE))
    sentences = _dev_sentences()
    fast = [block.weights(sentences) for block in model.blocks]
    monkeypatch.setattr(classifier, "_SHORT_LIMIT", 0)  # every batch takes the np.unique path
    for block, (rows, cols, values) in zip(model.blocks, fast, strict=True):
        rows_u, cols_u, values_u = block.weights(sentences)
        assert np.array_equal(rows, rows_u) and np.array_equal(cols, cols_u)
        assert np.array_equal(values, values_u)


def test_word_ngrams_looked_up_as_token_tuples_equal_the_joined_strings() -> None:
    model = LinearTfidfModel.load(default_model_path().with_name(FAST_MODEL_FILE))
    (word_block,) = [b for b in model.blocks if b.analyzer == "word"]
    assert word_block._by_tuples and word_block.max_n == 2
    sentences = _dev_sentences()
    by_tuples = [word_block.columns(s) for s in sentences]
    word_block._by_tuples = False  # what any other token pattern gets: sklearn's joined n-gram strings
    by_strings = [word_block.columns(s) for s in sentences]
    assert [sorted(np.frombuffer(a, dtype=np.intc)) for a in by_tuples] == [
        sorted(np.frombuffer(b, dtype=np.intc)) for b in by_strings
    ]
    assert sum(len(a) for a in by_tuples) > 0
