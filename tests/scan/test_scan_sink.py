"""The writer's plain DBAPI inserts (sink.RawInsert) store exactly what SQLAlchemy's Core executemany stores, on SQLite
and on PostgreSQL: the same values in the same text formats (dates, JSON), the same keys, the same duplicate-id
errors."""

from __future__ import annotations

from typing import Any

import pytest
from scan_support import synthetic
from sqlalchemy import bindparam, text

from notecheck.checker import Checker
from notecheck.scan.runner import _create
from notecheck.scan.sink import ResultSink
from notecheck.scan.sources import RawRow
from notecheck.scan.worker import check_rows
from notecheck.store import Database

VOLATILE = {"id", "scan_id", "checked_at", "created_at", "updated_at", "started_at", "key", "note_pk"}


def _batches(checker: Checker) -> list[list[RawRow]]:
    notes = synthetic(24, seed=9)
    rows: list[Any] = [RawRow(i, note) for i, note in enumerate(notes[:12], start=1)]
    rows.append(RawRow(13, None, (None, "not valid JSON")))
    rows.append(RawRow(14, {"id": "bad", "text": 7}))
    rows.append(RawRow(15, dict(notes[3])))  # duplicate of an id in this batch
    second: list[Any] = [RawRow(i, note) for i, note in enumerate(notes[12:], start=16)]
    second.append(RawRow(28, dict(notes[0])))  # duplicate of an id in the first batch
    return [rows, second]


def _write(db: Database, scan_id: str, batches: list[list[RawRow]], checker: Checker, *, raw: bool) -> None:
    with db.session() as session:
        _create(session, scan_id, source="t", policy="default", key=scan_id, out=None)
    sink = ResultSink(db, scan_id)
    if not raw:  # the generic path for drivers without a positional style: SQLAlchemy Core with dicts
        for statement in (sink.notes, sink.findings, sink.features, sink.errors):
            statement.sql = None
        sink.mark = None
    for batch in batches:
        sink.write(check_rows(batch, "default", checker=checker), batch[-1].row + 1)


