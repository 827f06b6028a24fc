"""The notecheck exception tree.

    NotecheckError                 root: catch this to catch everything notecheck raises on purpose
     ├── ConfigError               a policy or lexicon file is wrong (names file, line and key)
     ├── InputError                a note or input file is unusable (names the field or row, never the text)
     └── NoteBlocked               raised by `guard()`; carries the report

Internal faults are ordinary Python exceptions. Messages never contain note text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notecheck.report import Report


class NotecheckError(Exception):
    """Root of every error notecheck raises on purpose."""


class ConfigError(NotecheckError):
    """A policy profile or lexicon is invalid."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, key: str | None = None):
        self.path, self.line, self.key = path, line, key
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class InputError(NotecheckError):
    """A note or a row of bulk input is unusable. `field` names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class NoteBlocked(NotecheckError):
    """The note carries an error-severity finding; `report` says which."""

    def __init__(self, report: Report):
        self.report = report
        categories = sorted({f.category for f in report.findings if f.severity == "error"})
        super().__init__(f"note blocked: {len(categories)} blocking categories ({', '.join(categories)})")
