"""The Spark engine (local[*]) gives the same reports and input errors as the local engine on the same input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from scan_support import corpus_notes, read_reports, write_jsonl, write_parquet
from sqlalchemy import select

from notecheck.scan import ScanOptions, run_scan
from notecheck.store import Database, InputErrorRow


@pytest.fixture(scope="module")
def spark() -> Iterator[None]:
    from notecheck.scan.spark import spark_session

    session = spark_session("notecheck-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield
    session.stop()


def _local(tmp_path: Path, input: Path, name: str) -> tuple[dict[str, dict], set[tuple]]:
    db_url = f"sqlite:///{tmp_path / (name + '.db')}"
    out = tmp_path / f"{name}.jsonl"
    summary = run_scan(ScanOptions(input=str(input), out=str(out), db_url=db_url, workers=1, caseload=False))
    db = Database(db_url)
    with db.session() as session:
        errors = {
            (e.row_number, e.field, e.reason)
            for e in session.scalars(select(InputErrorRow).where(InputErrorRow.scan_id == summary.scan_id))
        }
    db.dispose()
    return {r["note_id"]: r for r in read_reports(out)}, errors


def _spark(tmp_path: Path, input: Path, name: str) -> tuple[dict[str, dict], set[tuple], object]:
    import pyarrow.parquet as pq

    out = tmp_path / f"{name}-spark"
    summary = run_scan(ScanOptions(input=str(input), out=str(out), engine="spark", batch_size=16))
    rows = pq.read_table(out).to_pylist()
    reports = {r["note_id"]: json.loads(r["report"]) for r in rows if r["report"] is not None}
    errors = {(r["row"], r["error_field"], r["error_reason"]) for r in rows if r["report"] is None}
    assert all((r["decision"] is None) == (r["report"] is None) for r in rows)
    return reports, errors, summary


@pytest.mark.slow
def test_spark_matches_local_engine(tmp_path: Path, spark: None) -> None:
    notes = corpus_notes(40)
    rows: list[dict | str] = list(notes)
    rows.insert(5, {"id": "no-text", "office": "Lowell"})
    rows.insert(9, "{broken json")
    rows.insert(20, {"id": "late", "text": "Called client.", "contact_date": "not a date"})
    rows.append(dict(notes[3]))  # duplicate id: the later row is the error
    jsonl = write_jsonl(tmp_path / "notes.jsonl", rows)
    local_reports, local_errors = _local(tmp_path, jsonl, "jsonl")
    spark_reports, spark_errors, summary = _spark(tmp_path, jsonl, "jsonl")
    assert len(local_reports) == len(notes) and len(local_errors) == 4
    assert spark_reports == local_reports
    assert spark_errors == local_errors
    assert summary.processed == len(notes) and summary.input_errors == 4  # type: ignore[attr-defined]

    records = [dict(n, visits=i if i % 3 else None) for i, n in enumerate(notes)]  # an int column with nulls
    records.insert(7, {"id": "no-text-either"})
    records.append(dict(notes[0]))
    parquet = write_parquet(tmp_path / "notes.parquet", records, row_group_size=9)
    local_reports, local_errors = _local(tmp_path, parquet, "parquet")
    spark_reports, spark_errors, _ = _spark(tmp_path, parquet, "parquet")
    assert len(local_reports) == len(notes) and len(local_errors) == 2
    assert spark_reports == local_reports
    assert spark_errors == local_errors


def test_without_pyspark_the_error_says_how_to_install_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    from notecheck.errors import ConfigError
    from notecheck.scan.spark import _pyspark

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"notecheck\[spark\]"):
        _pyspark()
