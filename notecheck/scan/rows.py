"""From an input row to a checkable Note (or an input error), and the caseload features of a checked note.

Validation is CONTRACT §1 (`Note.from_dict` with an id required) plus what the results database needs: ids and
caseload strings fit their columns and hold no NUL bytes, and an `exit_date` column, when given, is an ISO date.
Reasons name the field, never the text.

Features kept for the caseload checks (the text of clean notes is not stored, so they are computed now):
- `contact`: "other" when the note documents a contact (the contact_method element is present), "letter" when every
  method the note names is a letter or mail, "none" when it names no contact method.
- `minhash`: a MinHash signature (NUM_PERM uint32 values) of the note's word 3-shingles, for near-duplicate detection;
  None for notes under MIN_SHINGLES shingles (too short to call a copy).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from hashlib import sha1
from typing import Any

from notecheck.errors import InputError
from notecheck.note import Note, parse_date
from notecheck.report import Report
from notecheck.store.results import is_flagged, text_digest

ID_MAX = 200
STRING_FIELDS = ("id", "client_id", "staff", "office", "program")
EXIT_FIELD = "exit_date"
NUM_PERM = 64
SHINGLE = 3
MIN_SHINGLES = 8
_LETTER = re.compile(r"\b(letters?|(?<![-\w])mail(ed|ing)?|postcards?|certified mail|postal)\b", re.IGNORECASE)
_DIRECT = re.compile(
    r"\b(call(ed|s|ing)?|phone(d)?|telephone|t/?c|spoke|talked|met|meeting|mtg|in[- ]person|face[- ]to[- ]face|f2f|"
    r"visit(ed)?|came (in|by)|walk(ed)?[- ]in|stopped by|e-?mail(ed)?|text(ed)?|sms|zoom|video|virtual(ly)?|"
    r"voice ?mail|vm|lvm|left (a )?message|chat)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
_ASCII_WORD = re.compile(rb"\w+")  # on ASCII text the same runs as _WORD (bytes patterns are ASCII-only)


@dataclass
class Validated:
    note: Note
    exit_date: dt.date | None


def validate_row(data: dict[str, Any], *, max_chars: int) -> Validated:
    """A Note ready for the checker, or InputError(field=...)."""
    note = Note.from_dict(data, max_chars=max_chars, require_id=True)
    for name in STRING_FIELDS:
        value = note.id if name == "id" else getattr(note, name)
        if value is None:
            continue
        if len(value) > ID_MAX:
            raise InputError(f"'{name}' is longer than {ID_MAX} characters", field=name)
        if "\x00" in value:
            raise InputError(f"'{name}' contains NUL bytes", field=name)
    if note.title and "\x00" in note.title:
        raise InputError("'title' contains NUL bytes", field="title")
    exit_date = parse_date(data.get(EXIT_FIELD), EXIT_FIELD)
    return Validated(note, exit_date)


def result_rows(note: Note, report: Report) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `notes` row and `findings` rows of one checked note, as `store.results.record_report` writes them
    (text and title kept for flagged notes only), as plain dicts for a bulk INSERT; `scan_id` and keys are added
    by the writer. tests/scan/test_sink.py pins that both give the same rows."""
    keep = is_flagged(report)
    note_row = {
        "note_id": note.id,
        "client_id": note.client_id,
        "staff": note.staff,
        "office": note.office,
        "program": note.program,
        "contact_date": dt.datetime.combine(note.contact_date, dt.time()) if note.contact_date else None,
        "entered_at": note.entered_at.replace(tzinfo=None) if note.entered_at else None,
        "decision": report.decision,
        "score": report.score,
        "policy": report.policy,
        "checker_version": report.checker_version,
        "elements": {k: v.present for k, v in report.elements.items()},
        "text_sha256": text_digest(note.text),
        "text": note.text if keep else None,
        "title": note.title if keep else None,
    }
    findings = [
        {
            "note_id": note.id,
            "office": note.office,
            "staff": note.staff,
            "kind": f.kind,
            "category": f.category,
            "rule": f.rule,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "confidence": f.confidence,
            "message": f.message,
            "policy_ref": f.policy_ref,
            "fingerprint": f.fingerprint,
        }
        for f in report.findings
    ]
    return note_row, findings


