"""Keeping the queue's `QueueView` current with the database.

`Queue.view(session)` first asks the database what changed (six index lookups: the count, last id and last time of
notes and of verdicts), then:

- nothing: the same view;
- a few new results (a gate block, a small rescan): they are read and appended; the notes they supersede are marked
  dead in place (and a rebuild clears them once they are a quarter of the rows);
- many new results, or any removed (a purge): the view is rebuilt (two statements; about 0.5 s at 50,000 findings);
- new or changed verdicts: only those are read; a removed verdict (reopened) rereads them all.

So a page never shows a stale queue, and the common changes cost milliseconds. Rows updated in place are not
noticed; the store never does that to notes or findings, and a verdict update moves `decided_at`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from api.review.filters import SEVERITY_RANK, Filters
from api.review.queue import CODED, EPOCH, NO_DATE, STATUS_CODE, QueuePage, QueueView
from api.review.scope import Viewer
from notecheck.report import KIND_RANK
from notecheck.store.models import FindingRow, NoteResult, Verdict

N = NoteResult.__table__
F = FindingRow.__table__
V = Verdict.__table__
NOTE_COLUMNS = (N.c.id, N.c.note_id, N.c.office, N.c.staff, N.c.contact_date, N.c.checked_at, N.c.decision, N.c.scan_id)
FINDING_COLUMNS = (F.c.note_pk, F.c.id, F.c.kind, F.c.category, F.c.severity, F.c.rule, F.c.fingerprint)
APPEND_AT_MOST = 2000  # new results read one by one; beyond this a rebuild is cheaper
CHUNK = 500


def _version(session: Session, table: Any, when: Any) -> tuple[Any, ...]:
    """(rows, last id, last time): three statements, because each alone is an index lookup (or SQLite's count
    shortcut) while together they make a scan."""
    return (
        session.scalar(select(func.count()).select_from(table)),
        session.scalar(select(func.max(table.c.id))),
        session.scalar(select(func.max(when))),
    )


def _latest_flagged():  # type: ignore[no-untyped-def]
    newer = N.alias("newer")
    superseded = exists().where(
        newer.c.note_id == N.c.note_id,
        or_(newer.c.checked_at > N.c.checked_at, and_(newer.c.checked_at == N.c.checked_at, newer.c.id > N.c.id)),
    )
    return select(*NOTE_COLUMNS).where(N.c.decision != "allow", ~superseded)


def _micros(value: Any) -> int:
    return int(value.timestamp() * 1_000_000) if value is not None else 0


def _rank(times: np.ndarray, pks: np.ndarray) -> np.ndarray:
    """0 for the most recently checked note (then the highest pk), 1 for the next, ..."""
    order = np.lexsort((-pks, -times))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


class _Columns:
    """Findings (grouped by note) turned into coded numpy columns, extending an earlier view's codes."""

    def __init__(self, base: QueueView | None):
        self.labels = {k: list(v) for k, v in base.labels.items()} if base else {name: [] for name in CODED}
        self.codes = {k: dict(v) for k, v in base.codes.items()} if base else {name: {} for name in CODED}

    def code(self, name: str, values: Sequence[Any]) -> np.ndarray:
        codes, labels = self.codes[name], self.labels[name]
        for value in dict.fromkeys(values):
            if value not in codes:
                codes[value] = len(labels)
                labels.append(value)
        return np.fromiter(map(codes.__getitem__, values), dtype=np.int32, count=len(values))

    def risk(self, kind: np.ndarray, severity: np.ndarray) -> np.ndarray:
        kinds = np.asarray([KIND_RANK.get(k, len(KIND_RANK)) for k in self.labels["kind"]] or [0], dtype=np.int64)
        sevs = np.asarray([SEVERITY_RANK.get(s, len(SEVERITY_RANK)) for s in self.labels["severity"]] or [0])
        return kinds[kind] * 10 + sevs[severity] if len(kind) else np.zeros(0, dtype=np.int64)


def _days(values: Sequence[Any]) -> np.ndarray:
    cache: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        day = cache.get(value)
        if day is None:
            day = cache[value] = NO_DATE if value is None else (value.date() - EPOCH).days
        out[i] = day
    return out


