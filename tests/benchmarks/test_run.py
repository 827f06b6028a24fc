"""Smoke test of the benchmark harness with tiny sizes (figures are not asserted, only their shape)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import run as bench

ROOT = Path(__file__).resolve().parent.parent.parent


def test_percentile_and_span_recall() -> None:
    assert bench.percentile([1, 2, 3, 4, 5], 0.5) == 3 and bench.percentile([1, 2], 0.95) == 1.95
    record = {
        "text": "Call 301-555-0142 today.",
        "labels": {"pii_evidence": [{"type": "PHONE_NUMBER", "quote": "301-555-0142"}]},
    }
    found = bench.span_recall([record], [[("PHONE_NUMBER", 5, 17), ("US_SSN", 0, 4)]])
    assert found["types"]["PHONE_NUMBER"]["recall"] == 1.0 and found["types"]["US_SSN"]["fp"] == 1


def test_a_tiny_run_produces_every_figure(capsys) -> None:  # type: ignore[no-untyped-def]
    result = bench.run(data=ROOT / "data", notes=4, repeats=1, cli_runs=1)
    speed = result["speed"]
    assert speed["notes"] == 4
    for side in ("notecheck", "presidio"):
        assert speed["single"][side]["p95_ms"] > 0 and speed["many"][side]["notes_per_s"] > 0
    assert speed["single_p95_ratio_presidio_over_notecheck"] > 0
    assert speed["many"]["presidio_analyze"]["notes_per_s"] > 0  # the baseline: analyze() note by note
    assert speed["many_ratio_notecheck_over_presidio_analyze"] > 0
    assert set(result["pii"]) == {"test split", "all labeled notes"}
    assert result["cli"]["runs"] == 1 and result["cli"]["exit_codes"][0] in (0, 1)
    assert "notecheck (tokenizer + sentencizer)" in result["components"]["ms_per_note"]
    assert result["breakdown_cpu_ms_per_note"]["check_many, everything"] > 0
    assert set(result["ner"]["participants_accuracy"]) == {"rules", "rules + NER PERSON"}
    bench.render(result)
    assert "vanilla Presidio" in capsys.readouterr().out
