"""`notecheck eval`: metrics against labels, miss and false-alarm ids, Rich text output, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from notecheck.cli import app
from notecheck.evaluate import evaluate_file, evaluate_records, load_labeled, prf, render_text
from notecheck.report import ELEMENTS, Element, Finding, Report

ALL_PRESENT = dict.fromkeys(ELEMENTS, True)


def _labels(prohibited=(), evidence=(), pii_evidence=(), hard_negative=False, quality=(), elements=None):  # type: ignore[no-untyped-def]
    return {
        "prohibited": list(prohibited),
        "evidence": list(evidence),
        "pii": sorted({e["type"] for e in pii_evidence}),
        "pii_evidence": list(pii_evidence),
        "elements": elements or dict(ALL_PRESENT),
        "quality": list(quality),
        "hard_negative": hard_negative,
    }


def _finding(kind: str, category: str, start: int | None = None, end: int | None = None) -> Finding:
    return Finding(
        kind=kind,
        category=category,
        start=start,
        end=end,
        severity="error",
        rule=f"{kind}.{category}.x",
        confidence=0.9,
        message="m",
        policy_ref="p",
        fingerprint="f",
    )


def _report(note_id: str, findings: list[Finding], elements: dict[str, bool] | None = None) -> Report:
    present = elements or ALL_PRESENT
    return Report(
        note_id=note_id,
        decision="allow",
        score=100,
        policy="default",
        checker_version="t",
        elements={k: Element(v) for k, v in present.items()},
        findings=findings,
    )


def test_prf_handles_empty_denominators() -> None:
    assert prf(0, 0, 0)["precision"] == 1.0 and prf(0, 0, 0)["recall"] == 1.0
    m = prf(3, 1, 2)
    assert (m["precision"], m["recall"], m["support"]) == (0.75, 0.6, 5)


def test_note_level_category_and_hard_negative_metrics() -> None:
    text = "Client call 301-555-0142. Her PO called."
    records = [
        {
            "id": "n1",
            "text": text,
            "labels": _labels(
                ["criminal"],
                [{"category": "criminal", "quote": "Her PO"}],
                [{"type": "PHONE_NUMBER", "quote": "301-555-0142"}],
            ),
        },
        {"id": "n2", "text": "Corrections officer academy.", "labels": _labels(hard_negative=True)},
        {
            "id": "n3",
            "text": "She is pregnant.",
            "labels": _labels(["pregnancy"], [{"category": "pregnancy", "quote": "pregnant"}]),
        },
    ]
    reports = [
        _report("n1", [_finding("prohibited", "criminal", 26, 32), _finding("pii", "PHONE_NUMBER", 12, 24)]),
        _report("n2", [_finding("prohibited", "criminal", 0, 11)]),
        _report("n3", [_finding("prohibited", "medical", 7, 15)]),
    ]
    result = evaluate_records(records, reports)
    p = result["prohibited"]
    assert p["categories"]["criminal"]["tp"] == 1 and p["categories"]["criminal"]["false_alarms"] == ["n2"]
    assert p["categories"]["pregnancy"]["misses"] == ["n3"] and p["categories"]["medical"]["false_alarms"] == ["n3"]
    assert p["note_level"]["recall"] == 1.0 and p["note_level"]["false_alarms"] == ["n2"]
    assert p["hard_negatives"] == {"notes": 1, "flagged": 1, "rate": 1.0, "flagged_ids": ["n2"]}
    assert result["pii"]["types"]["PHONE_NUMBER"]["recall"] == 1.0


def test_pii_is_matched_by_span_and_type() -> None:
    text = "Phone 301-555-0142, DOB 4/12/1988."
    record = {
        "id": "p",
        "text": text,
        "labels": _labels(
            pii_evidence=[
                {"type": "PHONE_NUMBER", "quote": "301-555-0142"},
                {"type": "DATE_OF_BIRTH", "quote": "4/12/1988"},
            ]
        ),
    }
    wrong_type = _report("p", [_finding("pii", "US_BANK_NUMBER", 6, 18), _finding("pii", "DATE_OF_BIRTH", 24, 33)])
    result = evaluate_records([record], [wrong_type])["pii"]["types"]
    assert result["PHONE_NUMBER"]["misses"] == ["p"] and result["US_BANK_NUMBER"]["false_alarms"] == ["p"]
    assert result["DATE_OF_BIRTH"]["tp"] == 1


def test_element_accuracy_names_both_kinds_of_error() -> None:
    records = [
        {"id": f"e{i}", "text": "x", "labels": _labels(elements={**ALL_PRESENT, "location": i == 0})} for i in range(2)
    ]
    reports = [_report("e0", [], {**ALL_PRESENT, "location": False}), _report("e1", [], ALL_PRESENT)]
    location = evaluate_records(records, reports)["elements"]["location"]
    assert location["accuracy"] == 0.0 and location["false_absent"] == ["e0"] and location["false_present"] == ["e1"]


def test_quality_metrics_per_category() -> None:
    records = [{"id": "q", "text": "x", "labels": _labels(quality=["vague"])}]
    result = evaluate_records(records, [_report("q", [_finding("quality", "slang", 0, 1)])])["quality"]
    assert result["categories"]["vague"]["misses"] == ["q"] and result["categories"]["slang"]["false_alarms"] == ["q"]


def _labeled_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "f1",
            "text": "Met client at the office today. She has a court date 3/14 for the eviction. "
            "I will call her Friday.",
            "contact_date": "2025-03-04",
            "labels": _labels(["legal"], [{"category": "legal", "quote": "court date 3/14"}]),
        },
        {
            "id": "f2",
            "text": "Client is applying for the corrections officer academy and a security job.",
            "labels": _labels(hard_negative=True),
        },
    ]
    path = tmp_path / "labeled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_evaluate_file_runs_the_checker(tmp_path: Path, checker) -> None:  # type: ignore[no-untyped-def]
    result = evaluate_file(str(_labeled_file(tmp_path)), checker)
    assert result["notes"] == 2 and result["policy"] == "default"
    assert result["prohibited"]["categories"]["legal"]["tp"] == 1
    assert result["prohibited"]["hard_negatives"]["flagged"] == 0
    json.dumps(result)  # the JSON output of the CLI


def test_render_text_prints_rich_tables(tmp_path: Path, checker) -> None:  # type: ignore[no-untyped-def]
    console = Console(record=True, width=160)
    render_text(evaluate_file(str(_labeled_file(tmp_path)), checker), console)
    out = console.export_text()
    for title in ("Prohibited content", "Hard negatives flagged: 0/1", "PII", "Elements", "Quality"):
        assert title in out


def test_load_labeled_rejects_unlabeled_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    try:
        load_labeled(path)
    except Exception as exc:  # InputError
        assert "labels" in str(exc)
    else:
        raise AssertionError("expected an InputError")


def test_cli_eval_json(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["eval", str(_labeled_file(tmp_path)), "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["notes"] == 2
    missing = CliRunner().invoke(app, ["eval", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
