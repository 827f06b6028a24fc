"""`notecheck eval`: how well the checker agrees with a labeled file (data/README.md format).

Measures, per note: prohibited categories (precision/recall/F1 per category and for "any prohibited content"),
the false-alarm rate on hard negatives, PII per type (a labeled quote is found when a finding of that type overlaps
it; a finding is correct when it overlaps a labeled quote of its type), element accuracy and quality labels. Every
figure comes with the ids of the notes it missed or flagged wrongly, so a reviewer can look at them.

Example: notecheck eval data/dev.jsonl --format json
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from notecheck.corpus import quote_spans
from notecheck.errors import InputError
from notecheck.report import ELEMENTS, PII_CATEGORIES, PROHIBITED_CATEGORIES, Report

QUALITY_LABELS = ("opinion", "slang", "vague", "multiple_subjects")
NOTE_FIELDS = ("id", "text", "title", "contact_date", "entered_at", "client_id", "staff", "office", "program")


# -- input -----------------------------------------------------------------------------------------------------------
def load_labeled(path: str | Path) -> list[dict[str, Any]]:
    """Read a labeled JSONL file; raises InputError naming the line of a bad record."""
    records = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{path}:{number}: not valid JSON", field="line") from None
            if not isinstance(record, dict) or not isinstance(record.get("labels"), dict):
                raise InputError(f"{path}:{number}: a labeled note needs a 'labels' object", field="labels")
            if not isinstance(record.get("id"), str) or not isinstance(record.get("text"), str):
                raise InputError(f"{path}:{number}: a labeled note needs string 'id' and 'text'", field="id")
            records.append(record)
    return records


def note_of(record: dict[str, Any]) -> dict[str, Any]:
    """The CONTRACT §1 part of a labeled record (what the checker sees)."""
    return {k: record[k] for k in NOTE_FIELDS if record.get(k) is not None}


# -- metrics ---------------------------------------------------------------------------------------------------------
def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    """Precision, recall, F1 (1.0 where the denominator is empty: nothing to find and nothing claimed)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "support": tp + fn,
    }


def set_metrics(ids: Sequence[str], truth: Sequence[set[str]], predicted: Sequence[set[str]], labels: Iterable[str]):
    """Note-level metrics per label over parallel sequences of label sets, with miss and false-alarm ids."""
    out: dict[str, Any] = {}
    for label in labels:
        misses = [i for i, t, p in zip(ids, truth, predicted, strict=True) if label in t and label not in p]
        alarms = [i for i, t, p in zip(ids, truth, predicted, strict=True) if label not in t and label in p]
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if label in t and label in p)
        out[label] = {**prf(tp, len(alarms), len(misses)), "misses": misses, "false_alarms": alarms}
    return out


def prohibited_metrics(records: Sequence[dict[str, Any]], predicted: Sequence[set[str]]) -> dict[str, Any]:
    """Per-category and note-level ("any prohibited content") metrics, plus hard-negative false alarms."""
    ids = [r["id"] for r in records]
    truth = [set(r["labels"].get("prohibited", [])) for r in records]
    categories = set_metrics(ids, truth, predicted, PROHIBITED_CATEGORIES)
    any_truth = [{"any"} if t else set() for t in truth]
    any_pred = [{"any"} if p else set() for p in predicted]
    note_level = set_metrics(ids, any_truth, any_pred, ["any"])["any"]
    hard = [(r["id"], p) for r, p in zip(records, predicted, strict=True) if r["labels"].get("hard_negative")]
    flagged = [i for i, p in hard if p]
    return {
        "note_level": note_level,
        "categories": categories,
        "macro_f1": round(sum(c["f1"] for c in categories.values()) / len(categories), 4),
        "hard_negatives": {
            "notes": len(hard),
            "flagged": len(flagged),
            "rate": round(len(flagged) / len(hard), 4) if hard else 0.0,
            "flagged_ids": flagged,
        },
    }


def pii_metrics(records: Sequence[dict[str, Any]], reports: Sequence[Report]) -> dict[str, Any]:
    """Span-level PII recall and precision per type (title findings, which have no span, are not counted)."""
    counts = {t: {"tp": 0, "fp": 0, "fn": 0, "misses": [], "false_alarms": []} for t in PII_CATEGORIES}
    for record, report in zip(records, reports, strict=True):
        text = record["text"]
        quotes = [(e["type"], quote_spans(text, e["quote"])) for e in record["labels"].get("pii_evidence", [])]
        found = [f for f in report.findings if f.kind == "pii" and f.start is not None]
        for kind, spans in quotes:
            hit = any(f.category == kind and any(f.start < b and a < f.end for a, b in spans) for f in found)
            counts[kind]["tp" if hit else "fn"] += 1
            if not hit:
                counts[kind]["misses"].append(record["id"])
        for f in found:
            correct = any(
                kind == f.category and any(f.start < b and a < f.end for a, b in spans) for kind, spans in quotes
            )
            if not correct:
                counts[f.category]["fp"] += 1
                counts[f.category]["false_alarms"].append(record["id"])
    types = {
        t: {**prf(c["tp"], c["fp"], c["fn"]), "misses": c["misses"], "false_alarms": c["false_alarms"]}
        for t, c in counts.items()
    }
    overall = prf(
        sum(c["tp"] for c in counts.values()),
        sum(c["fp"] for c in counts.values()),
        sum(c["fn"] for c in counts.values()),
    )
    return {"types": types, "overall": overall}


