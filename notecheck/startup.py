"""Start-up trimming for the short-lived `notecheck check` / `redact` / `scan` processes only.

Presidio compiles four 20 KB URL regular expressions when its package is imported (a third of a second here),
although notecheck never looks for URLs (`detectors.pii.BUILTIN` has no URL recognizer). A CLI process that notecheck
owns can stand a placeholder in for that one module; a scan's forked workers inherit it. Library users never get
this: it runs from `notecheck.cli.main` only, and only when Presidio is not imported yet.
"""

from __future__ import annotations

import sys
import types

URL_MODULE = "presidio_analyzer.predefined_recognizers.generic.url_recognizer"


class UrlRecognizerPlaceholder:
    """Stands in for Presidio's UrlRecognizer in a CLI process; notecheck's PII lexicon never asks for it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Presidio's UrlRecognizer is not loaded in the notecheck check/redact/scan commands")


def skip_unused_presidio_modules() -> None:
    if "presidio_analyzer" in sys.modules or URL_MODULE in sys.modules:
        return
    placeholder = types.ModuleType(URL_MODULE)
    placeholder.UrlRecognizer = UrlRecognizerPlaceholder  # type: ignore[attr-defined]
    sys.modules[URL_MODULE] = placeholder
