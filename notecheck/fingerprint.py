"""Stable finding fingerprints.

A fingerprint identifies "this finding in this note" without offsets, so it survives rescans and edits elsewhere
in the note, and a reviewer's verdict sticks. It hashes the rule, the category and the normalised matched words
(plus which occurrence of them it is), keyed so that short phrases cannot be looked up in a dictionary by someone
who only sees reports.
"""

from __future__ import annotations

import hashlib
import os
import re

_SPACE = re.compile(r"\s+")
DEFAULT_KEY = b"notecheck-fingerprint-v1"


def _key() -> bytes:
    return os.environ.get("NOTECHECK_FINGERPRINT_KEY", "").encode() or DEFAULT_KEY


def normalise(span_text: str) -> str:
    """Case- and whitespace-insensitive form of the matched words."""
    return _SPACE.sub(" ", span_text.strip().lower())


def fingerprint(kind: str, category: str, rule: str, span_text: str | None, occurrence: int = 0) -> str:
    """A 32-hex-digit keyed BLAKE2b digest; `span_text` is None for note-level findings."""
    material = "\x1f".join([kind, category, rule, normalise(span_text) if span_text else "", str(occurrence)])
    return hashlib.blake2b(material.encode(), key=_key(), digest_size=16).hexdigest()