def _stored(db: Database, scan_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every stored value of the scan as the driver returns it (no SQLAlchemy type processing), with note keys
    replaced by note ids."""
    out: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, note_id FROM notes WHERE scan_id = :s"), {"s": scan_id}).all())
        tables = [("notes", "id"), ("findings", "id"), ("scan_notes", "row_number"), ("input_errors", "row_number"),
                  ("scans", "id"), ("scan_checkpoints", "scan_id")]  # fmt: skip
        for table, order in tables:
            column = "id" if table == "scans" else "scan_id"
            result = connection.execute(
                text(f"SELECT * FROM {table} WHERE {column} = :s ORDER BY {order}"), {"s": scan_id}
            )
            rows = []
            for row in result.mappings():
                values = {
                    k: (bytes(v) if isinstance(v, memoryview) else v) for k, v in row.items() if k not in VOLATILE
                }
                if "note_pk" in row:
                    values["note"] = keys[row["note_pk"]]
                rows.append(values)
            out[table] = rows
    return out


def test_raw_inserts_store_what_core_stores(database_url: str, checker: Checker) -> None:
    db = Database(database_url)
    batches = _batches(checker)
    _write(db, "raw", batches, checker, raw=True)
    _write(db, "core", batches, checker, raw=False)
    raw, core = _stored(db, "raw"), _stored(db, "core")
    assert raw == core
    assert len(raw["notes"]) == 24 and len(raw["scan_notes"]) == 24 and raw["findings"]
    assert [(e["row_number"], e["field"]) for e in raw["input_errors"]] == [
        (13, None),
        (14, "text"),
        (15, "id"),
        (28, "id"),
    ]
    assert raw["scans"][0]["processed"] == 24 and raw["scan_checkpoints"][0]["next_row"] == 29
    with db.engine.connect() as connection:  # the keys are the notes' own: every finding points at its note
        mismatched = connection.execute(
            text("SELECT COUNT(*) FROM findings f JOIN notes n ON n.id = f.note_pk WHERE n.note_id <> f.note_id")
        ).scalar()
        assert mismatched == 0
    db.dispose()


def test_the_export_merge_is_the_same_through_plain_sql_and_core(database_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """export_caseload reads each chunk's caseload findings with one plain SELECT through the notes' unique index;
    SQLAlchemy Core (drivers without a positional style) merges the same file, in any chunk size."""
    import os
    import shutil

    from scan_support import read_reports, write_jsonl

    from notecheck.scan import runner
    from notecheck.scan.caseload import CASELOAD_RULES

    path = write_jsonl(tmp_path / "notes.jsonl", synthetic(150))
    out = tmp_path / "out.jsonl"
    real_replace = os.replace

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)  # stop before the merged file replaces the note pass's
    with pytest.raises(KeyboardInterrupt):
        runner.run_scan(runner.ScanOptions(input=str(path), out=str(out), db_url=database_url, workers=1))
    monkeypatch.setattr(os, "replace", real_replace)
    db = Database(database_url)
    with db.engine.connect() as connection:
        scan_id, count = connection.execute(
            text("SELECT scan_id, COUNT(*) FROM findings WHERE rule IN :rules GROUP BY scan_id").bindparams(
                bindparam("rules", expanding=True)
            ),
            {"rules": list(CASELOAD_RULES)},
        ).one()
    assert count > 0
    copies = {name: tmp_path / f"{name}.jsonl" for name in ("raw", "raw7", "core")}
    for copy in copies.values():
        shutil.copy(out, copy)
    runner.export_caseload(db, scan_id, str(copies["raw"]))
    runner.export_caseload(db, scan_id, str(copies["raw7"]), chunk=7)
    monkeypatch.setattr(
        runner._Merger, "__init__", lambda self, db, scan_id: vars(self).update(scan_id=scan_id, mark=None)
    )
    runner.export_caseload(db, scan_id, str(copies["core"]), chunk=50)
    merged = copies["raw"].read_bytes()
    assert merged != out.read_bytes()
    assert copies["raw7"].read_bytes() == merged and copies["core"].read_bytes() == merged
    in_file = [f for r in read_reports(copies["raw"]) for f in r["findings"] if f["rule"] in CASELOAD_RULES]
    assert len(in_file) == count
    db.dispose()


def test_a_failed_statement_does_not_carry_its_values_in_the_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    secret = "Client disclosed her diagnosis"
    with pytest.raises(Exception) as raw_error, db.engine.connect() as connection:
        connection.exec_driver_sql("INSERT INTO no_such_table (text) VALUES (?)", (secret,))
    with pytest.raises(Exception) as core_error, db.engine.connect() as connection:
        connection.execute(text("INSERT INTO no_such_table (text) VALUES (:t)"), {"t": secret})
    for error in (raw_error.value, core_error.value):
        assert "no_such_table" in str(error) and secret not in str(error)


def test_the_pool_and_the_database_merge_the_same_caseload_into_out(database_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With workers, the staff clone pass runs in a worker and the --out merge is made from the findings in memory
    (decision and score derived from each line) while the parent stores them; past MEMORY_EXPORT findings the
    merge reads the database afterwards; one process always does the latter. Same file, same findings."""
    from scan_support import read_reports, write_jsonl

    from notecheck.scan import runner
    from notecheck.scan.caseload import CLONED_RULE, CONTACT_GAP_RULE

    path = write_jsonl(tmp_path / "notes.jsonl", synthetic(400, seed=5))
    outs = {}
    for workers, budget in ((1, 20_000), (2, 20_000), (2, 5)):
        monkeypatch.setattr(runner, "MEMORY_EXPORT", budget)
        outs[workers, budget] = tmp_path / f"out{workers}-{budget}.jsonl"
        summary = runner.run_scan(
            runner.ScanOptions(input=str(path), out=str(outs[workers, budget]), db_url=database_url, workers=workers)
        )
        assert summary.processed == 400
    reports = read_reports(outs[2, 20_000])
    rules = [f["rule"] for r in reports for f in r["findings"]]
    assert rules.count(CLONED_RULE) > 3 and rules.count(CONTACT_GAP_RULE) > 3  # the merge had work to do
    assert outs[2, 20_000].read_bytes() == outs[1, 20_000].read_bytes() == outs[2, 5].read_bytes()


def test_export_findings_is_export_caseload_on_a_fresh_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The in-memory merge, given the note pass's file, writes what the database merge writes (error and warning
    decisions, the cloned score weight)."""
    import os
    import shutil

    from scan_support import write_jsonl

    from notecheck.checker import Checker
    from notecheck.scan import runner
    from notecheck.scan.caseload import caseload_rows, cloned_weight, compute_caseload

    url = f"sqlite:///{tmp_path / 'n.db'}"
    path = write_jsonl(tmp_path / "notes.jsonl", synthetic(300, seed=8))
    out = tmp_path / "out.jsonl"
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        runner.run_scan(runner.ScanOptions(input=str(path), out=str(out), db_url=url, workers=1))
    monkeypatch.setattr(os, "replace", real_replace)
    db = Database(url)
    with db.engine.connect() as connection:
        scan_id = connection.execute(text("SELECT id FROM scans")).scalar_one()
    checker = Checker()
    rows = list(caseload_rows(compute_caseload(db, scan_id, checker.policy), scan_id))
    assert {r["severity"] for r in rows} >= {"warning"} and cloned_weight(checker.policy) > 0
    from_memory, from_db = tmp_path / "memory.jsonl", tmp_path / "db.jsonl"
    shutil.copy(out, from_memory)
    shutil.copy(out, from_db)
    runner.export_findings(str(from_memory), runner._findings_by_note(rows), cloned_weight(checker.policy), chunk=9)
    runner.export_caseload(db, scan_id, str(from_db))
    assert from_memory.read_bytes() == from_db.read_bytes() != out.read_bytes()
    db.dispose()


def test_the_last_rows_go_in_smaller_batches_so_workers_finish_together() -> None:
    from notecheck.scan.runner import _batches

    rows = [RawRow(i, {"id": str(i)}) for i in range(1, 1001)]
    sizes = [len(b) for b in _batches(iter(rows), 100, left=1000, tail=300)]
    assert sizes == [100] * 7 + [25] * 12
    assert [len(b) for b in _batches(iter(rows), 100)] == [100] * 10
    assert [r.row for b in _batches(iter(rows), 100, left=900, tail=300) for r in b] == list(range(1, 1001))
