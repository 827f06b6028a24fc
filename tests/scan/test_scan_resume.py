"""A scan killed with SIGKILL mid-way and rerun with --resume ends with exactly one result per note, in the database
and in the --out file (SQLite and PostgreSQL). Its workers die with it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from scan_support import notecheck, read_reports, start_notecheck, synthetic, write_jsonl
from sqlalchemy import func, select

from notecheck.scan.models import ScanCheckpoint
from notecheck.store import Database, InputErrorRow, NoteResult, Scan

N = 1200


def _input(tmp_path: Path) -> tuple[Path, set[str], int]:
    notes = synthetic(N)
    rows: list[dict | str] = list(notes)
    rows.insert(100, {"id": "bad-1", "text": 5})
    rows.insert(500, "{broken")
    rows.insert(900, dict(notes[10]))  # a duplicate id
    path = write_jsonl(tmp_path / "notes.jsonl", rows)
    return path, {n["id"] for n in notes}, 3


def _progress(db: Database) -> tuple[int, str] | None:
    try:
        with db.session() as session:
            row = session.execute(select(ScanCheckpoint.next_row, ScanCheckpoint.phase)).first()
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return None
    return None if row is None else (row[0], row[1])


@pytest.mark.slow
def test_kill_9_then_resume(tmp_path: Path, database_url: str) -> None:
    path, ids, bad = _input(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["scan", str(path), "--out", str(out), "--db", database_url, "--workers", "2", "--batch-size", "16"]
    process = start_notecheck(*args, cwd=tmp_path)
    db = Database(database_url, upgrade=False)
    try:
        deadline = time.monotonic() + 240
        while True:
            progress = _progress(db)
            if progress and progress[0] > 150:
                break
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the scan made no progress"
            time.sleep(0.05)
        workers = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
        assert workers, "a process pool was expected"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        # the workers die with the parent (PR_SET_PDEATHSIG): no orphans left checking notes
        gone, alive = psutil.wait_procs([psutil.Process(p) for p in workers if psutil.pid_exists(p)], timeout=15)
        assert not alive
        progress = _progress(db)
        assert progress is not None and progress[1] == "notes" and 1 < progress[0] < N, progress
        with db.session() as session:
            partial = session.scalar(select(func.count()).select_from(NoteResult))
        assert 0 < partial < len(ids)

        resumed = notecheck(*args, "--resume", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert "(resumed)" in resumed.stdout

        with db.session() as session:
            scans = list(session.scalars(select(Scan)))
            note_ids = list(session.scalars(select(NoteResult.note_id)))
            error_rows = list(session.scalars(select(InputErrorRow.row_number)))
        assert len(scans) == 1 and scans[0].status == "done"
        assert len(note_ids) == len(set(note_ids)) == len(ids) and set(note_ids) == ids
        assert sorted(error_rows) == sorted(set(error_rows)) and len(error_rows) == bad
        assert scans[0].processed == len(ids) and scans[0].input_errors == bad
        reports = read_reports(out)
        assert len(reports) == len(ids) and {r["note_id"] for r in reports} == ids
        assert all(line.endswith("\n") for line in out.read_text().splitlines(keepends=True))
        json.loads(out.read_text().splitlines()[-1])
    finally:
        if process.poll() is None:
            process.kill()
        db.dispose()
