"""Bad rows become input errors (row, id, field, reason; never the text) and the scan goes on."""

from __future__ import annotations

import json
from pathlib import Path

from scan_support import corpus_notes, read_reports, write_csv, write_jsonl
from sqlalchemy import select

from notecheck.scan import ScanOptions, run_scan
from notecheck.store import Database, InputErrorRow, NoteResult

SECRET = "Zebulon Quartermaine-Whitfield"  # appears in every bad row's text; must never reach a reason


def _errors(db_url: str, scan_id: str) -> dict[int, InputErrorRow]:
    db = Database(db_url)
    try:
        with db.session() as session:
            return {
                e.row_number: e for e in session.scalars(select(InputErrorRow).where(InputErrorRow.scan_id == scan_id))
            }
    finally:
        db.dispose()


def test_bad_jsonl_rows(tmp_path: Path) -> None:
    good = corpus_notes(6)
    text = f"Met {SECRET} at the office about CDL training."
    lines: list[dict | str] = [
        good[0],  # 1
        {"text": text},  # 2 missing id
        {"id": "n-3"},  # 3 missing text
        {"id": "n-4", "text": 42},  # 4 wrong type
        {"id": ["n-5"], "text": text},  # 5 wrong id type
        {"id": "n-6", "text": text, "contact_date": "next Tuesday"},  # 6 unparseable date
        {"id": "n-7", "text": text, "entered_at": "2024-13-45T99:00"},  # 7 unparseable datetime
        {"id": "n-8", "text": text + " x" * 40_000},  # 8 oversized (over the policy's 64 KiB)
        good[1],  # 9
        {**good[2], "id": good[0]["id"]},  # 10 duplicate id of row 1
        "{not json at all " + SECRET,  # 11
        json.dumps([1, 2, 3]),  # 12 not an object
        {"id": "n-13", "text": text, "exit_date": "sometime"},  # 13 unparseable exit date
        {"id": "x" * 300, "text": text},  # 14 id too long for the database
        {"id": "n-15", "text": "   "},  # 15 empty text
        good[3],  # 16
        {"id": "n-17", "text": text, "staff": {"name": SECRET}},  # 17 wrong type of a caseload field
    ]
    path = write_jsonl(tmp_path / "notes.jsonl", lines)
    with path.open("a") as handle:
        handle.write("\n\n")  # blank lines are not rows
        handle.write(json.dumps(good[4]) + "\n")  # 20
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    out = tmp_path / "out.jsonl"
    summary = run_scan(ScanOptions(input=str(path), out=str(out), db_url=db_url, workers=2, batch_size=4))
    errors = _errors(db_url, summary.scan_id)
    expected = {
        2: ("id", "missing 'id'"),
        3: ("text", "missing 'text'"),
        4: ("text", "must be a string"),
        5: ("id", "must be a string"),
        6: ("contact_date", "not an ISO date"),
        7: ("entered_at", "not an ISO datetime"),
        8: ("text", "over the limit"),
        10: ("id", "duplicate id (first seen at row 1)"),
        11: (None, "not valid JSON"),
        12: (None, "must be a JSON object"),
        13: ("exit_date", "not an ISO date"),
        14: ("id", "longer than 200"),
        15: ("text", "empty"),
        17: ("staff", "must be a string"),
    }
    assert set(errors) == set(expected)
    for row, (field, reason) in expected.items():
        assert errors[row].field == field, row
        assert reason in errors[row].reason, (row, errors[row].reason)
        assert SECRET not in errors[row].reason and "CDL" not in errors[row].reason
    assert errors[4].note_id == "n-4" and errors[10].note_id == good[0]["id"]
    assert summary.input_errors == len(expected)
    assert summary.processed == 4
    reports = read_reports(out)
    assert sorted(r["note_id"] for r in reports) == sorted(g["id"] for g in (good[0], good[1], good[3], good[4]))
    db = Database(db_url)
    with db.session() as session:
        stored = list(session.scalars(select(NoteResult.note_id).where(NoteResult.scan_id == summary.scan_id)))
    db.dispose()
    assert sorted(stored) == sorted(r["note_id"] for r in reports)


def test_bad_csv_rows_and_utf8(tmp_path: Path) -> None:
    good = corpus_notes(3)
    path = write_csv(
        tmp_path / "notes.csv", [*good, {"id": "", "text": "Called client."}], columns=["id", "text", "office"]
    )
    with path.open("ab") as handle:
        handle.write(b"n-bad,caf\xe9 \xff note,Lowell\r\n")  # latin-1 bytes: not UTF-8
        handle.write(b'n-ok,"Phone call with client re: training, next steps set",Lowell\r\n')
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    summary = run_scan(ScanOptions(input=str(path), db_url=db_url, workers=1))
    errors = _errors(db_url, summary.scan_id)
    assert errors[4].field == "id" and "missing" in errors[4].reason
    assert "UTF-8" in errors[5].reason
    assert summary.processed == 4 and summary.input_errors == 2
