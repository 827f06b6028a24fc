"""notecheck: checks case notes for prohibited content, PII, missing elements, quality and timeliness.

    >>> import notecheck
    >>> report = notecheck.check("Called client 3/4 re: CDL training. Her PO approved the schedule.")
    >>> report.decision
    'block'

The public API is small; everything else is reachable from its modules but not promised.
"""

import logging

from notecheck._version import __version__
from notecheck.api import check, guard
from notecheck.checker import Checker
from notecheck.errors import ConfigError, InputError, NoteBlocked, NotecheckError
from notecheck.report import Finding, Report

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
