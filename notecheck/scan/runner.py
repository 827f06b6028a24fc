"""Running a bulk scan: source -> process pool -> sink, then caseload checks, then the --out file's final form.

A scan moves through phases recorded in its checkpoint: `notes` (the per-note pass, committed batch by batch),
`caseload` (one transaction), `export` (caseload findings merged into the --out file, atomically replaced), `done`.
A rerun with `resume` picks up the phase and position where a killed scan stopped.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import itertools
import json
import os
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from notecheck.checker import Checker
from notecheck.database_prep import visible_to_other_processes
from notecheck.errors import InputError
from notecheck.report import KIND_RANK
from notecheck.scan.caseload import (
    CASELOAD_RULES,
    CLONED_RULE,
    caseload_rows,
    cloned_weight,
    compute_caseload,
    store_caseload,
)
from notecheck.scan.models import ScanCheckpoint
from notecheck.scan.sink import BatchStats, OutFile, ResultSink, placeholder
from notecheck.scan.sources import RawRow, Source, open_source, safe_url
from notecheck.scan.worker import (
    batch_without_gc,
    check_rows,
    encode_compact,
    pool_initializer,
    pool_task,
    set_checker,
)
from notecheck.store import Database, FindingRow, InputErrorRow, NoteResult, Scan
from notecheck.store.db import database_url
from notecheck.store.models import utcnow
from notecheck.store.results import ensure_scan
from notecheck.store.suppressions import suppressed_fingerprints

ENGINES = ("local", "spark")
# caseload findings (about 1 kB each in the parent and in the worker while they are merged) up to which the --out
# merge runs from memory, alongside storing them; more are merged from the database afterwards (memory stays flat)
MEMORY_EXPORT = 20_000


@dataclass
class ScanOptions:
    input: str
    out: str | None = None
    db_url: str | None = None
    policy: str = "default"
    workers: int | None = None
    engine: str = "local"
    resume: bool = False
    query: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    batch_size: int = 512  # per batch: one commit, one IPC round trip, one classifier call (256: 2% more CPU)
    quiet: bool = True
    scan_id: str | None = None
    as_of: str | None = None  # end of the data for open contact gaps and due follow-ups (default: latest day seen)
    caseload: bool = True  # run the caseload checks after the per-note pass


@dataclass
class ScanSummary:
    scan_id: str
    processed: int  # notes checked and recorded (whole scan, across resumes)
    flagged: int  # notes whose decision is warn or block (after caseload checks)
    input_errors: int
    seconds: float  # wall time of this run
    decisions: dict[str, int] = field(default_factory=dict)
    caseload_findings: int = 0
    checked_this_run: int = 0
    notes_per_second: float = 0.0  # rows checked in this run / seconds of this run's per-note pass
    resumed: bool = False
    status: str = "done"
    out: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        d = self.decisions
        return [
            f"scan {self.scan_id}: {self.status}{' (resumed)' if self.resumed else ''}",
            f"  processed      {self.processed}",
            f"  flagged        {self.flagged} (block {d.get('block', 0)}, warn {d.get('warn', 0)}, "
            f"allow {d.get('allow', 0)})",
            f"  input errors   {self.input_errors}",
            f"  caseload       {self.caseload_findings} findings",
            f"  rate           {self.notes_per_second:.0f} notes/s "
            f"({self.checked_this_run} rows in {self.seconds:.1f} s)",
        ] + ([f"  reports        {self.out}"] if self.out else [])


# -- public entry points ----------------------------------------------------------------------------------------------
def run_scan(options: ScanOptions) -> ScanSummary:
    """Scan an input (file or database query) into the results database and, with `out`, a JSONL report file.

    Raises InputError when the input cannot be read at all, ConfigError for a bad policy."""
    if options.engine not in ENGINES:
        raise InputError(f"unknown engine {options.engine!r}; use one of {', '.join(ENGINES)}", field="engine")
    if options.batch_size < 1:
        raise InputError("the batch size must be at least 1", field="batch_size")
    if options.engine == "spark":
        from notecheck.scan.spark import run_spark_scan

        return run_spark_scan(options)
    started = time.monotonic()
    as_of = _parse_as_of(options.as_of)
    source = open_source(
        options.input, query=options.query, column_map=options.column_map, batch_size=options.batch_size
    )
    try:
        checker = Checker(policy=options.policy)
        workers = max(1, options.workers or os.cpu_count() or 1)
        db = Database(options.db_url)
        try:
            checker.set_suppressed(suppressed_fingerprints(db))  # forked workers inherit it
            return _run(options, source, checker, db, workers, as_of, started)
        finally:
            db.dispose()
    finally:
        source.close()


def scan_notes(
    notes: Iterable[dict[str, Any]],
    db: Database,
    *,
    policy: str = "default",
    scan_id: str | None = None,
    source: str = "inline",
    checker: Checker | None = None,
    as_of: str | None = None,
) -> ScanSummary:
    """Scan notes (dicts as in CONTRACT §1) in this process, one worker: for small jobs and the demo.

    The caseload checks run afterwards, as in `run_scan`; `as_of` (YYYY-MM-DD) is the end of the data for open
    contact gaps and due follow-ups (default: the latest day in the notes)."""
    started = time.monotonic()
    policy_name = checker.policy.name if checker is not None else policy
    checker = checker or Checker(policy=policy)
    checker.set_suppressed(checker.suppressed | suppressed_fingerprints(db))
    scan_id = scan_id or new_scan_id()
    with db.session() as session:
        scan = session.get(Scan, scan_id)
        if scan is not None and session.get(ScanCheckpoint, scan_id) is not None:
            raise InputError(f"scan {scan_id} already exists", field="scan_id")
        _create(session, scan_id, source=source, policy=policy_name, key=_key(source, None, {}, policy_name), out=None)
    try:
        sink = ResultSink(db, scan_id)
        total = BatchStats()
        batch: list[RawRow] = []
        number = 0
        pass_started = time.monotonic()
        for note in notes:
            number += 1
            batch.append(
                RawRow(number, note) if isinstance(note, dict) else RawRow(number, None, (None, "not an object"))
            )
            if len(batch) >= 256:
                total.add(sink.write(check_rows(batch, policy_name, checker=checker), number + 1))
                batch = []
        if batch:
            total.add(sink.write(check_rows(batch, policy_name, checker=checker), number + 1))
        pass_seconds = time.monotonic() - pass_started
        _set_phase(db, scan_id, "caseload")
        _finish(db, scan_id, checker, None, _parse_as_of(as_of))
    except BaseException:
        _mark(db, scan_id, "failed")
        raise
    return _summary(db, scan_id, started, pass_seconds, total.processed + total.input_errors, resumed=False, out=None)


# -- the run ---------------------------------------------------------------------------------------------------------
def new_scan_id() -> str:
    return f"scan-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def _key(source: str, query: str | None, column_map: dict[str, str], policy: str) -> str:
    material = json.dumps([source, query or "", sorted(column_map.items()), policy])
    return hashlib.sha256(material.encode()).hexdigest()


def _parse_as_of(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of must be a date (YYYY-MM-DD), not {value!r}", field="as_of") from None


def _create(session, scan_id: str, *, source: str, policy: str, key: str, out: str | None,
            total: int | None = None, options: dict[str, Any] | None = None) -> ScanCheckpoint:  # type: ignore[no-untyped-def]  # fmt: skip
    from notecheck._version import __version__

    scan = ensure_scan(session, scan_id, source=source[:500], policy=policy[:200], checker_version=__version__)
    scan.status, scan.total, scan.options = "running", total, options or {}
    checkpoint = ScanCheckpoint(scan_id=scan_id, phase="notes", next_row=1, rows_read=0, out_path=out, out_offset=0,
                                key=key)  # fmt: skip
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _begin(options: ScanOptions, source: Source, db: Database, out: str | None) -> tuple[str, ScanCheckpoint, bool]:
    """Find the scan to resume, or create a new one. Returns (scan_id, checkpoint, resumed)."""
    key = _key(source.name, options.query, options.column_map, options.policy)
    with db.session() as session:
        checkpoint: ScanCheckpoint | None = None
        if options.scan_id:
            checkpoint = session.get(ScanCheckpoint, options.scan_id)
            if checkpoint is not None and not options.resume:
                raise InputError(f"scan {options.scan_id} already exists; add --resume to continue it", field="scan_id")
        elif options.resume:
            checkpoint = session.scalars(
                select(ScanCheckpoint)
                .join(Scan, Scan.id == ScanCheckpoint.scan_id)
                .where(ScanCheckpoint.key == key)
                .order_by(Scan.started_at.desc(), Scan.id.desc())
                .limit(1)
            ).first()
        if checkpoint is not None:
            if checkpoint.key != key:
                raise InputError(
                    f"scan {checkpoint.scan_id} was a scan of another input, query or policy", field="input"
                )
            if checkpoint.phase != "done":
                scan = session.get(Scan, checkpoint.scan_id)
                recorded_identity = (scan.options or {}).get("input_identity") if scan is not None else None
                if checkpoint.phase == "notes" and recorded_identity and recorded_identity != source.identity():
                    raise InputError(
                        f"{source.name} changed since scan {checkpoint.scan_id} started; start a new scan",
                        field="input",
                    )
                if (checkpoint.out_path or None) != out:
                    raise InputError(
                        f"--out must be the interrupted scan's ({checkpoint.out_path or 'none'}) to resume it",
                        field="out",
                    )
                if out and checkpoint.phase == "notes" and _size(out) < checkpoint.out_offset:
                    raise InputError(
                        f"{out} is shorter than scan {checkpoint.scan_id} wrote; cannot resume", field="out"
                    )
                session.execute(update(Scan).where(Scan.id == checkpoint.scan_id).values(status="running"))
            return checkpoint.scan_id, checkpoint, True
        scan_id = options.scan_id or new_scan_id()
        recorded = {
            "format": source.format,
            "engine": options.engine,
            "workers": options.workers,
            "batch_size": options.batch_size,
            "column_map": options.column_map,
            "out": out,
            "query": options.query,
            "input_identity": source.identity(),
        }
        checkpoint = _create(session, scan_id, source=source.name, policy=options.policy, key=key, out=out,
                             total=source.total, options=recorded)  # fmt: skip
        return scan_id, checkpoint, False


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def _run(options: ScanOptions, source: Source, checker: Checker, db: Database, workers: int,
         as_of: dt.date | None, started: float) -> ScanSummary:  # fmt: skip
    out = str(Path(options.out).resolve()) if options.out else None
    if out is not None and source.format != "sql" and Path(out) == Path(source.name):
        raise InputError("--out must not be the input file", field="out")
    scan_id, checkpoint, resumed = _begin(options, source, db, out)
    if resumed and not options.quiet:
        _notice(f"resuming scan {scan_id} at row {checkpoint.next_row} ({checkpoint.phase})")
    if resumed and getattr(source, "ordered", True) is False and checkpoint.phase == "notes":
        _notice("warning: the query has no ORDER BY; resuming by row position needs a stable order")
    pass_seconds, checked = 0.0, 0
    pool = _Pool(workers, options.policy)
    try:
        fresh = checkpoint.phase == "notes"  # this run writes every --out line: none holds caseload findings yet
        if fresh:
            pass_started = time.monotonic()
            checked = _note_pass(options, source, checker, db, pool, scan_id, checkpoint, out)
            pass_seconds = time.monotonic() - pass_started
            _set_phase(db, scan_id, "caseload")
        _finish(db, scan_id, checker, out, as_of, options.caseload, pool=pool, fresh_out=fresh)
    except BaseException:
        _mark(db, scan_id, "failed")
        raise
    finally:
        pool.shutdown()
    return _summary(db, scan_id, started, pass_seconds, checked, resumed=resumed, out=out)


class _Pool:
    """The scan's worker processes, from the first batch to the end of the caseload checks (None: one process).

    Forked on first use when this process has no other thread (workers inherit the Checker), else forkserver."""

    def __init__(self, workers: int, policy: str):
        self.workers, self.policy = workers, policy
        self._executor: Any = None
        self.forks = False  # whether the workers are forked from this process (set when they start)

    @property
    def executor(self):  # type: ignore[no-untyped-def]
        if self.workers == 1:
            return None
        if self._executor is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            method = "fork" if threading.active_count() == 1 and sys.platform.startswith("linux") else "forkserver"
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=pool_initializer,
                initargs=(os.getpid() if method == "fork" else None, self.policy),
            )
            self.forks = method == "fork"
        return self._executor

    @property
    def started(self):  # type: ignore[no-untyped-def]
        """The executor if its workers exist already, else None."""
        return self._executor

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _batches(rows: Iterator[RawRow], size: int, left: int | None = None, tail: int = 0) -> Iterator[list[RawRow]]:
    """Batches of `size` rows; when about `left` rows remain to be read, the last `tail` of them in batches of a
    quarter of the size, so that the workers run out of work together (a batch of 512 is ~0.6 s of one core)."""
    batch: list[RawRow] = []
    small = max(1, size // 4)
    for read, row in enumerate(rows, 1):
        batch.append(row)
        if len(batch) >= (size if left is None or left - read > tail else small):
            yield batch
            batch = []
    if batch:
        yield batch


def _note_pass(options: ScanOptions, source: Source, checker: Checker, db: Database, pool: _Pool, scan_id: str,
               checkpoint: ScanCheckpoint, out: str | None) -> int:  # fmt: skip
    """The per-note pass: batches in input order, checked in a bounded pool, committed in order. Returns rows done."""
    policy = options.policy
    set_checker(checker, policy)
    outfile = OutFile(out, checkpoint.out_offset) if out else None
    sink = ResultSink(db, scan_id, outfile)
    left = source.total - (checkpoint.next_row - 1) if source.total is not None else None
    tail = 2 * pool.workers * options.batch_size if pool.workers > 1 else 0  # what is in flight at the end
    batches = _batches(source.rows(checkpoint.next_row), options.batch_size, left, tail)
    done = 0
    progress = _Progress(enabled=not options.quiet, total=source.total, completed=checkpoint.rows_read)
    try:
        executor = pool.executor
        if executor is None:
            with progress:
                for batch in batches:
                    sink.write(check_rows(batch, policy), batch[-1].row + 1)
                    done += len(batch)
                    progress.advance(len(batch))
            return done
        pending: deque[tuple[Any, int, int]] = deque()
        first = next(batches, None)
        if first is not None:  # the first submit forks the workers, before any other thread starts
            if pool.forks:  # the workers' garbage collections then skip the inherited Checker's objects
                gc.freeze()  # (less work, and fewer copy-on-write pages); the parent unfreezes them at once
            try:
                pending.append((executor.submit(pool_task, first, policy, True), first[-1].row + 1, len(first)))
            finally:
                gc.unfreeze()
        # the parent's collector, too, only ever walked live batches (and the Checker): paused for the pass,
        # with one young-generation collection per written batch (see worker.batch_without_gc)
        with progress, batch_without_gc():
            for batch in batches:
                pending.append((executor.submit(pool_task, batch, policy, True), batch[-1].row + 1, len(batch)))
                while len(pending) >= 2 * pool.workers:
                    done += _drain(pending, sink, progress)
            while pending:
                done += _drain(pending, sink, progress)
        return done
    finally:
        if outfile is not None:
            outfile.close()


def _drain(pending: deque, sink: ResultSink, progress: _Progress) -> int:  # type: ignore[type-arg]
    future, next_row, count = pending.popleft()
    sink.write(future.result(), next_row)
    progress.advance(count)
    gc.collect(0)
    return count


def _set_phase(db: Database, scan_id: str, phase: str, **values: Any) -> None:
    with db.session() as session:
        session.execute(update(ScanCheckpoint).where(ScanCheckpoint.scan_id == scan_id).values(phase=phase, **values))


def _mark(db: Database, scan_id: str, status: str) -> None:
    try:
        with db.session() as session:
            session.execute(update(Scan).where(Scan.id == scan_id).values(status=status))
    except Exception:  # noqa: BLE001,S110 - the original error matters more
        pass


def _finish(db: Database, scan_id: str, checker: Checker, out: str | None, as_of: dt.date | None,
            caseload: bool = True, *, pool: _Pool | None = None, fresh_out: bool = False) -> None:  # fmt: skip
    """The caseload phase (one transaction), the export phase (--out merge) and the scan's final counts.

    With a pool, the staff members' clone pass runs in a worker during the clients' pass, and when this run wrote
    the whole --out file (`fresh_out`) a worker merges the findings into it while this process stores them; a
    scan killed in between resumes with the database's export, which gives the same file."""
    with db.session() as session:
        phase = session.get(ScanCheckpoint, scan_id).phase  # type: ignore[union-attr]
    if phase == "caseload" and not caseload:
        phase = "export"
    offset: int | None = None
    if phase == "caseload":
        # the workers of this run's note pass, if it had them (never started for the caseload checks alone)
        executor = pool.started if pool is not None and visible_to_other_processes(db.url) else None
        rows = caseload_rows(compute_caseload(db, scan_id, checker.policy, as_of=as_of, pool=executor), scan_id)
        exported = None
        if executor is not None and out and fresh_out:
            # up to MEMORY_EXPORT findings, a worker merges them into --out from memory while they are stored
            kept = list(itertools.islice(rows, MEMORY_EXPORT + 1))
            if len(kept) <= MEMORY_EXPORT:
                exported = executor.submit(export_findings, out, _findings_by_note(kept), cloned_weight(checker.policy))
            rows = itertools.chain(kept, rows)
        store_caseload(db, scan_id, checker.policy, rows,
                       on_commit=lambda s: s.execute(update(ScanCheckpoint).where(ScanCheckpoint.scan_id == scan_id)
                                                     .values(phase="export")))  # fmt: skip
        if exported is not None:
            offset = exported.result()
        phase = "export"
    if phase == "export":
        if offset is None:
            offset = export_caseload(db, scan_id, out) if out else 0
        with db.session() as session:
            flagged = session.scalar(
                select(func.count()).where(NoteResult.scan_id == scan_id, NoteResult.decision != "allow")
            )
            processed = session.scalar(select(func.count()).where(NoteResult.scan_id == scan_id))
            errors = session.scalar(select(func.count()).where(InputErrorRow.scan_id == scan_id))
            session.execute(
                update(Scan)
                .where(Scan.id == scan_id)
                .values(status="done", finished_at=utcnow(), flagged=flagged, processed=processed, input_errors=errors)
            )
            session.execute(
                update(ScanCheckpoint).where(ScanCheckpoint.scan_id == scan_id).values(phase="done", out_offset=offset)
            )