def _read(notes: list[Any], findings: list[Any], base: QueueView | None) -> dict[str, Any]:
    """Columns for these notes (rows of NOTE_COLUMNS, by pk) and their findings (rows of FINDING_COLUMNS, by
    note_pk, id). Per-note values are coded once per note and spread to the findings with numpy."""
    first_note = len(base.note_rows) if base else 0
    first_row = len(base.fid) if base else 0
    note_rows = [tuple(row) for row in notes]
    ordinal = {row[0]: i for i, row in enumerate(note_rows)}
    cols = list(zip(*findings, strict=True)) if findings else [()] * len(FINDING_COLUMNS)
    if not set(cols[0]) <= ordinal.keys():  # under READ COMMITTED a note may have changed in between
        findings = [f for f in findings if f[0] in ordinal]
        cols = list(zip(*findings, strict=True)) if findings else [()] * len(FINDING_COLUMNS)
    note_pk, fid, kind, category, severity, rule, fp = cols
    local = np.fromiter(map(ordinal.__getitem__, note_pk), dtype=np.int64, count=len(note_pk))
    per_note = list(zip(*note_rows, strict=True)) if note_rows else [()] * len(NOTE_COLUMNS)
    coder = _Columns(base)
    columns = {
        "office": coder.code("office", per_note[2])[local] if note_rows else np.zeros(0, dtype=np.int32),
        "staff": coder.code("staff", per_note[3])[local] if note_rows else np.zeros(0, dtype=np.int32),
        "kind": coder.code("kind", kind),
        "category": coder.code("category", category),
        "severity": coder.code("severity", severity),
        "rule": coder.code("rule", rule),
    }
    note_ids = np.asarray(per_note[1], dtype=object)[local] if note_rows else []
    counts = np.bincount(local, minlength=len(note_rows)) if note_rows else np.zeros(0, dtype=np.int64)
    return {
        "labels": coder.labels,
        "codes": coder.codes,
        "fid": np.asarray(fid, dtype=np.int64),
        "note": local + first_note,
        "columns": columns,
        "risk": coder.risk(columns["kind"], columns["severity"]),
        "day": _days(per_note[4])[local] if note_rows else np.zeros(0, dtype=np.int32),
        "keys": dict(zip(zip(note_ids, fp), range(first_row, first_row + len(fp)))),  # noqa: B905
        "starts": first_row + np.r_[0, np.cumsum(counts)].astype(np.int64),
        "note_rows": note_rows,
        "note_time": np.asarray([_micros(t) for t in per_note[5]], dtype=np.int64),
    }


def _findings_of(session: Session, pks: list[int]) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(pks), CHUNK):
        chunk = pks[i : i + CHUNK]
        rows += session.execute(select(*FINDING_COLUMNS).where(F.c.note_pk.in_(chunk))).all()
    return sorted(rows, key=lambda r: (r[0], r[1]))


def build(session: Session, version: tuple[Any, ...]) -> QueueView:
    """The whole view from the database: the queued notes, then their findings (two statements)."""
    notes = sorted(session.execute(_latest_flagged()).all(), key=lambda r: r[0])
    latest = _latest_flagged().with_only_columns(N.c.id).scalar_subquery()
    query = select(*FINDING_COLUMNS).where(F.c.note_pk.in_(latest)).order_by(F.c.note_pk, F.c.id)
    data = _read(notes, session.execute(query).all(), None)
    with_rows = np.diff(data["starts"]) > 0  # a flagged note always has findings; skip any that has none
    note_rows = data["note_rows"]
    pks = np.asarray([r[0] for r in note_rows], dtype=np.int64)
    return QueueView(
        version=version,
        verdict_version=(),
        labels=data["labels"],
        codes=data["codes"],
        fid=data["fid"],
        note=data["note"],
        columns=data["columns"],
        risk=data["risk"],
        day=data["day"],
        status=np.zeros(len(data["fid"]), dtype=np.int8),
        keys=data["keys"],
        start=data["starts"],
        note_rank=_rank(data["note_time"], pks),
        note_rows=note_rows,
        note_time=data["note_time"],
        pk_to_note={int(r[0]): i for i, r in enumerate(note_rows) if with_rows[i]},
        id_to_note={r[1]: i for i, r in enumerate(note_rows) if with_rows[i]},
        alive=np.ones(len(data["fid"]), dtype=bool),
    )


