"""Training: sentence labels from evidence quotes, lexicon examples, determinism, the exported fast path."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from notecheck import training
from notecheck.classifier import FAST_MODEL_FILE, FAST_VOCAB_FILE, MODEL_FILE, LinearTfidfModel, load_classifier
from notecheck.nlp import load_nlp

ROOT = Path(__file__).resolve().parent.parent


def _note(note_id: str, text: str, evidence: list[tuple[str, str]]) -> dict:  # type: ignore[type-arg]
    return {
        "id": note_id,
        "text": text,
        "labels": {
            "prohibited": sorted({c for c, _ in evidence}),
            "evidence": [{"category": c, "quote": q} for c, q in evidence],
        },
    }


def test_a_sentence_is_labeled_with_the_categories_of_the_quotes_it_overlaps() -> None:
    notes = [
        _note(
            "n1",
            "Met client at the office. She has a court date and her PO called. Next visit 5/2.",
            [("legal", "court date"), ("criminal", "her PO")],
        )
    ]
    sentences = training.make_sentences(notes, load_nlp())
    assert sentences.texts == [
        "Met client at the office.",
        "She has a court date and her PO called.",
        "Next visit 5/2.",
    ]
    legal, criminal = training.CATEGORIES.index("legal"), training.CATEGORIES.index("criminal")
    assert sentences.labels[1, legal] == 1 and sentences.labels[1, criminal] == 1
    assert sentences.labels[0].sum() == 0 and sentences.labels[2].sum() == 0
    assert sentences.note_ids == ["n1"] * 3


def test_a_quote_spanning_two_sentences_labels_both() -> None:
    notes = [_note("n1", "She went to rehab. It was for 28 days.", [("substance_use", "rehab. It was")])]
    sentences = training.make_sentences(notes, load_nlp())
    assert sentences.labels[:, training.CATEGORIES.index("substance_use")].tolist() == [1, 1]


def test_lexicon_examples_are_labeled_with_their_rule_category(checker_no_model) -> None:  # type: ignore[no-untyped-def]
    extra = training.lexicon_sentences(checker_no_model)
    assert len(extra.texts) == len(extra.labels) > 100
    by_text = dict(zip(extra.texts, extra.labels.tolist(), strict=True))
    assert by_text["Client denies drug use."][training.CATEGORIES.index("substance_use")] == 1
    assert sum(by_text["Client is expecting a call back from the employer."]) == 0


@pytest.fixture(scope="module")
def tiny_fit(checker_no_model):  # type: ignore[no-untyped-def]
    """A model fitted on the lexicon examples alone, with 2-fold calibration: fast enough for the test suite."""
    saved = training.CV_FOLDS
    training.CV_FOLDS = 2
    try:
        data = training.lexicon_sentences(checker_no_model)
        first, second = training.fit(data), training.fit(data)
    finally:
        training.CV_FOLDS = saved
    return data, first, second


def test_training_is_deterministic(tiny_fit) -> None:  # type: ignore[no-untyped-def]
    data, first, second = tiny_fit
    a = first.predict_proba(data.texts)
    b = second.predict_proba(data.texts)
    assert np.array_equal(a, b)


def test_saved_model_and_fast_export_agree(tiny_fit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, pipeline, _ = tiny_fit
    path = training.save(pipeline, tmp_path)
    assert path.name == MODEL_FILE and (tmp_path / FAST_MODEL_FILE).exists()
    config = json.loads((tmp_path / FAST_VOCAB_FILE).read_text(encoding="utf-8"))
    assert config["skops_sha256"] == training.sha256(path) and config["categories"] == training.CATEGORIES
    with np.load(tmp_path / FAST_MODEL_FILE, allow_pickle=False) as arrays:
        assert arrays["coef"].shape[0] == len(training.CATEGORIES)
    canonical = load_classifier(str(path))
    fast = load_classifier(str(tmp_path / FAST_MODEL_FILE))
    assert canonical is not None and fast is not None and isinstance(fast.pipeline, LinearTfidfModel)
    texts = [*data.texts, "Totally unrelated words here.", ""]
    assert np.abs(canonical.predict_sentences(texts) - fast.predict_sentences(texts)).max() < 1e-6


def test_the_model_card_reports_dev_and_test_and_the_data_hashes() -> None:
    card = (ROOT / "notecheck" / "models" / "README.md").read_text(encoding="utf-8")
    for needle in (
        "rules alone",
        "model alone",
        "DEV:",
        "TEST:",
        "SHA-256",
        training.sha256(ROOT / "data" / "train.jsonl"),
    ):
        assert needle in card


def test_cv_folds_are_deterministic_and_cut_across_writers() -> None:
    records = [{"id": f"{w}-{i:04d}"} for w in "abc" for i in range(40)]
    folds = training.assign_folds(records, 5)
    assert folds == training.assign_folds(records, 5) and set(folds) == set(range(5))
    assert training.assign_folds(records, 0, "writer") == [0] * 40 + [1] * 40 + [2] * 40


def test_sentence_banks_are_training_sentences_with_their_categories(tmp_path: Path) -> None:
    (tmp_path / "sentences").mkdir()
    rows = [
        {"id": "s-1", "text": "Did a bid upstate.", "categories": ["criminal"], "hard_negative": False},
        {"id": "s-2", "text": "Applied at Foster Farms.", "categories": [], "hard_negative": True},
    ]
    (tmp_path / "sentences" / "bank.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    bank = training.bank_sentences(tmp_path)
    assert bank.texts == ["Did a bid upstate.", "Applied at Foster Farms."]
    criminal = training.CATEGORIES.index("criminal")
    assert bank.labels[0, criminal] == 1 and bank.labels.sum() == 1
    assert training.bank_sentences(tmp_path / "missing").texts == []
    assert training.bank_sha256(tmp_path) != training.bank_sha256(tmp_path / "missing")


def test_cross_validation_predicts_every_note_out_of_fold(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(training, "CV_FOLDS", 2)
    notes = [
        _note("a-1", "Met client at the office. She is 7 months along.", [("pregnancy", "7 months along")]),
        _note("a-2", "Phone call with client. He has a court date Monday.", [("legal", "court date")]),
        _note("b-1", "Client applied at the drug store for a cashier job.", []),
        _note("b-2", "Client relapsed last week and is back in IOP.", [("substance_use", "relapsed")]),
    ]
    notes[2]["labels"]["hard_negative"] = True
    result = training.cross_validate(notes, 2, 0.5, groups="writer", thresholds=(0.5, 0.9), data_dir=tmp_path)
    assert result["folds"] == 2 and result["notes"] == 4
    assert [row["threshold"] for row in result["sweep"]] == [0.5, 0.9]
    assert result["rules"]["note_level"]["support"] == 3
    assert result["rules"]["hard_negatives"]["notes"] == 1
    assert "rules + model" in training.cv_report(result)


def test_the_threshold_is_the_lowest_that_every_sweep_accepts() -> None:
    def row(t: float, hard: float, recall: float) -> dict[str, float]:
        return {"threshold": t, "hard_negative_rate": hard, "recall": recall}

    by_hash = [row(0.5, 0.05, 0.97), row(0.6, 0.03, 0.96), row(0.7, 0.01, 0.96)]
    by_writer = [row(0.5, 0.02, 0.97), row(0.6, 0.04, 0.97), row(0.7, 0.02, 0.95)]
    assert training.choose_threshold([by_hash]) == 0.6
    assert training.choose_threshold([by_hash, by_writer]) == 0.7
    assert training.choose_threshold([[row(0.9, 0.01, 0.90)]]) is None  # recall too low
    assert training.choose_threshold([[row(0.9, 0.10, 0.99)]]) is None  # too many hard negatives


def test_saving_the_same_model_twice_gives_the_same_bytes(tiny_fit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, first, second = tiny_fit
    a, b = tmp_path / "a", tmp_path / "b"
    training.save(first, a)
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    training.save(second, b)
    for name in (MODEL_FILE, FAST_MODEL_FILE, FAST_VOCAB_FILE):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
