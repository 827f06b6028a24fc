"""Caseload checks across a scan's notes, run after the per-note pass from what the database holds (no note text).

Per client (`client_id`), with a note's day being its `contact_date`, else the date of `entered_at`:

- contact gaps (`timeliness`/`contact_gap`, policy `caseload.contact_gap`): a note counts as a contact when its
  contact_method element is present; when `letter_counts_as_contact` is false, a note whose only methods are a
  letter or mail does not count. Between consecutive contacts (up to the client's exit, when known) the gap may not
  exceed the interval: `days`, or `program_days[keyword]` when the keyword appears in the later note's program
  (e.g. `veteran: 30`). The finding goes on the contact that ends the gap. A gap still open at the client's exit, or
  at the end of the scanned data (the latest day in the scan, or `as_of`), goes on the last contact.
- youth follow-up (`timeliness`/`missed_follow_up`, policy `caseload.missed_follow_up`): a client exits on the
  latest `exit_date` given on any of their notes (an extra input column; map another name with
  `--map exit_date=COLUMN`). For clients whose program contains one of `programs` (e.g. "youth"), month m of
  `months_after_exit` needs a contact between exit + (m-1) months (exclusive) and exit + m months + `grace_days`.
  Months whose window ends after the end of the data are not yet due. The finding goes on the client's exit note
  (their last note on or before the exit date).
- cloned notes (`quality`/`cloned`, policy `caseload.cloned`): near-duplicates among a client's notes and among a
  staff member's notes, by MinHash LSH over word 3-shingles (signatures computed during the scan; estimated Jaccard
  similarity at least `similarity`). The later note (by day, then input row) is the copy and gets the finding,
  naming the note it copies. Notes under 8 shingles are too short to call copies.

Late entries are per-note findings already (`timeliness`/`late_entry`, from the checker).

The findings are written to `findings` like the checker's (note-level: no offsets), with fingerprints made from
stable facts (the other note's id, the exit date and month), and the affected notes' decision (and, for `cloned`,
score, by the policy's `quality.cloned.weight`) is updated by the contract's rule. All of it is one transaction.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime as dt
import functools
import glob
import hashlib
import itertools
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import and_, case, delete, func, insert, select, update

from notecheck.fingerprint import fingerprint
from notecheck.policy import Policy
from notecheck.scan.models import ScanNote
from notecheck.scan.rows import NUM_PERM, signature_values
from notecheck.store import Database, FindingRow, NoteResult
from notecheck.store.models import utcnow

CONTACT_GAP_RULE = "timeliness.contact_gap.interval"
FOLLOW_UP_RULE = "timeliness.missed_follow_up.schedule"
CLONED_RULE = "quality.cloned.minhash"
CASELOAD_RULES = (CONTACT_GAP_RULE, FOLLOW_UP_RULE, CLONED_RULE)
FLUSH_EVERY = 1000
LSH_WEIGHTS = (0.05, 0.95)  # (false positive, false negative): with 64 permutations and 0.85, 8 bands of 8 rows


@dataclass
class CaseNote:
    pk: int
    note_id: str
    client_id: str | None
    staff: str | None
    office: str | None
    program: str | None
    day: dt.date | None
    contact: str
    exit_date: dt.date | None
    row: int
    minhash: bytes | None = None


@dataclass
class NewFinding:
    note: CaseNote
    kind: str
    category: str
    rule: str
    severity: str
    message: str
    ref: str
    material: str


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day(contact_date: dt.datetime | dt.date | None, entered_at: dt.datetime | None) -> dt.date | None:
    value = contact_date or entered_at
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _order(note: CaseNote) -> tuple[dt.date, int]:
    return (note.day or dt.date.min, note.row)


class CaseloadChecker:
    def __init__(self, policy: Policy, as_of: dt.date | None):
        self.policy, self.as_of = policy, as_of
        caseload = policy.caseload
        self.gap = caseload.contact_gap if caseload.contact_gap and caseload.contact_gap.severity != "off" else None
        follow = caseload.missed_follow_up
        self.follow = follow if follow and follow.severity != "off" else None
        self.cloned = caseload.cloned if caseload.cloned and caseload.cloned.severity != "off" else None
        self.letters_count = caseload.contact_gap.letter_counts_as_contact if caseload.contact_gap else True
        self._lsh_params: tuple[int, int] | None = None

    # -- contacts ---------------------------------------------------------------------------------------------
    def is_contact(self, note: CaseNote) -> bool:
        return note.day is not None and (note.contact == "other" or (note.contact == "letter" and self.letters_count))

    def interval(self, program: str | None) -> int:
        assert self.gap is not None
        lowered = (program or "").lower()
        matches = [days for keyword, days in self.gap.program_days.items() if keyword.lower() in lowered]
        return min(matches) if matches else self.gap.days

    def client(self, notes: list[CaseNote]) -> Iterator[NewFinding]:
        """Contact gaps and missed follow-ups of one client's notes."""
        notes = sorted(notes, key=_order)
        exits = [n.exit_date for n in notes if n.exit_date]
        exit_date = max(exits) if exits else None
        contacts = [n for n in notes if self.is_contact(n)]
        if self.gap is not None:
            yield from self._gaps([c for c in contacts if exit_date is None or c.day <= exit_date], exit_date)  # type: ignore[operator]
        if self.follow is not None and exit_date is not None:
            programs = " ".join((n.program or "").lower() for n in notes)
            if any(keyword.lower() in programs for keyword in self.follow.programs):
                yield from self._follow_ups(notes, contacts, exit_date)

    def _gaps(self, contacts: list[CaseNote], exit_date: dt.date | None) -> Iterator[NewFinding]:
        assert self.gap is not None
        for before, after in itertools.pairwise(contacts):
            gap, limit = (after.day - before.day).days, self.interval(after.program)  # type: ignore[operator]
            if gap > limit:
                yield NewFinding(
                    after, "timeliness", "contact_gap", CONTACT_GAP_RULE, self.gap.severity,
                    f"{gap} days without a contact before this one (previous: note {before.note_id} on "
                    f"{before.day}); the policy allows {limit}.",
                    self.gap.ref, f"after:{before.note_id}",
                )  # fmt: skip
        if not contacts:
            return
        last = contacts[-1]
        end = min(d for d in (exit_date, self.as_of) if d is not None) if (exit_date or self.as_of) else None
        limit = self.interval(last.program)
        if end is not None and (end - last.day).days > limit:  # type: ignore[operator]
            until = f"the exit on {exit_date}" if end == exit_date else f"the end of the scanned data ({end})"
            yield NewFinding(
                last, "timeliness", "contact_gap", CONTACT_GAP_RULE, self.gap.severity,
                f"No contact in the {(end - last.day).days} days from this one to {until}; "  # type: ignore[operator]
                f"the policy allows {limit}.",
                self.gap.ref, "open-gap",
            )  # fmt: skip

    def _follow_ups(self, notes: list[CaseNote], contacts: list[CaseNote], exit_date: dt.date) -> Iterator[NewFinding]:
        assert self.follow is not None
        before_exit = [n for n in notes if n.day is not None and n.day <= exit_date]
        anchor = before_exit[-1] if before_exit else notes[0]
        for month in self.follow.months_after_exit:
            start = add_months(exit_date, month - 1)
            end = add_months(exit_date, month) + dt.timedelta(days=self.follow.grace_days)
            if self.as_of is None or end > self.as_of:
                continue  # not yet due
            if any(start < c.day <= end for c in contacts):  # type: ignore[operator]
                continue
            yield NewFinding(
                anchor, "timeliness", "missed_follow_up", FOLLOW_UP_RULE, self.follow.severity,
                f"No follow-up contact in month {month} after the exit on {exit_date} "
                f"(from {start + dt.timedelta(days=1)} to {end}).",
                self.follow.ref, f"exit:{exit_date}:month:{month}",
            )  # fmt: skip

    # -- cloned notes -----------------------------------------------------------------------------------------
    def clones(self, notes: list[CaseNote], group: str, already: set[int]) -> Iterator[NewFinding]:
        """Later near-copies of earlier notes within one client's or one staff member's notes."""
        assert self.cloned is not None
        candidates = [n for n in notes if n.minhash]
        if len(candidates) < 2:
            return
        if self._lsh_params is None:
            # favour recall (few missed pairs): every candidate is checked against the similarity threshold anyway
            self._lsh_params = lsh_params(self.cloned.similarity, NUM_PERM, LSH_WEIGHTS)
        lsh = BandIndex(*self._lsh_params)
        seen: dict[int, tuple[Any, CaseNote]] = {}
        for note in sorted(candidates, key=_order):
            data: bytes = note.minhash  # type: ignore[assignment]
            values, bands = signature_values(data), lsh.bands(data)
            if note.pk not in already:
                best: tuple[float, CaseNote] | None = None
                for other in lsh.query(bands):
                    other_values, other_note = seen[other]
                    similarity = float(np.count_nonzero(values == other_values)) / NUM_PERM  # = MinHash.jaccard()
                    if similarity >= self.cloned.similarity and (best is None or similarity > best[0]):
                        best = (similarity, other_note)
                if best is not None:
                    already.add(note.pk)
                    similarity, original = best
                    yield NewFinding(
                        note, "quality", "cloned", CLONED_RULE, self.cloned.severity,
                        f"Near-copy (about {round(similarity * 100)}% similar) of note {original.note_id} "
                        f"of the same {group}.",
                        self.cloned.ref, f"copy-of:{original.note_id}",
                    )  # fmt: skip
            lsh.insert(note.pk, bands)
            seen[note.pk] = (values, note)


