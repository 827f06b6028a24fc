"""The per-process half of a scan: one Checker per process (a module global), a batch of rows in, results out.

The same function serves the local process pool (the parent loads the Checker, then forks the workers, which
inherit it) and Spark executors (the first task in a Python worker builds it, later tasks reuse it).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from notecheck.checker import Checker
from notecheck.errors import InputError
from notecheck.note import Note
from notecheck.report import Report
from notecheck.scan.rows import contact_kind, result_rows, signatures, validate_row
from notecheck.scan.sources import RawRow

_CHECKER: Checker | None = None
_CHECKER_POLICY: str | None = None
VOCAB_BUDGET = 10_000  # strings a process's Checker may add to spaCy's vocabulary before batches use memory zones
_VOCAB_BASE: dict[int, int] = {}  # id of a Checker -> size of its vocabulary's string store at its first batch


def set_checker(checker: Checker, policy: str) -> None:
    global _CHECKER, _CHECKER_POLICY
    _CHECKER, _CHECKER_POLICY = checker, policy


def get_checker(policy: str) -> Checker:
    """The process's Checker for `policy`, built on first use."""
    if _CHECKER is None or policy != _CHECKER_POLICY:
        set_checker(Checker(policy=policy), policy)
    assert _CHECKER is not None
    return _CHECKER


@dataclass
class Item:
    """One input row after checking: a note with its report and features, or an input error."""

    row: int
    note_id: str | None
    line: bytes | None = None  # the report as one JSONL line
    decision: str | None = None
    note_row: dict[str, Any] | None = None  # the `notes` row (rows.result_rows)
    findings: list[dict[str, Any]] | None = None  # the `findings` rows
    contact: str = "none"
    exit_date: dt.date | None = None
    minhash: bytes | None = None
    field: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.note_row is not None

    @property
    def flagged(self) -> bool:
        return self.decision not in (None, "allow")

    def reject(self, field: str | None, reason: str) -> None:
        self.line = self.decision = self.note_row = self.findings = None
        self.field, self.reason = field, reason


# one encoder for every line: json.dumps with options builds a new JSONEncoder per call (a fifth of its time here)
encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def report_line(report: Report) -> bytes:
    return (encode_compact(report.to_dict()) + "\n").encode("utf-8")


def check_rows(rows: list[RawRow], policy: str, *, features: bool = True, checker: Checker | None = None) -> list[Item]:
    """Validate and check a batch; never raises for a bad row (it becomes an Item with a reason)."""
    checker = checker or get_checker(policy)
    items: list[Item] = []
    valid: list[tuple[Item, Note]] = []
    for raw in rows:
        if raw.error is not None or raw.data is None:
            field, reason = raw.error or (None, "unreadable row")
            items.append(Item(raw.row, raw.note_id, field=field, reason=reason))
            continue
        try:
            validated = validate_row(raw.data, max_chars=checker.policy.max_chars)
        except InputError as exc:
            items.append(Item(raw.row, raw.note_id, field=exc.field, reason=str(exc)))
            continue
        item = Item(raw.row, validated.note.id, exit_date=validated.exit_date)
        items.append(item)
        valid.append((item, validated.note))
    with _memory_zone(checker):
        reports = _check(checker, [n for _, n in valid])
    checked = [(item, note, report) for (item, note), report in zip(valid, reports, strict=True)]
    for item, note, report in checked:
        if isinstance(report, Report):
            item.line = report_line(report)
            item.decision = report.decision
            item.note_row, item.findings = result_rows(note, report)
            if features:
                item.contact = contact_kind(note.text, report)
        else:
            item.reject(None, report)
    if features:
        signed = [(item, note) for item, note, report in checked if isinstance(report, Report)]
        for (item, _), minhash in zip(signed, signatures([note.text for _, note in signed]), strict=True):
            item.minhash = minhash
    return items


def _memory_zone(checker: Checker):  # type: ignore[no-untyped-def]
    """spaCy's memory zone once the vocabulary has grown by VOCAB_BUDGET strings, so that a long scan of text full of
    names and numbers does not grow it without bound: strings first seen in a batch are then freed after it.
    Reports hold offsets only, no spaCy objects.

    Until then batches run outside a zone, because a zone costs about 0.2 ms per note (12%): inside one spaCy's
    tokenizer caches nothing and every word not yet in the vocabulary gets a new lexeme (its lexical attributes
    computed again) in every batch. Outside, the words of the first batches stay cached for the rest of the scan.
    The budget bounds what that keeps: about 1.1 kB per string (spaCy and the Checker's per-word caches), so
    about 11 MB per process even for text where every note brings new tokens; the generated benchmark notes add
    about 3,000 strings per 10,000 notes. Tokens and reports are the same either way."""
    nlp = checker.nlp
    zone = getattr(nlp, "memory_zone", None)
    if zone is None:
        return contextlib.nullcontext()
    size = len(nlp.vocab.strings)
    if size - _VOCAB_BASE.setdefault(id(checker), size) < VOCAB_BUDGET:
        return contextlib.nullcontext()
    return zone()


def _check(checker: Checker, notes: list[Note]) -> list[Report | str]:
    """Reports in order; if the batch fails, each note alone, so one note's internal error costs only that note."""
    if not notes:
        return []
    try:
        return list(checker.check_many(notes, batch_size=len(notes)))
    except Exception:  # noqa: BLE001 - isolate the note that fails below
        pass
    out: list[Report | str] = []
    for note in notes:
        try:
            out.append(checker.check_note(note))
        except InputError as exc:
            out.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded as that row's error; never the text
            out.append(f"internal error while checking ({type(exc).__name__})")
    return out


def pool_initializer(parent_pid: int | None, policy: str) -> None:
    """In each worker: die with the parent (a SIGKILLed scan leaves no orphans), leave Ctrl-C to the parent, and
    build the Checker unless it was inherited by fork."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
    get_checker(policy)


def pool_task(rows: list[RawRow], policy: str, features: bool) -> list[Item]:
    with batch_without_gc():
        return check_rows(rows, policy, features=features)


@contextlib.contextmanager
def batch_without_gc() -> Iterator[None]:
    """Check a batch with Python's cyclic garbage collector paused, then collect the youngest generation once.

    Inside a batch the collector ran ~1,200 times per 6,000 notes, each time walking the batch's live objects
    (Docs' caches, reports, rows): 45 us a note, 4% of a worker's CPU, and it never found anything - a batch's objects
    are freed by reference counting (0 unreachable objects per batch, measured). The one collection after the batch
    still frees any cycle a batch might leave, so memory stays bounded. Only for processes the scan owns (its pool
    workers, Spark's Python workers): a library caller's collector is left alone."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)
