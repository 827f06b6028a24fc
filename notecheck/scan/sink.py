"""Where checked batches go: the JSONL report file and the results database, kept consistent for resume.

One writer (the scan's parent process) takes batches strictly in input order. For each batch it
1. drops notes whose id an earlier row already used (an input error: "duplicate id"),
2. appends the batch's report lines to the --out file, flushes and fsyncs it,
3. commits, in one transaction: every note result (the rows `store.results.record_report` writes, text of
   flagged notes only, inserted in bulk), the notes' caseload features, the input errors, the scan's counters, and
   the checkpoint (`next_row`: the first row not yet done; `out_offset`: the size of the --out file that matches).

A scan killed at any moment therefore has a checkpoint that describes exactly what is committed. `--resume`
truncates the --out file back to `out_offset` (dropping lines written after the last commit) and reads the input
again from `next_row`: every row ends up committed exactly once, in the database (unique scan and note id) and in
the file.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import BinaryIO

from sqlalchemy import insert, select, update

from notecheck.scan.models import ScanCheckpoint, ScanNote
from notecheck.scan.worker import Item
from notecheck.store import Database, FindingRow, InputErrorRow, NoteResult, Scan
from notecheck.store.models import utcnow

IN_CHUNK = 500


@dataclass
class BatchStats:
    processed: int = 0
    input_errors: int = 0
    decisions: Counter[str] = field(default_factory=Counter)

    def add(self, other: BatchStats) -> None:
        self.processed += other.processed
        self.input_errors += other.input_errors
        self.decisions.update(other.decisions)


class OutFile:
    """The --out JSONL file, opened at the checkpoint's offset (anything after it is cut off)."""

    def __init__(self, path: str, offset: int):
        self.path = path
        mode = "r+b" if offset and os.path.exists(path) else "wb"
        self.handle: BinaryIO = open(path, mode)  # noqa: SIM115 - closed by close()
        self.handle.truncate(offset)
        self.handle.seek(offset)
        self.offset = offset

    def append(self, lines: list[bytes]) -> int:
        if lines:
            self.handle.write(b"".join(lines))
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.offset = self.handle.tell()
        return self.offset

    def close(self) -> None:
        self.handle.close()


class RawInsert:
    """One INSERT of positional rows into `table`, run as a plain DBAPI executemany.

    SQLAlchemy's Core executemany builds and processes a parameter dict per row (most of the writer's CPU); here the
    statement is written once per dialect and rows are tuples: the values of `fixed` columns, the same for every
    row of a call (scan id, timestamp), then those of `columns`. Values are converted as SQLAlchemy would convert
    them (each column type's bind processor for this dialect: dates and JSON to text on SQLite, JSON on PostgreSQL;
    fixed values once per call), so the stored rows are the same. Drivers with another parameter style than qmark
    (sqlite3) or format (psycopg) get the Core executemany with dicts."""

    def __init__(self, dialect, table, fixed: tuple[str, ...], columns: tuple[str, ...]):  # type: ignore[no-untyped-def]
        self.table, self.fixed, self.columns = table, fixed, fixed + columns
        preparer = dialect.identifier_preparer
        mark = placeholder(dialect)
        self.sql = (
            f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in self.columns)}) "
            f"VALUES ({', '.join([mark] * len(self.columns))})"
            if mark
            else None
        )
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.columns]
        self.fixed_processors = processors[: len(fixed)]
        self.processors = [(i, p) for i, p in enumerate(processors[len(fixed) :]) if p is not None]

    def execute(self, connection, fixed: tuple, rows: list[tuple]) -> None:  # type: ignore[no-untyped-def,type-arg]
        if not rows:
            return
        if self.sql is None:
            connection.execute(insert(self.table), [dict(zip(self.columns, fixed + row, strict=True)) for row in rows])
            return
        head = tuple(value if p is None else p(value) for p, value in zip(self.fixed_processors, fixed, strict=True))
        if self.processors:
            processed = []
            for row in rows:
                values = list(row)
                for i, processor in self.processors:
                    values[i] = processor(values[i])
                processed.append((*head, *values))
        else:
            processed = [head + row for row in rows]
        connection.exec_driver_sql(self.sql, processed)


def placeholder(dialect) -> str | None:  # type: ignore[no-untyped-def]
    """The positional parameter marker of the dialect's driver, or None when it has none we write."""
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)


NOTE_COLUMNS = ("note_id", "client_id", "staff", "office", "program", "contact_date", "entered_at", "decision",
                "score", "policy", "checker_version", "elements", "text_sha256", "text", "title")  # fmt: skip
FINDING_COLUMNS = ("note_id", "office", "staff", "kind", "category", "rule", "severity", "start", "end",
                   "confidence", "message", "policy_ref", "fingerprint")  # fmt: skip
_note_values = itemgetter(*NOTE_COLUMNS)
_finding_values = itemgetter(*FINDING_COLUMNS)