class BandIndex:
    """MinHash LSH over stored signatures (bytes of NUM_PERM little-endian uint32): `bands` bands of `rows` values;
    two signatures are candidates when all values of at least one band agree. What datasketch's `MinHashLSH` does
    with in-memory storage (a set of keys per band bucket, candidates added to one set key by key, so the same
    candidates in the same order), without a MinHash object per note: band keys are slices of the stored bytes."""

    def __init__(self, bands: int, rows: int):
        width = 4 * rows
        self.ranges = [(i * width, (i + 1) * width) for i in range(bands)]
        self.tables: list[dict[bytes, set[int]]] = [{} for _ in range(bands)]

    def bands(self, data: bytes) -> list[bytes]:
        return [data[start:end] for start, end in self.ranges]

    def insert(self, key: int, bands: list[bytes]) -> None:
        for band, table in zip(bands, self.tables, strict=True):
            table.setdefault(band, set()).add(key)

    def query(self, bands: list[bytes]) -> list[int]:
        candidates: set[int] = set()
        for band, table in zip(bands, self.tables, strict=True):
            for key in table.get(band, ()):
                candidates.add(key)  # one by one, as datasketch does: set.update(a set) can give another order
        return list(candidates)


@functools.cache
def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float]) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive and false negative probabilities at `threshold`:
    datasketch's `_optimal_param`, with Gauss-Legendre quadrature (exact for these polynomials of degree b*r <=
    num_perm) instead of SciPy's `quad`, so that the clone pass needs neither datasketch nor SciPy."""
    nodes, node_weights = np.polynomial.legendre.leggauss(num_perm // 2 + 2)

    def integral(function, low: float, high: float) -> float:  # type: ignore[no-untyped-def]
        x = (high - low) / 2 * nodes + (high + low) / 2
        return float((high - low) / 2 * np.dot(node_weights, function(x)))

    false_positive_weight, false_negative_weight = weights
    best, params = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            false_positive = integral(lambda s: 1 - (1 - s**r) ** b, 0.0, threshold)  # noqa: B023
            false_negative = integral(lambda s: (1 - s**r) ** b, threshold, 1.0)  # noqa: B023
            error = false_positive * false_positive_weight + false_negative * false_negative_weight
            if error < best:
                best, params = error, (b, r)
    return params


def _stream(db: Database, scan_id: str, order, with_minhash: bool, only_signed: bool = False) -> Iterator[CaseNote]:  # type: ignore[no-untyped-def]
    columns = [
        NoteResult.id,
        NoteResult.note_id,
        NoteResult.client_id,
        NoteResult.staff,
        NoteResult.office,
        NoteResult.program,
        NoteResult.contact_date,
        NoteResult.entered_at,
        ScanNote.contact,
        ScanNote.exit_date,
        ScanNote.row_number,
    ]
    if with_minhash:
        columns.append(ScanNote.minhash)
    stmt = (
        select(*columns)
        .join(ScanNote, and_(ScanNote.scan_id == NoteResult.scan_id, ScanNote.note_id == NoteResult.note_id))
        .where(
            NoteResult.scan_id == scan_id, order.is_not(None), *([ScanNote.minhash.is_not(None)] if only_signed else [])
        )
        .order_by(order, ScanNote.row_number)
    )
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(stmt)
        for row in result:
            yield CaseNote(
                pk=row[0], note_id=row[1], client_id=row[2], staff=row[3], office=row[4], program=row[5],
                day=_day(row[6], row[7]), contact=row[8], exit_date=row[9], row=row[10],
                minhash=row[11] if with_minhash else None,
            )  # fmt: skip


def data_end(db: Database, scan_id: str) -> dt.date | None:
    """The latest day in the scan's notes: the default end for open gaps and due follow-ups."""
    with db.session() as session:
        last_contact, last_entry = session.execute(
            select(func.max(NoteResult.contact_date), func.max(NoteResult.entered_at)).where(
                NoteResult.scan_id == scan_id
            )
        ).one()
    days = [_day(d, None) for d in (last_contact, last_entry) if d is not None]
    return max(days) if days else None  # type: ignore[type-var]


def compute_caseload(db: Database, scan_id: str, policy: Policy, *, as_of: dt.date | None = None,
                     pool=None) -> Iterator[NewFinding]:  # type: ignore[no-untyped-def]  # fmt: skip
    """The scan's caseload findings in the order they are stored: per client (contact gaps, follow-ups, then the
    client's clones), then the staff members' clones of notes not already a client's clone. Streamed: memory holds
    one client's or one staff member's notes, and the pks of the notes found as clones.

    With `pool` (a process pool whose workers can open the database), the staff pass runs in a worker while this
    process does the client pass (`staff_pass`); the result is the same. A note is in one staff group only, so the
    staff pass decides each note alone: its findings, minus the notes the client pass found, are the sequential
    pass's."""
    checker = CaseloadChecker(policy, as_of or data_end(db, scan_id))
    if not (checker.gap or checker.follow or checker.cloned):
        return
    _remove_spools(scan_id)  # left by a run of this scan killed in this phase (its worker died with it)
    staff = pool.submit(staff_pass, db.url, scan_id, policy, checker.as_of) if pool and checker.cloned else None
    try:
        cloned: set[int] = set()
        for _, group in itertools.groupby(_stream(db, scan_id, NoteResult.client_id, bool(checker.cloned)),
                                          key=lambda n: n.client_id):  # fmt: skip
            notes = list(group)
            yield from checker.client(notes)
            if checker.cloned:
                yield from checker.clones(notes, "client", cloned)
        if checker.cloned:
            by_staff = _read_spool(staff.result()) if staff is not None else _staff_clones(checker, db, scan_id)
            yield from (new for new in by_staff if new.note.pk not in cloned)
    finally:
        if staff is not None:
            with contextlib.suppress(Exception):  # its error, if any, was raised above; a missing file is fine
                os.unlink(staff.result())


def _staff_clones(checker: CaseloadChecker, db: Database, scan_id: str) -> Iterator[NewFinding]:
    already: set[int] = set()
    for _, group in itertools.groupby(
        _stream(db, scan_id, NoteResult.staff, True, only_signed=True), key=lambda n: n.staff
    ):
        yield from checker.clones(list(group), "staff member", already)


SPOOL_CHUNK = 1000


def staff_pass(url: str, scan_id: str, policy: Policy, as_of: dt.date | None) -> str:
    """In a pool worker, with its own connection (never the parent's): the staff members' clones of every note,
    spooled to a temporary file in pickled chunks (returned: its path), so that neither process holds them all."""
    db = Database(url, upgrade=False)
    try:
        prefix = f"{_spool_prefix(scan_id)}{os.getpid()}-"
        with tempfile.NamedTemporaryFile("wb", prefix=prefix, suffix=".pickle", delete=False) as spool:
            chunk: list[NewFinding] = []
            for new in _staff_clones(CaseloadChecker(policy, as_of), db, scan_id):
                new.note = dataclasses.replace(new.note, minhash=None)
                chunk.append(new)
                if len(chunk) >= SPOOL_CHUNK:
                    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
                    chunk = []
            pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
            return spool.name
    finally:
        db.dispose()


def _spool_prefix(scan_id: str) -> str:
    return f"notecheck-staff-{hashlib.sha256(scan_id.encode()).hexdigest()[:16]}-"


def _remove_spools(scan_id: str) -> None:
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{_spool_prefix(scan_id)}*.pickle")):
        with contextlib.suppress(OSError):
            os.unlink(path)


def _read_spool(path: str) -> Iterator[NewFinding]:
    with open(path, "rb") as spool:
        while True:
            try:
                yield from pickle.load(spool)  # noqa: S301 - this scan's own worker wrote it a moment ago
            except EOFError:
                return


def store_caseload(db: Database, scan_id: str, policy: Policy, rows: Iterable[dict[str, Any]], *,
                   on_commit=None) -> int:  # type: ignore[no-untyped-def]  # fmt: skip
    """Store a scan's caseload findings (`caseload_rows`) and their notes' decisions in one transaction, replacing
    any from an earlier run, FLUSH_EVERY rows at a time; returns how many were added.

    `on_commit(session)` runs inside the same transaction (the scan moves its checkpoint there)."""
    added = 0
    with db.session() as session:
        session.execute(delete(FindingRow).where(FindingRow.scan_id == scan_id, FindingRow.rule.in_(CASELOAD_RULES)))
        connection = session.connection()
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, FLUSH_EVERY)):
            connection.execute(insert(FindingRow.__table__), chunk)
            added += len(chunk)
        _apply_decisions(session, scan_id, policy)
        if on_commit is not None:
            on_commit(session)
    return added


