"""Train the sentence classifier (`python -m notecheck.training`, `make train`).

Sentences are made with the checker's own tokenizer and sentencizer (`notecheck.nlp.load_nlp()`), so training and
checking cut notes the same way. A sentence is labeled with a category when it overlaps an evidence quote of that
category (data/README.md). Features: TF-IDF word 1-2grams and char_wb 2-5grams; model: one calibrated linear SVM per
category (one-vs-rest, sigmoid calibration on cross-validated scores). Training reads data/train.jsonl only; the
threshold of the combination with the rules is chosen on data/dev.jsonl; data/test.jsonl is only reported.

Writes, in notecheck/models/:
- sentence_classifier.skops: the canonical artifact, the fitted scikit-learn pipeline in the bundle format
  `notecheck.classifier.load_classifier` reads ({"pipeline", "categories", "messages"}), saved with skops;
- sentence_classifier.npz + sentence_classifier.json: the same model as plain arrays and vocabularies, which
  notecheck.classifier evaluates with numpy alone (no scikit-learn import at check time);
- README.md: the model card (data hashes, metrics on dev and test, rules vs model vs both).

`--cv K` instead trains nothing it keeps: it pools data/train.jsonl and data/dev.jsonl, splits the notes into K
folds (by a salted hash of the id; `--cv-groups writer` makes one fold per writer batch, the id's prefix), fits the
classifier on K-1 folds plus the lexicon examples and checks the held-out fold with rules + model. It prints
note-level and per-category figures for rules alone, model alone and both, the hard-negative false-alarm rate and a
threshold sweep. It never reads data/test.jsonl. The rules themselves were tuned on train and dev, so the rules'
figures are optimistic; the model's and the combination's gain over the rules is the honest part.

Example: python -m notecheck.training --threshold 0.5
Example: python -m notecheck.training --cv 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from notecheck.classifier import (
    CROWDED_SENTENCE_THRESHOLD,
    FAST_MODEL_FILE,
    FAST_VOCAB_FILE,
    MODEL_FILE,
    SentenceClassifier,
)
from notecheck.corpus import quote_spans
from notecheck.report import PROHIBITED_CATEGORIES

SEED = 1729
CATEGORIES = list(PROHIBITED_CATEGORIES)
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
MIN_DF = 2
SVM_C = 0.5
AUGMENT_WITH_LEXICON_EXAMPLES = True
CV_FOLDS = 5
MODELS_DIR = Path(__file__).parent / "models"
LEXICON_ID = "lexicon"  # the note id of every lexicon example sentence
MESSAGES = {
    c: f"This sentence appears to convey {c.replace('_', ' ')} information, which must not be recorded in the "
    "case file."
    for c in CATEGORIES
}


# -- data --------------------------------------------------------------------------------------------------------------
@dataclass
class Sentences:
    texts: list[str]
    labels: np.ndarray  # (n, len(CATEGORIES)) of 0/1
    note_ids: list[str]


def sentence_spans(nlp: Any, text: str) -> list[tuple[int, int]]:
    """The sentences the checker classifies: the same tokenizer and sentencizer, blank sentences dropped."""
    return [(s.start_char, s.end_char) for s in nlp(text).sents if s.text.strip()]


def make_sentences(records: Sequence[dict[str, Any]], nlp: Any) -> Sentences:
    texts, rows, ids = [], [], []
    for record in records:
        text = record["text"]
        evidence = [
            (CATEGORIES.index(e["category"]), a, b)
            for e in record["labels"].get("evidence", [])
            for a, b in quote_spans(text, e["quote"])
        ]
        for start, end in sentence_spans(nlp, text):
            row = np.zeros(len(CATEGORIES), dtype=np.int64)
            for index, a, b in evidence:
                if a < end and start < b:
                    row[index] = 1
            texts.append(text[start:end])
            rows.append(row)
            ids.append(record["id"])
    return Sentences(texts, np.array(rows).reshape(-1, len(CATEGORIES)), ids)


def lexicon_sentences(rules: Any) -> Sentences:
    """The lexicons' examples, counter-examples and exclusion examples as extra training sentences.

    An example is positive for its rule's category; every sentence is also labeled with the categories the rules
    find in it, so a counter-example of one rule that is an example of another keeps that label. This teaches the
    model the vocabulary the rules encode, which 374 notes alone cover thinly.
    """
    from notecheck.evaluate import predicted_categories

    texts, rows = [], []

    def add(text: str, category: str | None) -> None:
        row = np.zeros(len(CATEGORIES), dtype=np.int64)
        for found in predicted_categories(rules.check(text)):
            row[CATEGORIES.index(found)] = 1
        if category is not None:
            row[CATEGORIES.index(category)] = 1
        texts.append(text)
        rows.append(row)

    for lexicon in rules.lexicons.categories:
        for rule in lexicon.rules:
            for text in rule.examples:
                add(text, lexicon.category)
            for text in rule.counter_examples:
                add(text, None)
    for exclusion in rules.lexicons.exclusions.exclusions:
        for text in exclusion.examples:
            add(text, None)
    return Sentences(texts, np.array(rows).reshape(-1, len(CATEGORIES)), [LEXICON_ID] * len(texts))


SENTENCE_BANK_DIR = "sentences"


def bank_sentences(data_dir: Path) -> Sentences:
    """The labeled single sentences of data/sentences/*.jsonl: paraphrases and hard negatives written for training.

    Notes carry one or two prohibited sentences each, so paraphrase coverage per category grows slowly with notes;
    a bank of labeled sentences ({"id", "text", "categories", "hard_negative"}) adds it directly. Banks are
    training data only: never evaluated on, never split.
    """
    texts, rows, ids = [], [], []
    for path in sorted((data_dir / SENTENCE_BANK_DIR).glob("*.jsonl")):
        for record in read_jsonl(path):
            row = np.zeros(len(CATEGORIES), dtype=np.int64)
            for category in record["categories"]:
                row[CATEGORIES.index(category)] = 1
            texts.append(record["text"])
            rows.append(row)
            ids.append(record["id"])
    return Sentences(texts, np.array(rows, dtype=np.int64).reshape(-1, len(CATEGORIES)), ids)


def extra_sentences(rules: Any, data_dir: Path) -> Sentences:
    """Everything trained on besides the notes' own sentences: the lexicons' examples and the sentence banks."""
    parts = [bank_sentences(data_dir)]
    if AUGMENT_WITH_LEXICON_EXAMPLES:
        parts.insert(0, lexicon_sentences(rules))
    return concat(*parts)


def concat(*parts: Sentences) -> Sentences:
    return Sentences(
        [t for p in parts for t in p.texts],
        np.vstack([p.labels for p in parts]).reshape(-1, len(CATEGORIES)),
        [i for p in parts for i in p.note_ids],
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bank_sha256(data_dir: Path) -> str:
    """One hash over the sentence banks, in name order (the model card's record of what was trained on)."""
    digest = hashlib.sha256()
    for path in sorted((data_dir / SENTENCE_BANK_DIR).glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prohibited_sha256(*paths: Path) -> str:
    """A hash of what prohibited-content figures depend on: each note's id, text, categories, evidence and
    hard-negative flag (so element or PII label fixes do not make a recorded cross-validation stale)."""
    digest = hashlib.sha256()
    for path in paths:
        for record in read_jsonl(path):
            labels = record["labels"]
            part = [record["id"], record["text"], labels.get("prohibited", []), labels.get("evidence", [])]
            digest.update(json.dumps([*part, labels.get("hard_negative", False)], sort_keys=True).encode())
    return digest.hexdigest()


# -- model -------------------------------------------------------------------------------------------------------------
def build_pipeline() -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=WORD_NGRAMS, min_df=MIN_DF, sublinear_tf=True, lowercase=True)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=MIN_DF, sublinear_tf=True, lowercase=True
                ),
            ),
        ]
    )
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=SEED, max_iter=20000)
    calibrated = CalibratedClassifierCV(
        svm, method="sigmoid", cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED), ensemble=False
    )
    return Pipeline([("features", features), ("clf", OneVsRestClassifier(calibrated))])


def fit(sentences: Sentences) -> Any:
    pipeline = build_pipeline()
    pipeline.fit(sentences.texts, sentences.labels)
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vectorizer.stop_words_ = None  # the terms min_df dropped: only for introspection, and most of the file size
    return pipeline


def export_fast(pipeline: Any, directory: Path, *, source_sha256: str) -> None:
    """Write the fitted pipeline as arrays (npz, no pickle) and vocabularies (JSON) for the numpy-only fast path."""
    union = pipeline.named_steps["features"]
    vectorizers = dict(union.transformer_list)
    config: dict[str, Any] = {
        "blocks": [],
        "categories": CATEGORIES,
        "messages": MESSAGES,
        "skops_sha256": source_sha256,
    }
    arrays: dict[str, np.ndarray] = {}
    for name in ("word", "char"):
        v = vectorizers[name]
        if v.strip_accents or v.stop_words or v.preprocessor or v.tokenizer or not v.use_idf or v.norm != "l2":
            raise ValueError(f"the fast path does not reproduce vectorizer '{name}' settings")
        terms = [""] * len(v.vocabulary_)
        for term, index in v.vocabulary_.items():
            terms[index] = term
        config["blocks"].append(
            {
                "name": name,
                "analyzer": v.analyzer,
                "ngram_range": list(v.ngram_range),
                "lowercase": v.lowercase,
                "token_pattern": v.token_pattern,
                "sublinear_tf": v.sublinear_tf,
                "binary": v.binary,
                "terms": terms,
            }
        )
        arrays[f"idf_{name}"] = np.asarray(v.idf_, dtype=np.float64)
    coef, intercept, sig_a, sig_b = [], [], [], []
    for estimator in pipeline.named_steps["clf"].estimators_:
        (calibrated,) = estimator.calibrated_classifiers_
        (calibrator,) = calibrated.calibrators
        coef.append(np.asarray(calibrated.estimator.coef_, dtype=np.float64).ravel())
        intercept.append(float(np.ravel(calibrated.estimator.intercept_)[0]))
        sig_a.append(float(calibrator.a_))
        sig_b.append(float(calibrator.b_))
    arrays.update(coef=np.vstack(coef), intercept=np.array(intercept), sig_a=np.array(sig_a), sig_b=np.array(sig_b))
    np.savez_compressed(directory / FAST_MODEL_FILE, **arrays)
    normalise_zip(directory / FAST_MODEL_FILE)
    (directory / FAST_VOCAB_FILE).write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")


def normalise_zip(path: Path) -> None:
    """Rewrite a zip (skops and .npz files are zips) with fixed timestamps and permissions, so the same model gives
    the same bytes and the same hash on every `make train`."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    names = {info.filename for info, _ in entries}
    renamed: dict[str, str] = {}
    if "schema.json" in names:  # skops names objects (and array files) by id(): renumber in order of appearance
        schema = next(data for info, data in entries if info.filename == "schema.json").decode("utf-8")
        order: dict[str, str] = {}
        for found in re.finditer(r'"__id__": (\d+)', schema):
            order.setdefault(found.group(1), str(len(order) + 1))
        schema = re.sub(r'("__id__": )(\d+)', lambda m: m.group(1) + order[m.group(2)], schema)
        schema = re.sub(r'("file": ")(\d+)(\.npy")', lambda m: m.group(1) + order[m.group(2)] + m.group(3), schema)
        # scikit-learn's vectorizers keep id(stop_words) only to skip a repeated consistency check
        schema = re.sub(r'("_stop_words_id": \{[^{}]*?"content": ")(\d+)(")', r"\g<1>0\g<3>", schema)
        entries = [(i, schema.encode("utf-8") if i.filename == "schema.json" else d) for i, d in entries]
        renamed = {f"{old}.npy": f"{new}.npy" for old, new in order.items() if f"{old}.npy" in names}
    with zipfile.ZipFile(path, "w") as target:
        for info, data in sorted(entries, key=lambda e: renamed.get(e[0].filename, e[0].filename)):
            fixed = zipfile.ZipInfo(renamed.get(info.filename, info.filename), date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, data, compresslevel=9 if info.compress_type == zipfile.ZIP_DEFLATED else None)


def save(pipeline: Any, directory: Path) -> Path:
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    bundle = {"pipeline": pipeline, "categories": CATEGORIES, "messages": MESSAGES}
    sio.dump(bundle, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    normalise_zip(path)
    export_fast(pipeline, directory, source_sha256=sha256(path))
    return path


# -- evaluation: rules alone, model alone, both ----------------------------------------------------------------------
def model_categories(classifier: SentenceClassifier, docs: list[Any], threshold: float) -> list[set[str]]:
    out = []
    for _spans, probabilities in classifier.predict_docs(docs):
        hit = probabilities >= threshold if len(probabilities) else np.zeros((0, len(CATEGORIES)), dtype=bool)
        out.append({c for i, c in enumerate(classifier.categories) if hit[:, i].any()})
    return out


def compare(records: list[dict[str, Any]], classifier: SentenceClassifier, threshold: float) -> dict[str, Any]:
    """Note-level prohibited metrics of the rules alone, the model alone and the checker with both."""
    from notecheck.checker import Checker
    from notecheck.evaluate import note_of, predicted_categories, prohibited_metrics
    from notecheck.policy import load_policy

    rules = Checker(classifier=False)
    both = Checker(classifier=False)
    both.classifier = classifier
    both.policy = load_policy("default", frozenset(both.rule_ids())).model_copy(
        update={"classifier_threshold": threshold}
    )
    notes = [note_of(r) for r in records]
    rule_sets = [predicted_categories(r) for r in rules.check_many(notes)]
    both_sets = [predicted_categories(r) for r in both.check_many(notes)]
    docs = list(rules.nlp.pipe([r["text"] for r in records]))
    model_sets = model_categories(classifier, docs, threshold)
    return {
        "rules": prohibited_metrics(records, rule_sets),
        "model": prohibited_metrics(records, model_sets),
        "both": prohibited_metrics(records, both_sets),
    }


def sentence_metrics(classifier: SentenceClassifier, sentences: Sentences, threshold: float) -> dict[str, Any]:
    from notecheck.evaluate import prf

    probabilities = classifier.predict_sentences(sentences.texts)
    predicted = probabilities >= threshold
    out = {}
    for i, c in enumerate(CATEGORIES):
        truth = sentences.labels[:, i] == 1
        out[c] = prf(
            int((truth & predicted[:, i]).sum()),
            int((~truth & predicted[:, i]).sum()),
            int((truth & ~predicted[:, i]).sum()),
        )
    return out


def sweep(records: list[dict[str, Any]], classifier: SentenceClassifier, thresholds: Sequence[float]) -> list[dict]:
    rows = []
    for t in thresholds:
        rows.append(sweep_row(t, compare(records, classifier, t)["both"]))
    return rows


def sweep_row(threshold: float, metrics: dict[str, Any]) -> dict[str, Any]:
    """One line of a threshold sweep, from `prohibited_metrics`-shaped figures."""
    return {
        "threshold": threshold,
        "precision": metrics["note_level"]["precision"],
        "recall": metrics["note_level"]["recall"],
        "macro_f1": metrics["macro_f1"],
        "min_category_recall": min(c["recall"] for c in metrics["categories"].values()),
        "hard_negative_rate": metrics["hard_negatives"]["rate"],
    }


# -- cross-validation over train + dev --------------------------------------------------------------------------------
CV_THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
# How the policy's classifier_threshold is chosen from out-of-fold sweeps (`choose_threshold`).
MAX_HARD_NEGATIVE_RATE = 0.03
MIN_NOTE_RECALL = 0.95
THRESHOLD_CV_FILE = MODELS_DIR / "threshold_cv.json"


def fold_of(record_id: str, k: int) -> int:
    """A note's fold: a salted hash of its id, so folds cut across the train/dev split (itself a hash of the id)."""
    return int.from_bytes(hashlib.sha256(f"cv:{record_id}".encode()).digest()[:8], "big") % k


def writer_of(record_id: str) -> str:
    """The writer batch of a note: the id's prefix ("b" for "b-0042")."""
    return record_id.split("-", 1)[0]


def assign_folds(records: Sequence[dict[str, Any]], k: int, groups: str | None = None) -> list[int]:
    if groups == "writer":
        writers = sorted({writer_of(r["id"]) for r in records})
        return [writers.index(writer_of(r["id"])) for r in records]
    if groups is not None:
        raise ValueError(f"unknown cv grouping {groups!r}")
    return [fold_of(r["id"], k) for r in records]


def cross_validate(
    records: list[dict[str, Any]],
    k: int,
    threshold: float,
    *,
    groups: str | None = None,
    thresholds: Sequence[float] = CV_THRESHOLDS,
    data_dir: Path = Path("data"),
) -> dict[str, Any]:
    """Out-of-fold note-level metrics of rules alone, model alone and both (at `threshold`), and a threshold sweep.

    Each fold's model is fitted on the other folds' sentences plus the lexicon examples; the rules are the same in
    every fold. Predictions of all folds are pooled and measured once (`evaluate.prohibited_metrics`).
    """
    from notecheck.checker import Checker
    from notecheck.evaluate import note_of, predicted_categories, prohibited_metrics
    from notecheck.nlp import load_nlp
    from notecheck.policy import load_policy

    nlp = load_nlp()
    rules = Checker(classifier=False)
    both = Checker(classifier=False)
    base_policy = load_policy("default", frozenset(both.rule_ids()))
    extra = extra_sentences(rules, data_dir)
    folds = assign_folds(records, k, groups)
    notes = [note_of(r) for r in records]
    rule_sets = [predicted_categories(r) for r in rules.check_many(notes)]
    model_sets: list[set[str]] = [set() for _ in records]
    swept: dict[float, list[set[str]]] = {t: [set() for _ in records] for t in {*thresholds, threshold}}
    for fold in sorted(set(folds)):
        held = [i for i, f in enumerate(folds) if f == fold]
        train_records = [r for r, f in zip(records, folds, strict=True) if f != fold]
        sentences = concat(make_sentences(train_records, nlp), extra)
        classifier = SentenceClassifier(fit(sentences), CATEGORIES, MESSAGES)
        docs = list(nlp.pipe([records[i]["text"] for i in held]))
        for i, found in zip(held, model_categories(classifier, docs, threshold), strict=True):
            model_sets[i] = found
        both.classifier = classifier
        for t in swept:
            both.policy = base_policy.model_copy(update={"classifier_threshold": t})
            for i, report in zip(held, both.check_many([notes[i] for i in held]), strict=True):
                swept[t][i] = predicted_categories(report)
    sweep_rows = [sweep_row(t, prohibited_metrics(records, swept[t])) for t in sorted(set(thresholds))]
    return {
        "folds": len(set(folds)),
        "groups": groups or "hash",
        "notes": len(records),
        "threshold": threshold,
        "rules": prohibited_metrics(records, rule_sets),
        "model": prohibited_metrics(records, model_sets),
        "both": prohibited_metrics(records, swept[threshold]),
        "sweep": sweep_rows,
    }


def _default_veto() -> float | None:
    from notecheck.policy import load_policy

    return load_policy("default").classifier_veto_below


def choose_threshold(sweeps: Sequence[Sequence[dict[str, Any]]]) -> float | None:
    """The lowest threshold that every out-of-fold sweep accepts, or None.

    A sweep accepts a threshold when its hard-negative rate is at most MAX_HARD_NEGATIVE_RATE and its note-level
    recall at least MIN_NOTE_RECALL. The lowest such threshold keeps the most recall the model adds to the rules.
    """
    accepted = None
    for sweep_rows in sweeps:
        ok = {
            row["threshold"]
            for row in sweep_rows
            if row["hard_negative_rate"] <= MAX_HARD_NEGATIVE_RATE and row["recall"] >= MIN_NOTE_RECALL
        }
        accepted = ok if accepted is None else accepted & ok
    return min(accepted) if accepted else None


def record_cv(result: dict[str, Any], data_dir: Path, path: Path = THRESHOLD_CV_FILE) -> None:
    """Keep a cross-validation sweep for the model card, keyed by its grouping, with the data it was run on."""
    runs = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    runs[result["groups"]] = {
        "folds": result["folds"],
        "notes": result["notes"],
        "prohibited_sha256": prohibited_sha256(data_dir / "train.jsonl", data_dir / "dev.jsonl"),
        "bank_sha256": bank_sha256(data_dir),
        "sweep": result["sweep"],
        "rules_hard_negative_rate": result["rules"]["hard_negatives"]["rate"],
        "rules_recall": result["rules"]["note_level"]["recall"],
    }
    path.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def cv_report(result: dict[str, Any]) -> str:
    """Markdown tables of a `cross_validate` result."""
    lines = [
        f"Cross-validation over train + dev: {result['notes']} notes, {result['folds']} folds "
        f"({result['groups']}), threshold {result['threshold']}.",
        "",
        *comparison_table(result),
        "",
        "| threshold | precision | recall | macro F1 | lowest category recall | hard negatives flagged |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["sweep"]:
        lines.append(
            f"| {row['threshold']:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['macro_f1']:.3f} | {row['min_category_recall']:.3f} | {row['hard_negative_rate']:.1%} |"
        )
    chosen = choose_threshold([result["sweep"]])
    lines += [
        "",
        f"Lowest threshold with hard negatives <= {MAX_HARD_NEGATIVE_RATE:.0%} and recall >= {MIN_NOTE_RECALL}: "
        + (f"{chosen}." if chosen is not None else "none."),
    ]
    return "\n".join(lines)


# -- model card --------------------------------------------------------------------------------------------------------
def _row(name: str, m: dict[str, Any]) -> str:
    return f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}"


def comparison_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| category | support | rules alone P / R / F1 | model alone P / R / F1 | rules + model P / R / F1 |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for c in CATEGORIES:
        cells = [_row(c, result[s]["categories"][c]) for s in ("rules", "model", "both")]
        lines.append(f"| `{c}` | {result['both']['categories'][c]['support']} | " + " | ".join(cells) + " |")
    cells = [_row("any", result[s]["note_level"]) for s in ("rules", "model", "both")]
    lines.append(
        f"| **any prohibited (note level)** | {result['both']['note_level']['support']} | "
        + " | ".join(f"**{c}**" for c in cells)
        + " |"
    )
    macro = [f"{result[s]['macro_f1']:.3f}" for s in ("rules", "model", "both")]
    lines.append("| macro F1 over categories | | " + " | ".join(macro) + " |")
    hard = [
        f"{result[s]['hard_negatives']['flagged']}/{result[s]['hard_negatives']['notes']}"
        for s in ("rules", "model", "both")
    ]
    lines.append("| hard negatives flagged | | " + " | ".join(hard) + " |")
    return lines


def threshold_choice_section(info: dict[str, Any]) -> list[str]:
    """The out-of-fold sweeps (`--cv ... --cv-record`) the policy's threshold was chosen from, if recorded."""
    path = THRESHOLD_CV_FILE
    if not path.exists():
        return []
    runs = json.loads(path.read_text(encoding="utf-8"))
    data = prohibited_sha256(Path(info["data_dir"]) / "train.jsonl", Path(info["data_dir"]) / "dev.jsonl")
    lines = [
        "",
        "## How the operating threshold was chosen (out of fold, train + dev)",
        "",
        f"`python -m notecheck.training --cv 5 --cv-record` and `--cv-groups writer --cv-record` fit the model on all "
        "folds but one and check the held-out notes with rules + model; the sweeps are kept in "
        f"`{path.name}`. The policy's `classifier_threshold` is the lowest threshold at which every sweep flags at "
        f"most {MAX_HARD_NEGATIVE_RATE:.0%} of hard negatives with note-level recall at least {MIN_NOTE_RECALL} "
        f"(`choose_threshold`): {choose_threshold([r['sweep'] for r in runs.values()])}; the policy uses "
        f"{info['threshold']}. The rules were tuned on these same notes, so the absolute figures are optimistic.",
    ]
    for groups, run in sorted(runs.items()):
        current = run.get("prohibited_sha256") == data and run.get("bank_sha256") == info["bank_sha256"]
        lines += [
            "",
            f"{run['folds']} folds ({groups}), {run['notes']} notes"
            + ("" if current else " (**run on other labels or sentence banks than the current ones: rerun it**)")
            + f"; rules alone: recall {run['rules_recall']:.3f}, hard negatives {run['rules_hard_negative_rate']:.1%}.",
            "",
            "| threshold | precision | recall | macro F1 | lowest category recall | hard negatives flagged |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in run["sweep"]:
            lines.append(
                f"| {row['threshold']:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | "
                f"{row['macro_f1']:.3f} | {row['min_category_recall']:.3f} | {row['hard_negative_rate']:.1%} |"
            )
    return lines


def model_card(info: dict[str, Any]) -> str:
    lines = [
        "# Sentence classifier: model card",
        "",
        "Generated by `python -m notecheck.training` (`make train`); do not edit by hand.",
        "",
        f"- Trained: {info['date']} with scikit-learn {info['sklearn']}, skops {info['skops']}, seed {SEED}.",
        "- Task: does a sentence of a case note convey information of a prohibited category (CONTRACT §2)? One "
        "calibrated linear SVM per category (one-vs-rest), features TF-IDF word 1-2grams + char_wb 2-5grams "
        f"(min_df {MIN_DF}, sublinear tf), C={SVM_C}, class_weight=balanced, sigmoid calibration on "
        f"{CV_FOLDS}-fold cross-validated scores.",
        "- Sentences: the checker's own tokenizer + sentencizer (`notecheck.nlp.load_nlp()`). A sentence is "
        "positive for a category when it overlaps an evidence quote of that category.",
        f"- Training data: `data/train.jsonl` ({info['train_notes']} notes, {info['train_sentences']} sentences), "
        f"SHA-256 `{info['train_sha256']}`, plus {info['lexicon_sentences']} example and counter-example sentences "
        "from `notecheck/lexicons/*.yaml` (labeled with their rule's category and whatever the rules find in them), "
        f"plus {info['bank_sentences']} labeled sentences of `data/sentences/*.jsonl` (paraphrases and hard "
        f"negatives written for training; SHA-256 `{info['bank_sha256']}`).",
        f"- Tuning data: `data/dev.jsonl` ({info['dev_notes']} notes), SHA-256 `{info['dev_sha256']}`; "
        f"test data: `data/test.jsonl` ({info['test_notes']} notes), SHA-256 `{info['test_sha256']}`, used for the "
        "figures below only.",
        f"- Artifacts: `{MODEL_FILE}` (canonical, skops; SHA-256 `{info['skops_sha256']}`), `{FAST_MODEL_FILE}` + "
        f"`{FAST_VOCAB_FILE}` (the same weights as arrays; `notecheck.classifier` evaluates them with numpy only, "
        "equal to the skops pipeline within 1e-6, tests/test_classifier.py).",
        f"- Vocabulary: {info['n_word']} word n-grams, {info['n_char']} char n-grams.",
        f"- Operating threshold (policy `classifier_threshold`): {info['threshold']}.",
        "",
        "## How it is combined with the rules",
        "",
        "The lexicon rules run first. The classifier adds a finding for a sentence and category when its probability "
        "reaches the policy's `classifier_threshold` and no rule already found that category in that sentence; in a "
        "sentence where a rule found a different category it must reach "
        f"{CROWDED_SENTENCE_THRESHOLD} (`SentenceClassifier.hits`). The first is chosen by cross-validation over "
        "train + dev (below); the second was chosen on dev. The model may also veto: a rule finding whose sentence it "
        "scores below the policy's `classifier_veto_below` "
        f"({info['veto_below']}) for the rule's category is dropped, unless the rules found another category in "
        "that sentence "
        "(`SentenceClassifier.confirmed`; chosen on a new writer's notes before they joined the corpus, see "
        "`notecheck/policies/default.yaml`). Words an exclusion marks as an occupational or incidental use are "
        "blanked before the model's finding for that category is trusted.",
        "",
        "## Sentence-level metrics on dev (threshold as above)",
        "",
        "| category | support | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for c, m in info["dev_sentences"].items():
        lines.append(f"| `{c}` | {m['support']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |")
    lines += [
        "",
        "## Threshold sweep on dev (rules + model, note level)",
        "",
        "| threshold | precision | recall | macro F1 | lowest category recall | hard negatives flagged |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in info["sweep"]:
        lines.append(
            f"| {row['threshold']:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['macro_f1']:.3f} | {row['min_category_recall']:.3f} | {row['hard_negative_rate']:.1%} |"
        )
    lines += threshold_choice_section(info)
    for split in ("dev", "test"):
        lines += ["", f"## {split.upper()}: rules alone vs model alone vs both (note level, P / R / F1)", ""]
        lines += comparison_table(info[f"{split}_compare"])
    test = info["test_compare"]
    f1 = {s: test[s]["note_level"]["f1"] for s in ("rules", "model", "both")}
    worse = [
        c
        for c in CATEGORIES
        if test["both"]["categories"][c]["f1"] < max(test[s]["categories"][c]["f1"] for s in ("rules", "model"))
    ]
    lines += [
        "",
        f"On test, rules + model reach note-level F1 {f1['both']:.3f} against {f1['rules']:.3f} for the rules alone "
        f"and {f1['model']:.3f} for the model alone, and macro F1 {test['both']['macro_f1']:.3f} against "
        f"{test['rules']['macro_f1']:.3f} and {test['model']['macro_f1']:.3f}. "
        + (
            "Per category the combination is below the better single system for "
            + ", ".join(f"`{c}`" for c in worse)
            + " (extra model findings that are false alarms)."
            if worse
            else "It is at least as good as either system in every category."
        ),
    ]
    lines += [
        "",
        "## Limits",
        "",
        f"- Trained on {info['train_notes']} notes from {info['train_writers']} writer batches and "
        f"{info['bank_sentences']} bank sentences; categories have {info['min_category_notes']}-"
        f"{info['max_category_notes']} training notes each. Treat it as a second opinion behind the rules, not as "
        "the primary detector.",
        "- Sentence-level: information spread over two sentences, or conveyed only by a title, is not seen.",
        "- Not trained to find PII, elements or quality.",
        "",
    ]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------------------------------
def train(data_dir: Path, out_dir: Path, threshold: float, *, card: bool = True) -> dict[str, Any]:
    import sklearn
    import skops

    from notecheck.checker import Checker
    from notecheck.classifier import load_classifier
    from notecheck.nlp import load_nlp

    nlp = load_nlp()
    train_records = read_jsonl(data_dir / "train.jsonl")
    sentences = make_sentences(train_records, nlp)
    n_note_sentences = len(sentences.texts)
    extra = extra_sentences(Checker(classifier=False), data_dir)
    n_lexicon = extra.note_ids.count(LEXICON_ID)
    sentences = concat(sentences, extra)
    notes_per_category = [sum(c in r["labels"]["prohibited"] for r in train_records) for c in CATEGORIES]
    pipeline = fit(sentences)
    path = save(pipeline, out_dir)
    info: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "threshold": threshold,
        "veto_below": _default_veto(),
        "data_dir": str(data_dir),
        "train_notes": len(train_records),
        "train_sentences": n_note_sentences,
        "lexicon_sentences": n_lexicon,
        "bank_sentences": len(extra.texts) - n_lexicon,
        "train_writers": len({writer_of(r["id"]) for r in train_records}),
        "min_category_notes": min(notes_per_category),
        "max_category_notes": max(notes_per_category),
        "bank_sha256": bank_sha256(data_dir),
        "skops_sha256": sha256(path),
        "n_word": len(pipeline.named_steps["features"].transformer_list[0][1].vocabulary_),
        "n_char": len(pipeline.named_steps["features"].transformer_list[1][1].vocabulary_),
    }
    for split in ("train", "dev", "test"):
        info[f"{split}_sha256"] = sha256(data_dir / f"{split}.jsonl")
    if not card:
        return info
    classifier = load_classifier(out_dir / FAST_MODEL_FILE)
    assert classifier is not None
    dev = read_jsonl(data_dir / "dev.jsonl")
    test = read_jsonl(data_dir / "test.jsonl")
    info["dev_notes"], info["test_notes"] = len(dev), len(test)
    info["dev_sentences"] = sentence_metrics(classifier, make_sentences(dev, nlp), threshold)
    info["sweep"] = sweep(dev, classifier, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    info["dev_compare"] = compare(dev, classifier, threshold)
    info["test_compare"] = compare(test, classifier, threshold)
    (out_dir / "README.md").write_text(model_card(info), encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notecheck.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data", help="directory with train/dev/test.jsonl (default: data)")
    parser.add_argument("--out", default=str(MODELS_DIR), help="where to write the model files")
    parser.add_argument("--threshold", type=float, default=None, help="operating threshold (default: the policy's)")
    parser.add_argument("--no-card", action="store_true", help="train and save only, skip the evaluation")
    parser.add_argument("--cv", type=int, metavar="K", help="cross-validate over train + dev instead; saves nothing")
    parser.add_argument("--cv-groups", choices=["writer"], help="with --cv: one fold per writer batch (id prefix)")
    parser.add_argument("--cv-json", metavar="PATH", help="with --cv: also write the full result as JSON")
    parser.add_argument(
        "--cv-record", action="store_true", help=f"with --cv: keep the sweep in models/{THRESHOLD_CV_FILE.name}"
    )
    args = parser.parse_args(argv)
    threshold = args.threshold
    if threshold is None:
        from notecheck.policy import load_policy

        threshold = load_policy("default").classifier_threshold
    if args.cv is not None or args.cv_groups:
        if args.cv is not None and args.cv < 2:
            parser.error("--cv needs at least 2 folds")
        records = read_jsonl(Path(args.data) / "train.jsonl") + read_jsonl(Path(args.data) / "dev.jsonl")
        result = cross_validate(records, args.cv or 0, threshold, groups=args.cv_groups, data_dir=Path(args.data))
        print(cv_report(result))
        if args.cv_json:
            Path(args.cv_json).write_text(json.dumps(result, indent=1), encoding="utf-8")
        if args.cv_record:
            record_cv(result, Path(args.data))
        return 0
    info = train(Path(args.data), Path(args.out), threshold, card=not args.no_card)
    print(f"trained on {info['train_notes']} notes / {info['train_sentences']} sentences -> {args.out}")
    for split in ("dev",):  # test figures go to the model card only
        if f"{split}_compare" in info:
            for system in ("rules", "model", "both"):
                m = info[f"{split}_compare"][system]
                print(
                    f"  {split:4} {system:5} note P {m['note_level']['precision']:.3f} "
                    f"R {m['note_level']['recall']:.3f}  macro F1 {m['macro_f1']:.3f}  "
                    f"hard negatives {m['hard_negatives']['rate']:.1%}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
