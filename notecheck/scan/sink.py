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


class ResultSink:
    def __init__(self, db: Database, scan_id: str, out: OutFile | None = None):
        self.db, self.scan_id, self.out = db, scan_id, out

    def write(self, items: list[Item], next_row: int) -> BatchStats:
        """Record one batch (rows in input order) and move the checkpoint to `next_row` atomically."""
        stats = BatchStats()
        with self.db.session() as session:
            earlier = self._known_ids(session, [i.note_id for i in items if i.ok and i.note_id])
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
            self._insert(session, accepted, errors)
            stats.processed, stats.input_errors = len(accepted), len(errors)
            session.execute(
                update(Scan)
                .where(Scan.id == self.scan_id)
                .values(
                    processed=Scan.processed + stats.processed,
                    flagged=Scan.flagged + sum(1 for i in accepted if i.flagged),
                    input_errors=Scan.input_errors + stats.input_errors,
                )
            )
            session.execute(
                update(ScanCheckpoint)
                .where(ScanCheckpoint.scan_id == self.scan_id)
                .values(next_row=next_row, rows_read=ScanCheckpoint.rows_read + len(items), out_offset=offset)
            )
        return stats

    def _insert(self, session, accepted: list[Item], errors: list[Item]) -> None:  # type: ignore[no-untyped-def]
        """Bulk INSERTs (the rows `record_report` would write, see rows.result_rows): notes, findings, features."""
        scan_id = self.scan_id
        connection = session.connection()  # Core executemany: no ORM unit of work per row
        if accepted:
            now = utcnow()
            notes = NoteResult.__table__
            # a plain executemany, then the new keys in one SELECT per IN_CHUNK notes: INSERT .. RETURNING in
            # parameter order falls back to one statement per row on SQLite (no sentinel column)
            connection.execute(
                insert(notes),
                [{**item.note_row, "scan_id": scan_id, "checked_at": now} for item in accepted],  # type: ignore[dict-item]
            )
            keys: dict[str, int] = {}
            ids = [item.note_id for item in accepted]
            for start in range(0, len(ids), IN_CHUNK):
                keys.update(
                    connection.execute(
                        select(notes.c.note_id, notes.c.id).where(
                            notes.c.scan_id == scan_id, notes.c.note_id.in_(ids[start : start + IN_CHUNK])
                        )
                    ).all()
                )
            findings = [
                {**finding, "scan_id": scan_id, "note_pk": keys[item.note_id], "created_at": now}
                for item in accepted
                for finding in item.findings or ()
            ]
            if findings:
                connection.execute(insert(FindingRow.__table__), findings)
            connection.execute(
                insert(ScanNote.__table__),
                [
                    {
                        "scan_id": scan_id,
                        "note_id": item.note_id,
                        "row_number": item.row,
                        "contact": item.contact,
                        "exit_date": item.exit_date,
                        "minhash": item.minhash,
                    }
                    for item in accepted
                ],
            )
        if errors:
            connection.execute(
                insert(InputErrorRow.__table__),
                [
                    {
                        "scan_id": scan_id,
                        "row_number": item.row,
                        "note_id": item.note_id,
                        "field": item.field,
                        "reason": (item.reason or "unreadable row")[:500],
                    }
                    for item in errors
                ],
            )

    def _known_ids(self, session, ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
        """Ids already recorded in this scan (by earlier batches), with the row that used them."""
        known: dict[str, int] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), IN_CHUNK):
            chunk = unique[start : start + IN_CHUNK]
            rows = session.execute(
                select(ScanNote.note_id, ScanNote.row_number).where(
                    ScanNote.scan_id == self.scan_id, ScanNote.note_id.in_(chunk)
                )
            )
            known.update({note_id: row for note_id, row in rows})
        return known