def _findings_by_note(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Caseload `findings` rows as report lines hold them, by note id, in stored order (what `_Merger` reads)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["note_id"], []).append(
            finding_dict(
                row["kind"],
                row["category"],
                row["severity"],
                row["rule"],
                row["confidence"],
                row["message"],
                row["policy_ref"],
                row["fingerprint"],
            )  # fmt: skip
        )
    return out


def export_caseload(db: Database, scan_id: str, out: str, chunk: int = 1000) -> int:
    """Merge the scan's caseload findings into the --out file (decision and score as the database has them).

    Idempotent: caseload findings already in a line are replaced, so a rerun after a kill gives the same file.
    Written to a temporary file and renamed over the original. Returns the file's size."""
    with db.session() as session:
        count = session.scalar(
            select(func.count()).where(FindingRow.scan_id == scan_id, FindingRow.rule.in_(CASELOAD_RULES))
        )
    if not count:
        return _size(out) if os.path.exists(out) else 0
    merge = _Merger(db, scan_id)
    with db.engine.connect() as connection:
        return _rewrite(out, lambda lines: merge(connection, lines), chunk)


def export_findings(out: str, findings: dict[str, list[dict[str, Any]]], cloned_weight: int, chunk: int = 1000) -> int:
    """`export_caseload` from the caseload findings in memory (finding dicts by note id, in stored order), for an
    --out file whose lines hold no caseload findings yet (the scan's note pass ran in this run): each affected
    note's decision and score follow from its line by `_apply_decisions`' rule. Runs in a pool worker while the
    scan's process stores the same findings; gives the file `export_caseload` gives (tested). Returns its size."""
    if not findings:
        return _size(out) if os.path.exists(out) else 0

    def final(note_id: str, report: dict[str, Any]) -> tuple[str, int]:
        severities = {f["severity"] for f in findings[note_id]}
        decision, score = report["decision"], report["score"]
        if "error" in severities and decision in ("allow", "warn"):
            decision = "block"
        elif "warning" in severities and decision == "allow":
            decision = "warn"
        if cloned_weight and any(f["rule"] == CLONED_RULE for f in findings[note_id]):
            score = score - cloned_weight if score > cloned_weight else 0
        return decision, score

    return _rewrite(out, lambda lines: _merge_lines(lines, [_line_note_id(x) for x in lines], findings, final), chunk)


