"""The writer's plain DBAPI inserts (sink.RawInsert) store exactly what SQLAlchemy's Core executemany stores, on SQLite
and on PostgreSQL: the same values in the same text formats (dates, JSON), the same keys, the same duplicate-id
errors."""

from __future__ import annotations

from typing import Any

from scan_support import synthetic
from sqlalchemy import text

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