def caseload_rows(findings: Iterable[NewFinding], scan_id: str) -> Iterator[dict[str, Any]]:
    """The `findings` rows of caseload findings, in order."""
    now = utcnow()
    return (finding_row(new, scan_id, now) for new in findings)


def finding_row(new: NewFinding, scan_id: str, now: dt.datetime) -> dict[str, Any]:
    """The `findings` row of a caseload finding (note-level: no offsets)."""
    return {
        "note_pk": new.note.pk, "scan_id": scan_id, "note_id": new.note.note_id, "office": new.note.office,
        "staff": new.note.staff, "kind": new.kind, "category": new.category, "rule": new.rule,
        "severity": new.severity, "start": None, "end": None, "confidence": 1.0, "message": new.message[:1000],
        "policy_ref": new.ref, "fingerprint": fingerprint(new.kind, new.category, new.rule, new.material),
        "created_at": now,
    }  # fmt: skip


def _apply_decisions(session, scan_id: str, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    """CONTRACT §2 on the notes that got caseload findings: block on an error, warn on a warning; cloned costs score."""
    for severity, decisions, new in (("error", ("allow", "warn"), "block"), ("warning", ("allow",), "warn")):
        affected = select(FindingRow.note_pk).where(
            FindingRow.scan_id == scan_id, FindingRow.rule.in_(CASELOAD_RULES), FindingRow.severity == severity
        )
        session.execute(
            update(NoteResult)
            .where(NoteResult.scan_id == scan_id, NoteResult.decision.in_(decisions), NoteResult.id.in_(affected))
            .values(decision=new)
            .execution_options(synchronize_session=False)
        )
    weight = cloned_weight(policy)
    if weight:
        cloned = select(FindingRow.note_pk).where(FindingRow.scan_id == scan_id, FindingRow.rule == CLONED_RULE)
        session.execute(
            update(NoteResult)
            .where(NoteResult.scan_id == scan_id, NoteResult.id.in_(cloned))
            .values(score=case((NoteResult.score > weight, NoteResult.score - weight), else_=0))
            .execution_options(synchronize_session=False)
        )


def cloned_weight(policy: Policy) -> int:
    """The score a cloned note loses (the policy's `quality.cloned.weight`; 0 when that check is off)."""
    quality = policy.quality.get("cloned")
    return quality.weight if quality is not None and quality.severity != "off" and quality.weight else 0
