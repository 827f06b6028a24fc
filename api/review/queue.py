"""The triage queue: the latest result of every flagged note, its findings and their verdict status.

A note is in the queue when its most recent result (across scans and gate blocks, by `checked_at`, then row id)
was flagged (`decision != "allow"`). A finding's status is its verdict, looked up by (note_id, fingerprint), so
verdicts survive rescans; "open" when there is none. Filters narrow findings; a note matches when any of its
findings does; facet counts apply every filter except their own.

The queue is answered from an in-process index (numpy columns, one row per finding of a queued note) rather than
by grouping in SQL on every page: with 50,000 findings the SQL facets alone took ~100 ms on SQLite, the index
answers a page in a few milliseconds. It is checked against the database on every request (two aggregate
queries: the notes' and the verdicts' count, last id and last timestamp) and rebuilt when either changed, so a
page never shows a stale queue. Rows updated in place (rather than added or removed) are not noticed; the store
never does that to notes or findings, and verdict updates move `decided_at`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from api.review.filters import STATUSES, Filters, risk_of
from api.review.scope import Viewer
from notecheck.report import KIND_RANK
from notecheck.store.models import FindingRow, NoteResult, Verdict

N = NoteResult.__table__
F = FindingRow.__table__
V = Verdict.__table__
CODED = ("office", "staff", "kind", "category", "severity", "rule")
EPOCH = dt.date(1970, 1, 1)
NO_DATE = np.iinfo(np.int32).min


class _Codes:
    """Labels ↔ small integer codes for one column."""

    def __init__(self) -> None:
        self.labels: list[Any] = []
        self.index: dict[Any, int] = {}

    def code(self, label: Any) -> int:
        found = self.index.get(label)
        if found is None:
            found = self.index[label] = len(self.labels)
            self.labels.append(label)
        return found


@dataclass
class _Index:
    """Immutable once built; a verdict change swaps in a copy with a new `status` column."""

    version: tuple[Any, ...]
    codes: dict[str, _Codes]
    # per finding
    fid: np.ndarray
    note: np.ndarray
    columns: dict[str, np.ndarray]  # coded columns, office and staff copied from the note
    risk: np.ndarray
    day: np.ndarray
    keys: dict[tuple[str, str], list[int]]
    # per note
    note_pk: np.ndarray
    note_rank: np.ndarray  # 0 = most recently checked
    note_rows: list[tuple[Any, ...]]  # (pk, note_id, office, staff, contact_date, checked_at, decision)
    pk_to_note: dict[int, int]
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    verdict_version: tuple[Any, ...] = ()


@dataclass
class QueueNote:
    pk: int
    note_id: str
    office: str | None
    staff: str | None
    contact_date: dt.datetime | None
    checked_at: dt.datetime
    decision: str
    risk: int
    matching: int
    counts: dict[str, int]  # findings per status, over all the note's findings
    kinds: dict[str, int]  # findings per kind, over all the note's findings

    @property
    def risk_kind(self) -> str:
        return {v: k for k, v in KIND_RANK.items()}.get(self.risk // 10, "other")

    @property
    def risk_severity(self) -> str:
        return ("error", "warning", "info", "other")[min(self.risk % 10, 3)]


@dataclass
class QueuePage:
    notes: list[QueueNote]
    total_notes: int
    total_findings: int


def _latest_flagged_select():  # type: ignore[no-untyped-def]
    newer = N.alias("newer")
    superseded = exists().where(
        newer.c.note_id == N.c.note_id,
        or_(newer.c.checked_at > N.c.checked_at, and_(newer.c.checked_at == N.c.checked_at, newer.c.id > N.c.id)),
    )
    latest = (
        select(N.c.id, N.c.note_id, N.c.office, N.c.staff, N.c.contact_date, N.c.checked_at, N.c.decision)
        .where(N.c.decision != "allow", ~superseded)
        .cte("latest")
        .prefix_with("MATERIALIZED")
    )
    return select(
        latest.c.id, latest.c.note_id, latest.c.office, latest.c.staff, latest.c.contact_date, latest.c.checked_at,
        latest.c.decision, F.c.id, F.c.kind, F.c.category, F.c.severity, F.c.rule, F.c.fingerprint,
    ).select_from(latest.join(F, F.c.note_pk == latest.c.id))  # fmt: skip


class Queue:
    """The queue over one database. Thread-safe; share one per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: _Index | None = None

    # -- keeping the index current -------------------------------------------------------------------------------
    def current(self, session: Session) -> _Index:
        notes_version = tuple(session.execute(select(func.count(), func.max(N.c.id), func.max(N.c.checked_at))).one())
        verdict_version = tuple(session.execute(select(func.count(), func.max(V.c.id), func.max(V.c.decided_at))).one())
        with self._lock:
            index = self._index
            if index is None or index.version != notes_version:
                index = self._build(session, notes_version)
            if index.verdict_version != verdict_version:
                index = self._with_status(session, index, verdict_version)
            self._index = index
            return index

    def invalidate(self) -> None:
        with self._lock:
            self._index = None

    @staticmethod
    def _build(session: Session, version: tuple[Any, ...]) -> _Index:
        codes = {name: _Codes() for name in CODED}
        notes: dict[int, int] = {}
        note_rows: list[tuple[Any, ...]] = []
        fid: list[int] = []
        note: list[int] = []
        cols: dict[str, list[int]] = {name: [] for name in CODED}
        risk: list[int] = []
        day: list[int] = []
        keys: dict[tuple[str, str], list[int]] = {}
        for row in session.execute(_latest_flagged_select()):
            pk, note_id, office, staff, contact_date, checked_at, decision, f_id, kind, category, severity, rule, fp = (
                row
            )
            ordinal = notes.get(pk)
            if ordinal is None:
                ordinal = notes[pk] = len(note_rows)
                note_rows.append((pk, note_id, office, staff, contact_date, checked_at, decision))
            keys.setdefault((note_id, fp), []).append(len(fid))
            fid.append(f_id)
            note.append(ordinal)
            for name, value in zip(CODED, (office, staff, kind, category, severity, rule), strict=True):
                cols[name].append(codes[name].code(value))
            risk.append(risk_of(kind, severity))
            day.append((contact_date.date() - EPOCH).days if contact_date is not None else NO_DATE)
        order = sorted(range(len(note_rows)), key=lambda i: (note_rows[i][5], note_rows[i][0]), reverse=True)
        rank = np.empty(len(note_rows), dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(note_rows), dtype=np.int64)
        return _Index(
            version=version,
            codes=codes,
            fid=np.asarray(fid, dtype=np.int64),
            note=np.asarray(note, dtype=np.int64),
            columns={name: np.asarray(values, dtype=np.int32) for name, values in cols.items()},
            risk=np.asarray(risk, dtype=np.int64),
            day=np.asarray(day, dtype=np.int32),
            keys=keys,
            note_pk=np.asarray([r[0] for r in note_rows], dtype=np.int64),
            note_rank=rank,
            note_rows=note_rows,
            pk_to_note=notes,
            status=np.zeros(len(fid), dtype=np.int8),
        )

    @staticmethod
    def _with_status(session: Session, index: _Index, verdict_version: tuple[Any, ...]) -> _Index:
        status = np.zeros(len(index.fid), dtype=np.int8)
        code = {name: i for i, name in enumerate(STATUSES)}
        for note_id, fp, verdict in session.execute(select(V.c.note_id, V.c.fingerprint, V.c.verdict)):
            rows = index.keys.get((note_id, fp))
            if rows:
                status[rows] = code.get(verdict, 0)
        return _Index(**{**index.__dict__, "status": status, "verdict_version": verdict_version})

    # -- masks ------------------------------------------------------------------------------------------------------
    @staticmethod
    def _mask(index: _Index, filters: Filters, viewer: Viewer, *, skip: str | None = None) -> np.ndarray:
        mask = np.ones(len(index.fid), dtype=bool)
        if not viewer.all_offices:
            allowed = [index.codes["office"].index[o] for o in viewer.offices if o in index.codes["office"].index]
            mask &= np.isin(index.columns["office"], np.asarray(allowed, dtype=np.int32))
        for name in CODED:
            value = getattr(filters, name)
            if value is None or name == skip:
                continue
            code = index.codes[name].index.get(value)
            if code is None:
                return np.zeros(len(index.fid), dtype=bool)
            mask &= index.columns[name] == code
        if filters.status is not None and skip != "status":
            mask &= index.status == STATUSES.index(filters.status)
        if filters.date_from is not None:
            mask &= index.day >= (filters.date_from - EPOCH).days
        if filters.date_to is not None:
            mask &= (index.day <= (filters.date_to - EPOCH).days) & (index.day != NO_DATE)
        if filters.note_id is not None:
            wanted = [i for i, r in enumerate(index.note_rows) if r[1] == filters.note_id]
            mask &= np.isin(index.note, np.asarray(wanted, dtype=np.int64))
        return mask

    # -- answers ------------------------------------------------------------------------------------------------------
    def facets(
        self, session: Session, filters: Filters, viewer: Viewer, *, per: str = "note"
    ) -> dict[str, dict[str, int]]:
        """For each facet, {value: notes (or findings) matching every other filter}, largest first."""
        index = self.current(session)
        out: dict[str, dict[str, int]] = {}
        for name in ("office", "kind", "category", "severity", "staff", "status"):
            mask = self._mask(index, filters, viewer, skip=name)
            if name == "status":
                values, labels = index.status[mask], list(STATUSES)
            else:
                values, labels = index.columns[name][mask], index.codes[name].labels
            if per == "note":
                pairs = np.unique(values.astype(np.int64) * (len(index.note_rows) + 1) + index.note[mask])
                values = pairs // (len(index.note_rows) + 1)
            counts = np.bincount(values, minlength=len(labels)) if len(values) else np.zeros(len(labels), np.int64)
            found = {("" if labels[i] is None else str(labels[i])): int(n) for i, n in enumerate(counts) if n}
            out[name] = dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _ordered_notes(self, index: _Index, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matching note ordinals in queue order, with each note's risk and matching-finding count."""
        count = np.bincount(index.note[mask], minlength=len(index.note_rows))
        best = np.full(len(index.note_rows), 1 << 30, dtype=np.int64)
        np.minimum.at(best, index.note[mask], index.risk[mask])
        matched = np.nonzero(count)[0]
        order = matched[np.lexsort((index.note_rank[matched], best[matched]))]
        return order, best, count

    def page(
        self, session: Session, filters: Filters, viewer: Viewer, *, page: int = 1, per_page: int = 50
    ) -> QueuePage:
        index = self.current(session)
        mask = self._mask(index, filters, viewer)
        order, best, count = self._ordered_notes(index, mask)
        start = (max(page, 1) - 1) * per_page
        chosen = order[start : start + per_page]
        notes = []
        for ordinal in chosen.tolist():
            pk, note_id, office, staff, contact_date, checked_at, decision = index.note_rows[ordinal]
            rows = np.nonzero(index.note == ordinal)[0] if len(chosen) else []
            statuses = np.bincount(index.status[rows], minlength=len(STATUSES))
            kinds: dict[str, int] = {}
            for code in index.columns["kind"][rows].tolist():
                label = index.codes["kind"].labels[code]
                kinds[label] = kinds.get(label, 0) + 1
            notes.append(
                QueueNote(
                    pk, note_id, office, staff, contact_date, checked_at, decision, int(best[ordinal]),
                    int(count[ordinal]), {s: int(statuses[i]) for i, s in enumerate(STATUSES)}, kinds,
                )
            )  # fmt: skip
        return QueuePage(notes, len(order), int(mask.sum()))

    def neighbour(
        self, session: Session, filters: Filters, viewer: Viewer, note_pk: int, risk: int | None, *, forward: bool
    ) -> int | None:
        """The pk of the note after (or before) this one in the queue; None at the end.

        Keyed by the note's position (risk as the note view saw it, and its recency), so a note that has left the
        queue because every finding was decided still has a place to continue from."""
        index = self.current(session)
        ordinal = index.pk_to_note.get(note_pk)
        mask = self._mask(index, filters, viewer)
        order, best, _ = self._ordered_notes(index, mask)
        if ordinal is None:
            return int(index.note_pk[order[0]]) if forward and len(order) else None
        here_risk = risk if risk is not None else int(best[ordinal]) if best[ordinal] < (1 << 30) else None
        if here_risk is None:
            return int(index.note_pk[order[0]]) if forward and len(order) else None
        key = here_risk * (len(index.note_rows) + 1) + index.note_rank[ordinal]
        keys = best[order] * (len(index.note_rows) + 1) + index.note_rank[order]
        if forward:
            after = np.nonzero(keys > key)[0]
            return int(index.note_pk[order[after[0]]]) if len(after) else None
        before = np.nonzero(keys < key)[0]
        return int(index.note_pk[order[before[-1]]]) if len(before) else None

    def note_risk(self, session: Session, filters: Filters, viewer: Viewer, note_pk: int) -> int | None:
        """The note's risk among the findings matching these filters (None when none match)."""
        index = self.current(session)
        ordinal = index.pk_to_note.get(note_pk)
        if ordinal is None:
            return None
        mask = self._mask(index, filters, viewer) & (index.note == ordinal)
        return int(index.risk[mask].min()) if mask.any() else None

    def finding_ids(
        self, session: Session, filters: Filters, viewer: Viewer, *, limit: int = 100, offset: int = 0
    ) -> tuple[list[int], int]:
        """Finding ids riskiest first (then the note's recency, then id), and the number matching."""
        index = self.current(session)
        mask = self._mask(index, filters, viewer)
        rows = np.nonzero(mask)[0]
        order = rows[np.lexsort((index.fid[rows], index.note_rank[index.note[rows]], index.risk[rows]))]
        return index.fid[order[offset : offset + limit]].tolist(), len(rows)

    def count_notes(self, session: Session, filters: Filters, viewer: Viewer) -> int:
        index = self.current(session)
        return int(np.count_nonzero(np.bincount(index.note[self._mask(index, filters, viewer)])))

    def findings_by(self, session: Session, filters: Filters, viewer: Viewer, column: str) -> dict[str, int]:
        """Matching findings per value of one coded column (e.g. open findings per rule)."""
        index = self.current(session)
        values = index.columns[column][self._mask(index, filters, viewer)]
        labels = index.codes[column].labels
        counts = np.bincount(values, minlength=len(labels)) if len(values) else []
        return {str(labels[i]): int(n) for i, n in enumerate(counts) if n}

    def is_queued(self, session: Session, note_pk: int) -> bool:
        return note_pk in self.current(session).pk_to_note


def ordered(rows: Sequence[Any], ids: list[int], key: str = "id") -> list[Any]:
    """Rows fetched by `ids` (in any order), put back into the order of `ids`."""
    by_id = {getattr(r, key): r for r in rows}
    return [by_id[i] for i in ids if i in by_id]