def contact_kind(text: str, report: Report) -> str:
    """ "none" when the note names no contact method, "letter" when its only contact is a letter or mail (no call,
    visit, meeting, email or message), else "other". For `letter_counts_as_contact: false` (MassHire)."""
    element = report.elements.get("contact_method")
    if element is None or not element.present:
        return "none"
    if _LETTER.search(text) and not _DIRECT.search(text):
        return "letter"
    return "other"


@cache
def _permutations() -> tuple[Any, Any]:
    """datasketch's affine32 permutations for seed 1 (`MinHash(num_perm=NUM_PERM, scheme="affine32")`), made here
    so that neither the workers nor the parent import datasketch (and SciPy) for them."""
    import numpy as np

    generator = np.random.RandomState(1)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def shingles(text: str) -> list[bytes]:
    """The distinct word 3-shingles of the lowercased text, UTF-8 encoded ("met with client")."""
    lowered = text.lower()
    if lowered.isascii():  # split the encoded bytes: no str -> bytes per shingle (a fifth of the signature's cost)
        words = _ASCII_WORD.findall(lowered.encode())
    else:
        words = [word.encode() for word in _WORD.findall(lowered)]
    return list({b" ".join(gram) for gram in zip(words, words[1:], words[2:], strict=False)})


def signature(text: str) -> bytes | None:
    """MinHash of the note's word shingles as bytes, or None when the note is too short to compare."""
    return signatures([text])[0]


def signatures(texts: list[str]) -> list[bytes | None]:
    """`signature` of each text, computed for the whole batch at once.

    The same values as datasketch's `MinHash(num_perm=NUM_PERM, scheme="affine32").update_batch(shingles)`
    (SHA-1's first four bytes, MurmurHash3's 32-bit finaliser, then a*h+b mod 2**32 per permutation, the minimum
    per permutation; pinned by tests/scan/test_scan_caseload.py), computed with numpy over all the batch's shingles:
    no MinHash object per note, and no datasketch (or SciPy) import in the workers."""
    import numpy as np

    digests: list[bytes] = []
    starts: list[int] = []
    for text in texts:
        grams = shingles(text)
        if len(grams) >= MIN_SHINGLES:
            starts.append(len(digests))
            digests.extend([sha1(gram).digest()[:4] for gram in grams])
        else:
            starts.append(-1)
    if not digests:
        return [None] * len(texts)
    hashes = np.frombuffer(b"".join(digests), dtype="<u4").astype(np.uint32)
    hashes ^= hashes >> np.uint32(16)  # MurmurHash3 fmix32
    hashes *= np.uint32(0x85EBCA6B)
    hashes ^= hashes >> np.uint32(13)
    hashes *= np.uint32(0xC2B2AE35)
    hashes ^= hashes >> np.uint32(16)
    a, b = _permutations()
    offsets = [start for start in starts if start >= 0]
    # permutations x shingles, so that each note's minimum is a reduction along contiguous memory (reduceat along
    # the other axis was 15x slower: 25 of the signature's 60 us a note)
    permuted = np.multiply.outer(a, hashes)
    permuted += b[:, None]
    minima = np.minimum.reduceat(permuted, offsets, axis=1).T.astype("<u4", order="C")
    rows = iter(minima)
    return [next(rows).tobytes() if start >= 0 else None for start in starts]


def signature_values(data: bytes):  # type: ignore[no-untyped-def]
    """A stored signature as a numpy array of NUM_PERM uint32 values."""
    import numpy as np

    return np.frombuffer(data, dtype="<u4")
