"""notecheck: checks case notes for prohibited content, PII, missing elements, quality and timeliness.

    >>> import notecheck
    >>> report = notecheck.check("Called client 3/4 re: CDL training. Her PO approved the schedule.")
    >>> report.decision
    'block'

The public API is small; everything else is reachable from its modules but not promised.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from notecheck._version import __version__
from notecheck.errors import ConfigError, InputError, NoteBlocked, NotecheckError
from notecheck.report import Finding, Report

if TYPE_CHECKING:
    from notecheck.api import check, guard
    from notecheck.checker import Checker

# spaCy and Presidio load on first use of these, not on `import notecheck`: the CLI, the scanner's workers and
# tools that only read reports start without them (PEP 562).
_LAZY = {"Checker": "notecheck.checker", "check": "notecheck.api", "guard": "notecheck.api"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'notecheck' has no attribute {name!r}")


# Library logging: a NullHandler only (the application decides where logs go). Nothing logged carries note text.
logging.getLogger("notecheck").addHandler(logging.NullHandler())

__all__ = [
    "Checker",
    "ConfigError",
    "Finding",
    "InputError",
    "NoteBlocked",
    "NotecheckError",
    "Report",
    "__version__",
    "check",
    "guard",
]
