"""A long-running server must not grow spaCy's vocabulary with every name, number and typo it is sent.

spaCy keeps every string it has seen in the shared `Vocab`/`StringStore`; a service fed new notes all day grows
by about 0.7 KB per unseen word, without bound (measured: +110 MB after 4,000 notes of 40 new words each). spaCy's
`nlp.memory_zone()` frees the strings first seen inside the zone when it ends, but a zone is state on the shared
vocabulary: a zone ending in one thread would free strings a check in another thread is still using. So every
check through `ZonedChecker` runs alone, inside its own zone. Under CPython's GIL the checker's work (tokenizer,
matchers) was not running in parallel anyway; HTTP parsing and database writes still overlap with checks.

create_app hands this wrapper to every front end it mounts, so all in-process users of the checker share the lock.
Reports are plain Python (offsets, strings, numbers) and stay valid after the zone.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from notecheck.checker import Checker
from notecheck.note import Note
from notecheck.report import Report


class ZonedChecker:
    """The Checker interface (`check`, `check_note`, `check_many`, and every attribute), one check at a time, each
    inside a spaCy memory zone."""

    def __init__(self, checker: Checker):
        if isinstance(checker, ZonedChecker):
            checker = checker.unwrapped
        self.unwrapped = checker
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _zone(self) -> Iterator[None]:
        zone = getattr(getattr(self.unwrapped, "nlp", None), "memory_zone", None)
        with self._lock, zone() if zone is not None else contextlib.nullcontext():
            yield

    def check(self, text: str, **kwargs: Any) -> Report:
        with self._zone():
            return self.unwrapped.check(text, **kwargs)

    def check_note(self, note: Note | dict[str, Any]) -> Report:
        with self._zone():
            return self.unwrapped.check_note(note)

    def check_many(self, notes: Iterable[Note | dict[str, Any]], *, batch_size: int = 64) -> Iterator[Report]:
        """All reports are made inside one zone (so the notes are read up front), then yielded."""
        with self._zone():
            reports = list(self.unwrapped.check_many(notes, batch_size=batch_size))
        return iter(reports)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unwrapped, name)