def element_metrics(records: Sequence[dict[str, Any]], reports: Sequence[Report]) -> dict[str, Any]:
    out = {}
    for name in ELEMENTS:
        false_present, false_absent, correct = [], [], 0
        for record, report in zip(records, reports, strict=True):
            truth, said = bool(record["labels"]["elements"][name]), report.elements[name].present
            if truth == said:
                correct += 1
            elif said:
                false_present.append(record["id"])
            else:
                false_absent.append(record["id"])
        total = len(records)
        out[name] = {
            "accuracy": round(correct / total, 4) if total else 1.0,
            "correct": correct,
            "total": total,
            "false_present": false_present,
            "false_absent": false_absent,
        }
    return out


def quality_metrics(records: Sequence[dict[str, Any]], reports: Sequence[Report]) -> dict[str, Any]:
    ids = [r["id"] for r in records]
    truth = [set(r["labels"].get("quality", [])) for r in records]
    predicted = [{f.category for f in rep.findings if f.kind == "quality"} for rep in reports]
    categories = set_metrics(ids, truth, predicted, QUALITY_LABELS)
    tp = sum(c["tp"] for c in categories.values())
    overall = prf(tp, sum(c["fp"] for c in categories.values()), sum(c["fn"] for c in categories.values()))
    return {"categories": categories, "overall": overall}


def predicted_categories(report: Report) -> set[str]:
    return {f.category for f in report.findings if f.kind == "prohibited"}


def evaluate_records(records: Sequence[dict[str, Any]], reports: Sequence[Report]) -> dict[str, Any]:
    """All metrics for labeled records and the checker's reports on them (same order)."""
    return {
        "notes": len(records),
        "prohibited": prohibited_metrics(records, [predicted_categories(r) for r in reports]),
        "pii": pii_metrics(records, reports),
        "elements": element_metrics(records, reports),
        "quality": quality_metrics(records, reports),
    }


def evaluate_file(path: str, checker: Any) -> dict[str, Any]:
    """Run `checker` over a labeled JSONL file and measure it against the labels."""
    records = load_labeled(path)
    reports = list(checker.check_many(note_of(r) for r in records))
    result = evaluate_records(records, reports)
    return {"file": str(path), "policy": checker.policy.name, **result}


# -- text output -----------------------------------------------------------------------------------------------------
def _ids(ids: Sequence[str], limit: int = 8) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:limit])
    return shown + (f" (+{len(ids) - limit})" if len(ids) > limit else "")


def _f(x: float) -> str:
    return f"{x:.3f}"


def render_text(result: dict[str, Any], console: Console) -> None:
    """Rich tables: prohibited categories, hard negatives, PII, elements, quality."""
    prohibited = result["prohibited"]
    console.print(
        f"[bold]{result.get('file', 'evaluation')}[/bold]: {result['notes']} notes, policy {result.get('policy', '?')}"
    )

    table = Table(title="Prohibited content (note level)")
    for column in ("category", "support", "precision", "recall", "F1", "missed", "false alarms"):
        table.add_column(column, justify="right" if column in ("support", "precision", "recall", "F1") else "left")
    for name, m in prohibited["categories"].items():
        table.add_row(
            name,
            str(m["support"]),
            _f(m["precision"]),
            _f(m["recall"]),
            _f(m["f1"]),
            _ids(m["misses"]),
            _ids(m["false_alarms"]),
        )
    n = prohibited["note_level"]
    table.add_row(
        "[bold]any prohibited[/bold]",
        str(n["support"]),
        _f(n["precision"]),
        _f(n["recall"]),
        _f(n["f1"]),
        _ids(n["misses"]),
        _ids(n["false_alarms"]),
        end_section=True,
    )
    console.print(table)
    hard = prohibited["hard_negatives"]
    console.print(
        f"Hard negatives flagged: {hard['flagged']}/{hard['notes']} ({hard['rate']:.1%})"
        + (f"  {_ids(hard['flagged_ids'])}" if hard["flagged_ids"] else "")
    )

    table = Table(title="PII (span level)")
    for column in ("type", "support", "precision", "recall", "missed", "false alarms"):
        table.add_column(column, justify="right" if column in ("support", "precision", "recall") else "left")
    for name, m in result["pii"]["types"].items():
        if m["support"] or m["fp"]:
            table.add_row(
                name, str(m["support"]), _f(m["precision"]), _f(m["recall"]), _ids(m["misses"]), _ids(m["false_alarms"])
            )
    o = result["pii"]["overall"]
    table.add_row("[bold]all[/bold]", str(o["support"]), _f(o["precision"]), _f(o["recall"]), "", "")
    console.print(table)

    table = Table(title="Elements")
    for column in ("element", "accuracy", "said present, was absent", "said absent, was present"):
        table.add_column(column, justify="right" if column == "accuracy" else "left")
    for name, m in result["elements"].items():
        table.add_row(name, _f(m["accuracy"]), _ids(m["false_present"]), _ids(m["false_absent"]))
    console.print(table)

    table = Table(title="Quality (note level)")
    for column in ("category", "support", "precision", "recall", "missed", "false alarms"):
        table.add_column(column, justify="right" if column in ("support", "precision", "recall") else "left")
    for name, m in result["quality"]["categories"].items():
        table.add_row(
            name, str(m["support"]), _f(m["precision"]), _f(m["recall"]), _ids(m["misses"]), _ids(m["false_alarms"])
        )
    o = result["quality"]["overall"]
    table.add_row("[bold]all[/bold]", str(o["support"]), _f(o["precision"]), _f(o["recall"]), "", "")
    console.print(table)