def extend(session: Session, view: QueueView, version: tuple[Any, ...]) -> QueueView | None:
    """The view with the results recorded since it was built; None when a rebuild is due instead.

    New results are the rows checked after the view's last time (or with a higher id). Every earlier row must still
    be there, except those a new result replaced in place (`record_report` re-recording a note in the same scan, e.g.
    a note blocked again at the gate), which the view can account for; anything else (a purge) means a rebuild."""
    old_count, old_last, old_time = view.version
    count = version[0]
    if old_time is None or old_last is None or view.dead * 4 > max(len(view.fid), 4000):
        return None
    added = session.execute(
        select(N.c.id, N.c.note_id, N.c.scan_id).where(or_(N.c.checked_at > old_time, N.c.id > old_last))
    ).all()
    if not added or len(added) > APPEND_AT_MOST:
        return None
    survivors = session.scalar(select(func.count()).select_from(N).where(N.c.checked_at <= old_time))
    replaced = sum(
        1
        for row in added
        if (o := view.id_to_note.get(row.note_id)) is not None and view.note_rows[o][7] == row.scan_id
    )
    if survivors != old_count - replaced or survivors + len(added) != count:
        return None
    added = [row.note_id for row in added]
    latest: dict[str, Any] = {}
    ids = sorted(set(added))
    for i in range(0, len(ids), CHUNK):
        query = select(*NOTE_COLUMNS).where(N.c.note_id.in_(ids[i : i + CHUNK]))
        for row in session.execute(query.order_by(N.c.note_id, N.c.checked_at.desc(), N.c.id.desc())):
            latest.setdefault(row.note_id, row)
    alive = view.alive.copy()
    pk_to_note, id_to_note = dict(view.pk_to_note), dict(view.id_to_note)
    dead = view.dead
    fresh = []
    for note_id, row in latest.items():
        old = id_to_note.get(note_id)
        if old is not None and view.note_rows[old][:6:5] != (row.id, row.checked_at):  # superseded (SQLite may
            # even give the replacing row the same id)
            alive[view.start[old] : view.start[old + 1]] = False
            dead += int(view.start[old + 1] - view.start[old])
            del id_to_note[note_id], pk_to_note[int(view.note_rows[old][0])]
        if row.decision != "allow" and row.id not in pk_to_note:
            fresh.append(row)
    fresh.sort(key=lambda r: r[0])
    data = _read(fresh, _findings_of(session, [r[0] for r in fresh]), view)
    n_old = len(view.note_rows)
    note_rows = view.note_rows + data["note_rows"]
    note_time = np.r_[view.note_time, data["note_time"]]
    pks = np.asarray([r[0] for r in note_rows], dtype=np.int64)
    has_rows = np.diff(data["starts"]) > 0
    for i, row in enumerate(data["note_rows"]):
        if has_rows[i]:
            pk_to_note[int(row[0])] = n_old + i
            id_to_note[row[1]] = n_old + i
    status = np.r_[view.status, np.zeros(len(data["fid"]), dtype=np.int8)]
    keys = {**view.keys, **data["keys"]}
    if fresh:  # verdicts already given to these notes (by note id and fingerprint) apply at once
        for i in range(0, len(fresh), CHUNK):
            wanted = [r[1] for r in fresh[i : i + CHUNK]]
            for note_id, fp, verdict in session.execute(
                select(V.c.note_id, V.c.fingerprint, V.c.verdict).where(V.c.note_id.in_(wanted))
            ):
                row = data["keys"].get((note_id, fp))
                if row is not None:
                    status[row] = STATUS_CODE.get(verdict, 0)
    return replace(
        view,
        version=version,
        labels=data["labels"],
        codes=data["codes"],
        fid=np.r_[view.fid, data["fid"]],
        note=np.r_[view.note, data["note"]],
        columns={k: np.r_[view.columns[k], data["columns"][k]] for k in CODED},
        risk=np.r_[view.risk, data["risk"]],
        day=np.r_[view.day, data["day"]],
        status=status,
        keys=keys,
        start=np.r_[view.start[:-1], data["starts"]],
        note_rank=_rank(note_time, pks),
        note_rows=note_rows,
        note_time=note_time,
        pk_to_note=pk_to_note,
        id_to_note=id_to_note,
        alive=np.r_[alive, np.ones(len(data["fid"]), dtype=bool)],
        dead=dead,
    )


def apply_verdicts(session: Session, view: QueueView, version: tuple[Any, ...]) -> QueueView:
    """Only the verdicts decided since the last look, unless some were removed (then all of them)."""
    count, last_id, last_at = view.verdict_version or (None, None, None)
    query = select(V.c.id, V.c.note_id, V.c.fingerprint, V.c.verdict)
    status = view.status.copy()
    delta = session.execute(query.where(V.c.decided_at >= last_at)).all() if last_at is not None else None
    inserted = sum(1 for row in delta if row.id > (last_id or 0)) if delta is not None else 0
    if delta is None or count + inserted != version[0]:  # the first look, or verdicts were reopened (deleted)
        status[:] = 0
        delta = session.execute(query).all()
    for _, note_id, fp, verdict in delta:
        row = view.keys.get((note_id, fp))
        if row is not None:
            status[row] = STATUS_CODE.get(verdict, 0)
    return replace(view, status=status, verdict_version=version)


class Queue:
    """The queue over one database. Thread-safe; share one per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: QueueView | None = None
        self.builds = 0  # full rebuilds, and results appended in place, since start (for tests and metrics)
        self.extensions = 0

    def view(self, session: Session) -> QueueView:
        notes_version = _version(session, N, N.c.checked_at)
        verdict_version = _version(session, V, V.c.decided_at)
        with self._lock:
            view = self._view
            if view is not None and view.version != notes_version:
                view = extend(session, view, notes_version)
                self.extensions += view is not None
            if view is None or view.version != notes_version:
                view = build(session, notes_version)
                self.builds += 1
            if view.verdict_version != verdict_version:
                view = apply_verdicts(session, view, verdict_version)
            self._view = view
            return view

    def invalidate(self) -> None:
        with self._lock:
            self._view = None

    # -- one-call conveniences (each takes its own snapshot) ----------------------------------------------------------
    def page(self, session: Session, filters: Filters, viewer: Viewer, **kwargs: Any) -> QueuePage:
        return self.view(session).page(filters, viewer, **kwargs)

    def facets(self, session: Session, filters: Filters, viewer: Viewer, **kwargs: Any) -> dict[str, dict[str, int]]:
        return self.view(session).facets(filters, viewer, **kwargs)

    def neighbour(self, session: Session, filters: Filters, viewer: Viewer, note_pk: int, risk: int | None, *,
                  forward: bool) -> int | None:  # fmt: skip
        return self.view(session).neighbour(filters, viewer, note_pk, risk, forward=forward)