def _rewrite(out: str, merge, chunk: int) -> int:  # type: ignore[no-untyped-def]
    """Pass the --out file through `merge` chunk by chunk into a temporary file, fsync it and rename it over `out`."""
    temp = f"{out}.caseload.tmp"
    with open(out, "rb") as source, open(temp, "wb") as target:
        while True:
            lines = [line for line in (source.readline() for _ in range(chunk)) if line]
            if not lines:
                break
            target.write(b"".join(merge(lines)))
        target.flush()
        os.fsync(target.fileno())
    os.replace(temp, out)
    return _size(out)


def _merge_lines(lines: list[bytes], ids: list[str], extra: dict[str, list[dict[str, Any]]], final) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Lines (with their note ids) with their caseload findings replaced by `extra`'s (and decision and score by
    `final(note_id, report)`); a line with no caseload finding now or before is copied as it is."""
    merged = []
    for line, note_id in zip(lines, ids, strict=True):
        if note_id not in extra and not _CASELOAD_RULE_IN_LINE.search(line):
            merged.append(line)
            continue
        report = json.loads(line)
        findings = [f for f in report["findings"] if f["rule"] not in CASELOAD_RULES] + extra.get(note_id, [])
        findings.sort(key=lambda f: (KIND_RANK[f["kind"]], -1 if f["start"] is None else f["start"], f["rule"]))
        report["findings"] = findings
        if note_id in extra:
            report["decision"], report["score"] = final(note_id, report)
        merged.append((encode_compact(report) + "\n").encode("utf-8"))
    return merged


def finding_dict(kind: str, category: str, severity: str, rule: str, confidence: float, message: str,
                 policy_ref: str | None, fingerprint: str) -> dict[str, Any]:  # fmt: skip
    """A caseload finding as a report line holds it (note-level: no offsets)."""
    return {
        "kind": kind,
        "category": category,
        "start": None,
        "end": None,
        "severity": severity,
        "rule": rule,
        "confidence": round(float(confidence), 3),
        "message": message,
        "policy_ref": policy_ref,
        "fingerprint": fingerprint,
    }


_NOTE_ID_PREFIX = b'{"note_id":'
_CASELOAD_RULE_IN_LINE = re.compile(
    b'"rule":"(?:' + b"|".join(re.escape(rule.encode()) for rule in CASELOAD_RULES) + b')"'
)
_DECODER = json.JSONDecoder()


def _line_note_id(line: bytes) -> str:
    """The note id of a report line without parsing the whole report (it is the first key, see Report.to_dict)."""
    if line.startswith(_NOTE_ID_PREFIX):
        try:
            value, _ = _DECODER.raw_decode(line.decode("utf-8"), len(_NOTE_ID_PREFIX))
            if isinstance(value, str):
                return value
        except ValueError:
            pass
    return json.loads(line)["note_id"]


class _Merger:
    """Merges a chunk of --out lines with the scan's caseload findings: lines with caseload findings (in the
    database, or already in the line from an earlier merge) are parsed and rewritten; every other line is copied as
    it is. One plain SELECT per chunk (with the chunk's note ids) on the export's connection."""

    COLUMNS = ("f.note_id, f.kind, f.category, f.severity, f.rule, f.confidence, f.message, f.policy_ref, "
               "f.fingerprint, n.decision, n.score")  # fmt: skip

    def __init__(self, db: Database, scan_id: str):
        self.scan_id = scan_id
        dialect = db.engine.dialect
        self.mark = placeholder(dialect)
        self.quote = dialect.identifier_preparer.quote

    def rows(self, connection, ids: list[str]) -> list[Any]:  # type: ignore[no-untyped-def]
        """The caseload findings of these notes with the notes' decision and score, found through the notes (the
        unique scan and note id index, then findings by note key): a chunk costs what its notes have, where a
        search by the findings' scan id would read all of the scan's findings for every chunk."""
        if self.mark is None:  # a driver without a positional style: SQLAlchemy Core
            f = FindingRow.__table__.c
            return connection.execute(
                select(f.note_id, f.kind, f.category, f.severity, f.rule, f.confidence, f.message, f.policy_ref,
                       f.fingerprint, NoteResult.decision, NoteResult.score)
                .select_from(NoteResult).join(FindingRow, FindingRow.note_pk == NoteResult.id)
                .where(NoteResult.scan_id == self.scan_id, NoteResult.note_id.in_(ids), f.rule.in_(CASELOAD_RULES))
                .order_by(f.id)
            ).all()  # fmt: skip
        m = self.mark
        sql = (
            f"SELECT {self.COLUMNS} FROM notes n JOIN findings f ON f.note_pk = n.id "
            f"WHERE n.scan_id = {m} AND n.note_id IN ({', '.join([m] * len(ids))}) "
            f"AND f.{self.quote('rule')} IN ({', '.join([m] * len(CASELOAD_RULES))}) ORDER BY f.id"
        )
        return connection.exec_driver_sql(sql, (self.scan_id, *ids, *CASELOAD_RULES)).all()

    def __call__(self, connection, lines: list[bytes]) -> list[bytes]:  # type: ignore[no-untyped-def]
        ids = [_line_note_id(line) for line in lines]
        extra: dict[str, list[dict[str, Any]]] = {}
        final: dict[str, tuple[str, int]] = {}
        for note_id, kind, category, severity, rule, confidence, message, policy_ref, fp, decision, score in self.rows(
            connection, ids
        ):
            extra.setdefault(note_id, []).append(
                finding_dict(kind, category, severity, rule, confidence, message, policy_ref, fp)
            )
            final[note_id] = (decision, score)
        return _merge_lines(lines, ids, extra, lambda note_id, _report: final[note_id])


def _summary(db: Database, scan_id: str, started: float, pass_seconds: float, checked: int, *, resumed: bool,
             out: str | None) -> ScanSummary:  # fmt: skip
    with db.session() as session:
        decisions = dict(
            session.execute(
                select(NoteResult.decision, func.count())
                .where(NoteResult.scan_id == scan_id)
                .group_by(NoteResult.decision)
            ).all()
        )
        errors = session.scalar(select(func.count()).where(InputErrorRow.scan_id == scan_id)) or 0
        caseload = session.scalar(
            select(func.count()).where(FindingRow.scan_id == scan_id, FindingRow.rule.in_(CASELOAD_RULES))
        )
        status = session.scalar(select(Scan.status).where(Scan.id == scan_id)) or "done"
    processed = sum(decisions.values())
    return ScanSummary(
        scan_id=scan_id,
        processed=processed,
        flagged=processed - decisions.get("allow", 0),
        input_errors=errors,
        seconds=round(time.monotonic() - started, 3),
        decisions={k: decisions.get(k, 0) for k in ("block", "warn", "allow")},
        caseload_findings=caseload or 0,
        checked_this_run=checked,
        notes_per_second=round(checked / pass_seconds, 1) if pass_seconds > 0 else 0.0,
        resumed=resumed,
        status=status,
        out=out,
    )


def _notice(message: str) -> None:
    print(f"notecheck: {message}", file=sys.stderr)


class _Progress:
    """A Rich progress bar (rows, rate, ETA) on stderr; silent unless enabled and stderr is a terminal."""

    def __init__(self, *, enabled: bool, total: int | None, completed: int):
        self.progress = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            class Rate(TextColumn):
                def render(self, task):  # type: ignore[no-untyped-def]
                    speed = task.finished_speed or task.speed
                    self.text_format = f"{speed:,.0f} notes/s" if speed else "… notes/s"
                    return super().render(task)

            self.progress = Progress(
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                Rate(""),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
                speed_estimate_period=30,
            )
            self.task = self.progress.add_task("scan", total=total, completed=completed)

    def __enter__(self) -> _Progress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, count: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, count)


__all__ = ["ScanOptions", "ScanSummary", "export_caseload", "run_scan", "safe_url", "scan_notes", "database_url"]
