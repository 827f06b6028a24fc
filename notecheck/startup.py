"""Start-up trimming for the short-lived `notecheck check` / `redact` / `scan` processes only.

Presidio compiles four 20 KB URL regular expressions when its package is imported (a third of a second here),
although notecheck never looks for URLs (`detectors.pii.BUILTIN` has no URL recognizer). spaCy's `__init__` imports
its whole command-line package (typer apps for training, packaging, downloading: 0.2-0.4 s) only to re-export
`spacy.info`. A CLI process that notecheck owns can stand placeholders in for those modules; a scan's forked workers
inherit them. Library users never get this: it runs from `notecheck.cli.main` only, and only for a library not
imported yet.
"""

from __future__ import annotations

import sys
import types

URL_MODULE = "presidio_analyzer.predefined_recognizers.generic.url_recognizer"
SPACY_CLI = "spacy.cli"


class UrlRecognizerPlaceholder:
    """Stands in for Presidio's UrlRecognizer in a CLI process; notecheck's PII lexicon never asks for it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Presidio's UrlRecognizer is not loaded in the notecheck check/redact/scan commands")


def _not_loaded(*args: object, **kwargs: object) -> None:
    raise RuntimeError("spaCy's command-line package is not loaded in the notecheck check/redact/scan commands")


def skip_unused_library_modules() -> None:
    if "presidio_analyzer" not in sys.modules and URL_MODULE not in sys.modules:
        placeholder = types.ModuleType(URL_MODULE)
        placeholder.UrlRecognizer = UrlRecognizerPlaceholder  # type: ignore[attr-defined]
        sys.modules[URL_MODULE] = placeholder
    if "spacy" not in sys.modules and SPACY_CLI not in sys.modules:
        cli = types.ModuleType(SPACY_CLI)
        cli.__path__ = []  # a package, so `from .cli.info import info` resolves to the submodule below
        cli.download = cli.info = _not_loaded  # type: ignore[attr-defined]
        info = types.ModuleType(f"{SPACY_CLI}.info")
        info.info = _not_loaded  # type: ignore[attr-defined]
        sys.modules[SPACY_CLI], sys.modules[f"{SPACY_CLI}.info"] = cli, info
