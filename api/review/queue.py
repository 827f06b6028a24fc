"""The triage queue: the latest result of every flagged note, its findings and their verdict status.

A note is in the queue when its most recent result (across scans and gate blocks, by `checked_at`, then row id)
was flagged (`decision != "allow"`). A finding's status is its verdict, looked up by (note_id, fingerprint), so
verdicts survive rescans; "open" when there is none. Filters narrow findings; a note matches when any of its
findings does; facet counts apply every filter except their own. Order: riskiest first (prohibited, PII, quality,
timeliness; then error, warning, info), then the most recently checked.

A `QueueView` answers all of that from numpy columns (one row per finding of a queued note) in a few milliseconds;
`queue_index.Queue` keeps it current with the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from api.review.filters import STATUSES, Filters
from api.review.scope import Viewer
from notecheck.report import KIND_RANK

CODED = ("office", "staff", "kind", "category", "severity", "rule")
NOTE_LEVEL = ("office", "staff")  # the same for every finding of a note
EPOCH = dt.date(1970, 1, 1)
NO_DATE = np.iinfo(np.int32).min
NO_RISK = 1 << 30
STATUS_CODE = {name: i for i, name in enumerate(STATUSES)}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class QueuePage:
    notes: list[QueueNote]
    total_notes: int
    total_findings: int


@dataclass(frozen=True)
class QueueView:
    """One consistent snapshot of the queue; every answer of a request comes from the same one."""

    version: tuple[Any, ...]
    verdict_version: tuple[Any, ...]
    labels: dict[str, list[Any]]
    codes: dict[str, dict[Any, int]]
    fid: np.ndarray  # per finding, grouped by note: the rows of note o are start[o]:start[o + 1]
    note: np.ndarray
    columns: dict[str, np.ndarray]
    risk: np.ndarray
    day: np.ndarray
    status: np.ndarray
    keys: dict[tuple[str, str], Any]  # (note_id, fingerprint) -> row index or list of row indexes
    start: np.ndarray  # per note
    note_rank: np.ndarray  # 0 = the most recently checked
    note_rows: list[tuple[Any, ...]]  # (pk, note_id, office, staff, contact_date, checked_at, decision, scan_id)
    note_time: np.ndarray  # checked_at in microseconds, for the recency order
    pk_to_note: dict[int, int]  # live notes only
    id_to_note: dict[str, int]  # live notes only
    alive: np.ndarray  # per finding: False once a newer result superseded its note (until the next rebuild)
    dead: int = 0

    # -- masks --------------------------------------------------------------------------------------------------------
    def _parts(self, filters: Filters, viewer: Viewer) -> dict[str, np.ndarray | None]:
        """One boolean array per active filter (None = no constraint); a facet combines all but its own."""
        n = len(self.fid)
        parts: dict[str, np.ndarray | None] = {"alive": self.alive if self.dead else None}
        if not viewer.all_offices:
            allowed = [self.codes["office"][o] for o in viewer.offices if o in self.codes["office"]]
            parts["scope"] = np.isin(self.columns["office"], np.asarray(allowed, dtype=np.int32))
        for name in CODED:
            value = getattr(filters, name)
            if value is not None:
                code = self.codes[name].get(value)
                parts[name] = np.zeros(n, dtype=bool) if code is None else self.columns[name] == code
        if filters.status is not None:
            parts["status"] = self.status == STATUS_CODE[filters.status]
        if filters.date_from is not None or filters.date_to is not None:
            when = np.ones(n, dtype=bool)
            if filters.date_from is not None:
                when &= self.day >= (filters.date_from - EPOCH).days
            if filters.date_to is not None:
                when &= (self.day <= (filters.date_to - EPOCH).days) & (self.day != NO_DATE)
            parts["date"] = when
        if filters.note_id is not None:
            wanted = self.id_to_note.get(filters.note_id, -1)
            parts["note_id"] = self.note == wanted
        return parts

    def _mask(self, parts: dict[str, np.ndarray | None], skip: str | None = None) -> np.ndarray:
        mask = np.ones(len(self.fid), dtype=bool)
        for name, part in parts.items():
            if part is not None and name != skip:
                mask &= part
        return mask

    def mask(self, filters: Filters, viewer: Viewer) -> np.ndarray:
        return self._mask(self._parts(filters, viewer))

    # -- answers ------------------------------------------------------------------------------------------------------
    def facets(self, filters: Filters, viewer: Viewer, *, per: str = "note") -> dict[str, dict[str, int]]:
        """For each facet, {value: notes (or findings) matching every other filter}, largest first."""
        parts = self._parts(filters, viewer)
        m = len(self.note_rows)
        out: dict[str, dict[str, int]] = {}
        for name in ("office", "kind", "category", "severity", "staff", "status"):
            mask = self._mask(parts, skip=name)
            labels = list(STATUSES) if name == "status" else self.labels[name]
            column = self.status if name == "status" else self.columns[name]
            if not mask.any():
                counts = np.zeros(len(labels), dtype=np.int64)
            elif per != "note":
                counts = np.bincount(column[mask], minlength=len(labels))
            elif name in NOTE_LEVEL:  # one value per note: count the notes with any matching finding
                hit = np.bincount(self.note[mask], minlength=m) > 0  # such a note has rows: start[o] is one
                counts = np.bincount(column[self.start[:-1][hit]], minlength=len(labels))
            else:  # distinct (value, note) pairs
                pairs = np.bincount(column[mask].astype(np.int64) * m + self.note[mask], minlength=len(labels) * m)
                counts = (pairs.reshape(len(labels), m) > 0).sum(axis=1)
            found = {("" if labels[i] is None else str(labels[i])): int(c) for i, c in enumerate(counts) if c}
            out[name] = dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _order(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matching note ordinals in queue order, with each note's risk and matching-finding count."""
        m = len(self.note_rows)
        count = np.bincount(self.note[mask], minlength=m)
        best = np.full(m, NO_RISK, dtype=np.int64)
        risks = self.risk[mask]
        notes = self.note[mask]
        for r in np.unique(risks)[::-1]:  # few distinct risks: assign the worst first, the best last
            best[notes[risks == r]] = r
        matched = np.nonzero(count)[0]
        return matched[np.lexsort((self.note_rank[matched], best[matched]))], best, count

    def page(self, filters: Filters, viewer: Viewer, *, page: int = 1, per_page: int = 50) -> QueuePage:
        mask = self.mask(filters, viewer)
        order, best, count = self._order(mask)
        first = (max(page, 1) - 1) * per_page
        notes = []
        kinds = self.labels["kind"]
        for o in order[first : first + per_page].tolist():
            pk, note_id, office, staff, contact_date, checked_at, decision = self.note_rows[o][:7]
            rows = slice(int(self.start[o]), int(self.start[o + 1]))
            statuses = np.bincount(self.status[rows], minlength=len(STATUSES))
            by_kind = np.bincount(self.columns["kind"][rows], minlength=len(kinds))
            notes.append(
                QueueNote(
                    pk, note_id, office, staff, contact_date, checked_at, decision, int(best[o]), int(count[o]),
                    {s: int(statuses[i]) for i, s in enumerate(STATUSES)},
                    {kinds[i]: int(c) for i, c in enumerate(by_kind) if c},
                )
            )  # fmt: skip
        return QueuePage(notes, len(order), int(mask.sum()))

    def count_notes(self, filters: Filters, viewer: Viewer) -> int:
        return int(np.count_nonzero(np.bincount(self.note[self.mask(filters, viewer)], minlength=1)))

    def neighbour(
        self, filters: Filters, viewer: Viewer, note_pk: int, risk: int | None, *, forward: bool
    ) -> int | None:
        """The pk of the note after (or before) this one in the queue; None at the end.

        Keyed by the note's position (its risk as the note view saw it, and its recency), so a note that has left
        the queue because every finding was decided still has a place to continue from."""
        order, best, _ = self._order(self.mask(filters, viewer))
        ordinal = self.pk_to_note.get(note_pk)
        here = risk if risk is not None else None if ordinal is None or best[ordinal] == NO_RISK else int(best[ordinal])
        if ordinal is None or here is None:
            return int(self.note_pk(order[0])) if forward and len(order) else None
        width = len(self.note_rows) + 1
        key = here * width + self.note_rank[ordinal]
        keys = best[order] * width + self.note_rank[order]
        candidates = np.nonzero(keys > key)[0] if forward else np.nonzero(keys < key)[0]
        if not len(candidates):
            return None
        return self.note_pk(order[candidates[0] if forward else candidates[-1]])

    def note_pk(self, ordinal: int) -> int:
        return int(self.note_rows[int(ordinal)][0])

    def note_risk(self, filters: Filters, viewer: Viewer, note_pk: int) -> int | None:
        """The note's risk among its findings matching these filters (None when none match)."""
        ordinal = self.pk_to_note.get(note_pk)
        if ordinal is None:
            return None
        rows = slice(int(self.start[ordinal]), int(self.start[ordinal + 1]))
        mask = self.mask(filters, viewer)[rows]
        return int(self.risk[rows][mask].min()) if mask.any() else None

    def finding_ids(
        self, filters: Filters, viewer: Viewer, *, limit: int = 100, offset: int = 0
    ) -> tuple[list[int], int]:
        """Finding ids riskiest first (then the note's recency, then id), and the number matching."""
        rows = np.nonzero(self.mask(filters, viewer))[0]
        order = rows[np.lexsort((self.fid[rows], self.note_rank[self.note[rows]], self.risk[rows]))]
        return self.fid[order[offset : offset + limit]].tolist(), len(rows)

    def findings_by(self, filters: Filters, viewer: Viewer, column: str) -> dict[str, int]:
        """Matching findings per value of one coded column (e.g. open findings per rule)."""
        values = self.columns[column][self.mask(filters, viewer)]
        labels = self.labels[column]
        counts = np.bincount(values, minlength=len(labels))
        return {str(labels[i]): int(c) for i, c in enumerate(counts) if c}


def ordered(rows: Sequence[Any], ids: list[int], key: str = "id") -> list[Any]:
    """Rows fetched by `ids` (in any order), put back into the order of `ids`."""
    by_id = {getattr(r, key): r for r in rows}
    return [by_id[i] for i in ids if i in by_id]
