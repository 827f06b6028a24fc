"""The library API others build on (ScanOptions, ScanSummary, run_scan, scan_notes) and the writer's guarantees."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from scan_support import corpus_notes, read_reports, synthetic, write_jsonl
from sqlalchemy import func, select

import notecheck.scan as scan
from notecheck.checker import Checker
from notecheck.errors import InputError
from notecheck.note import Note
from notecheck.scan import ScanOptions, ScanSummary, run_scan, scan_notes
from notecheck.scan.caseload import CASELOAD_RULES
from notecheck.scan.models import ScanCheckpoint
from notecheck.scan.rows import result_rows
from notecheck.store import Database, FindingRow, NoteResult, Scan
from notecheck.store.results import record_report


def test_public_names_and_defaults() -> None:
    assert {"ScanOptions", "ScanSummary", "run_scan", "scan_notes"} <= set(scan.__all__)
    defaults = {f.name: f.default for f in dataclasses.fields(ScanOptions) if f.default is not dataclasses.MISSING}
    assert defaults == {
        "out": None, "db_url": None, "policy": "default", "workers": None, "engine": "local", "resume": False,
        "query": None, "batch_size": 512, "quiet": True, "scan_id": None, "as_of": None, "caseload": True,
    }  # fmt: skip
    assert ScanOptions(input="x.jsonl").column_map == {}
    names = {f.name for f in dataclasses.fields(ScanSummary)}
    assert {"scan_id", "processed", "flagged", "input_errors", "seconds"} <= names


def test_scan_notes_in_process(sqlite_url: str, checker: Checker) -> None:
    db = Database(sqlite_url)
    notes = corpus_notes(10) + [{"id": "empty", "text": ""}]
    summary = scan_notes(notes, db, checker=checker, scan_id="demo-1", source="demo")
    assert summary.scan_id == "demo-1" and summary.processed == 10 and summary.input_errors == 1
    assert summary.flagged == sum(summary.decisions[d] for d in ("block", "warn"))
    with db.session() as session:
        row = session.get(Scan, "demo-1")
        assert row is not None and row.status == "done" and row.source == "demo" and row.processed == 10
    with pytest.raises(InputError, match="already exists"):
        scan_notes(notes, db, checker=checker, scan_id="demo-1")
    db.dispose()


def test_bulk_rows_are_what_record_report_writes(sqlite_url: str, checker: Checker) -> None:
    """The writer inserts in bulk; the rows must be those of store.results.record_report."""
    db = Database(sqlite_url)
    notes = [Note.from_dict(n) for n in corpus_notes(15)]
    with db.session() as session:
        session.add(Scan(id="ref", source="t", policy="default", checker_version="x", options={}))
        session.flush()
        for note in notes:
            record_report(session, "ref", note, checker.check_note(note))
    with db.session() as session:
        for note in notes:
            row = session.scalar(select(NoteResult).where(NoteResult.scan_id == "ref", NoteResult.note_id == note.id))
            assert row is not None
            note_row, findings = result_rows(note, checker.check_note(note))
            assert {k: getattr(row, k) for k in note_row} == note_row
            stored = [{k: getattr(f, k) for k in findings[0]} for f in row.findings] if findings else []
            assert sorted(stored, key=str) == sorted(findings, key=str)
    db.dispose()


def test_resume_needs_the_same_out_and_a_finished_scan_is_left_alone(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "notes.jsonl", corpus_notes(6))
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    out = tmp_path / "out.jsonl"
    first = run_scan(ScanOptions(input=str(path), out=str(out), db_url=db_url, workers=1))
    again = run_scan(ScanOptions(input=str(path), out=str(out), db_url=db_url, workers=1, resume=True))
    assert again.scan_id == first.scan_id and again.resumed and again.checked_this_run == 0
    assert len(read_reports(out)) == 6
    with pytest.raises(InputError, match="already exists"):
        run_scan(ScanOptions(input=str(path), db_url=db_url, scan_id=first.scan_id))
    # an interrupted scan cannot be resumed into another --out
    db = Database(db_url)
    with db.session() as session:
        session.get(ScanCheckpoint, first.scan_id).phase = "notes"  # type: ignore[union-attr]
    db.dispose()
    with pytest.raises(InputError, match="--out must be"):
        run_scan(ScanOptions(input=str(path), out=str(tmp_path / "other.jsonl"), db_url=db_url, resume=True))


def test_a_kill_during_the_export_is_repaired_by_resume(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Caseload findings are merged into --out by writing a new file and renaming it; a crash before the rename
    leaves the old file, a rerun merges again, and no finding is written twice."""
    notes = synthetic(150)
    path = write_jsonl(tmp_path / "notes.jsonl", notes)
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    out = tmp_path / "out.jsonl"
    real_replace = os.replace

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        run_scan(ScanOptions(input=str(path), out=str(out), db_url=db_url, workers=1))
    monkeypatch.setattr(os, "replace", real_replace)
    db = Database(db_url)
    with db.session() as session:
        checkpoint = session.scalars(select(ScanCheckpoint)).one()
        assert checkpoint.phase == "export"
        assert session.scalar(select(Scan.status)) == "failed"
    assert not any(f["rule"] in CASELOAD_RULES for r in read_reports(out) for f in r["findings"])
    summary = run_scan(ScanOptions(input=str(path), out=str(out), db_url=db_url, workers=1, resume=True))
    assert summary.status == "done" and summary.caseload_findings > 0
    reports = read_reports(out)
    assert len(reports) == len(notes)
    in_file = sorted(
        f["fingerprint"] + r["note_id"] for r in reports for f in r["findings"] if f["rule"] in CASELOAD_RULES
    )
    with db.session() as session:
        stored = sorted(
            fp + note_id
            for fp, note_id in session.execute(
                select(FindingRow.fingerprint, FindingRow.note_id).where(FindingRow.rule.in_(CASELOAD_RULES))
            )
        )
        assert session.scalar(select(func.count()).select_from(Scan)) == 1
    assert in_file == stored and len(stored) == summary.caseload_findings
    db.dispose()


def test_resume_refuses_an_input_that_changed(tmp_path: Path) -> None:
    notes = corpus_notes(8)
    path = write_jsonl(tmp_path / "notes.jsonl", notes[:4])
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    first = run_scan(ScanOptions(input=str(path), db_url=db_url, workers=1))
    db = Database(db_url)
    with db.session() as session:
        session.get(ScanCheckpoint, first.scan_id).phase = "notes"  # type: ignore[union-attr]  # as if killed
    db.dispose()
    write_jsonl(path, notes)  # rows appended: positions would no longer mean the same rows
    with pytest.raises(InputError, match="changed since scan"):
        run_scan(ScanOptions(input=str(path), db_url=db_url, workers=1, resume=True))