class ResultSink:
    def __init__(self, db: Database, scan_id: str, out: OutFile | None = None):
        self.db, self.scan_id, self.out = db, scan_id, out
        dialect = db.engine.dialect
        self.notes = RawInsert(dialect, NoteResult.__table__, ("scan_id", "checked_at"), NOTE_COLUMNS)
        self.findings = RawInsert(
            dialect, FindingRow.__table__, ("scan_id", "created_at"), ("note_pk", *FINDING_COLUMNS)
        )
        self.features = RawInsert(dialect, ScanNote.__table__, ("scan_id",),
                                  ("note_id", "row_number", "contact", "exit_date", "minhash"))  # fmt: skip
        self.errors = RawInsert(
            dialect, InputErrorRow.__table__, ("scan_id",), ("row_number", "note_id", "field", "reason")
        )
        self.mark, self.quote = placeholder(dialect), dialect.identifier_preparer.quote

    def write(self, items: list[Item], next_row: int) -> BatchStats:
        """Record one batch (rows in input order) and move the checkpoint to `next_row` atomically."""
        stats = BatchStats()
        with self.db.engine.begin() as connection:  # Core: no ORM session or unit of work per batch
            earlier = self._known_ids(connection, [i.note_id for i in items if i.ok and i.note_id])
            accepted: list[Item] = []
            errors: list[Item] = []
            for item in items:
                if item.ok and item.note_id in earlier:
                    item.reject("id", f"duplicate id (first seen at row {earlier[item.note_id]})")
                if item.ok:
                    earlier[item.note_id] = item.row  # type: ignore[index]
                    accepted.append(item)
                    stats.decisions[item.decision] += 1  # type: ignore[index]
                else:
                    errors.append(item)
            offset = self.out.append([i.line for i in accepted if i.line]) if self.out else 0
            self._insert(connection, accepted, errors)
            stats.processed, stats.input_errors = len(accepted), len(errors)
            connection.execute(
                update(Scan)
                .where(Scan.id == self.scan_id)
                .values(
                    processed=Scan.processed + stats.processed,
                    flagged=Scan.flagged + sum(1 for i in accepted if i.flagged),
                    input_errors=Scan.input_errors + stats.input_errors,
                )
            )
            connection.execute(
                update(ScanCheckpoint)
                .where(ScanCheckpoint.scan_id == self.scan_id)
                .values(next_row=next_row, rows_read=ScanCheckpoint.rows_read + len(items), out_offset=offset)
            )
        return stats

    def _insert(self, connection, accepted: list[Item], errors: list[Item]) -> None:  # type: ignore[no-untyped-def]
        """Bulk INSERTs (the rows `record_report` would write, see rows.result_rows): notes, findings, features.

        The notes go in first, with one executemany; their new keys come back by one SELECT per IN_CHUNK notes
        (INSERT .. RETURNING in parameter order would be one statement per row on SQLite)."""
        scan_id = (self.scan_id,)
        if accepted:
            now = utcnow()
            self.notes.execute(connection, (self.scan_id, now), [_note_values(item.note_row) for item in accepted])  # type: ignore[arg-type]
            keys = self._lookup(connection, "notes", "id", [item.note_id for item in accepted])  # type: ignore[misc]
            self.findings.execute(
                connection,
                (self.scan_id, now),
                [
                    (keys[item.note_id], *_finding_values(finding))  # type: ignore[index]
                    for item in accepted
                    for finding in item.findings or ()
                ],
            )
            self.features.execute(
                connection,
                scan_id,
                [(item.note_id, item.row, item.contact, item.exit_date, item.minhash) for item in accepted],
            )
        self.errors.execute(
            connection,
            scan_id,
            [(item.row, item.note_id, item.field, (item.reason or "unreadable row")[:500]) for item in errors],
        )

    def _known_ids(self, connection, ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
        """Ids already recorded in this scan (by earlier batches), with the row that used them."""
        return self._lookup(connection, "scan_notes", "row_number", sorted(set(ids)))

    def _lookup(self, connection, table: str, column: str, ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
        """{note_id: column} of this scan's rows of `table` (notes or scan_notes) with these note ids, by one plain
        SELECT per IN_CHUNK ids."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            if self.mark is None:
                t = (NoteResult if table == "notes" else ScanNote).__table__
                statement = select(t.c.note_id, t.c[column]).where(t.c.scan_id == self.scan_id, t.c.note_id.in_(chunk))
                found.update(connection.execute(statement).all())
                continue
            sql = (
                f"SELECT note_id, {self.quote(column)} FROM {table} WHERE scan_id = {self.mark} "
                f"AND note_id IN ({', '.join([self.mark] * len(chunk))})"
            )
            found.update(connection.exec_driver_sql(sql, (self.scan_id, *chunk)).all())
        return found
