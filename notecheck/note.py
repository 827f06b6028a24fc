"""A note as CONTRACT §1 defines it, validated once at the edge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from notecheck.errors import InputError

DEFAULT_MAX_CHARS = 64 * 1024
KNOWN_FIELDS = (
    "id",
    "text",
    "title",
    "contact_date",
    "entered_at",
    "client_id",
    "staff",
    "office",
    "program",
)


@dataclass(frozen=True)
class Note:
    """One case note. Unknown input fields are kept in `extra` and ignored by the checker."""

    text: str
    id: str | None = None
    title: str | None = None
    contact_date: dt.date | None = None
    entered_at: dt.datetime | None = None
    client_id: str | None = None
    staff: str | None = None
    office: str | None = None
    program: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, row: dict[str, Any], *, max_chars: int = DEFAULT_MAX_CHARS, require_id: bool = False) -> Note:
        """Validate a mapping (JSON object, CSV row, API body) into a Note, or raise InputError naming the field."""
        if not isinstance(row, dict):
            raise InputError("a note must be an object with at least a 'text' field", field=None)
        note_id = row.get("id")
        if note_id is not None and not isinstance(note_id, (str, int)) or isinstance(note_id, bool):
            raise InputError("'id' must be a string", field="id")
        if require_id and (note_id is None or str(note_id).strip() == ""):
            raise InputError("missing 'id'", field="id")
        text = row.get("text")
        if text is None:
            raise InputError("missing 'text'", field="text")
        if not isinstance(text, str):
            raise InputError("'text' must be a string", field="text")
        validate_text(text, max_chars=max_chars)
        strings = {}
        for name in ("title", "client_id", "staff", "office", "program"):
            value = row.get(name)
            if value is not None and not isinstance(value, (str, int)) or isinstance(value, bool):
                raise InputError(f"'{name}' must be a string", field=name)
            strings[name] = None if value is None or value == "" else str(value)
        extra = {k: v for k, v in row.items() if k not in KNOWN_FIELDS}
        return cls(
            text=text,
            id=None if note_id is None else str(note_id),
            contact_date=parse_date(row.get("contact_date"), "contact_date"),
            entered_at=parse_datetime(row.get("entered_at"), "entered_at"),
            extra=extra,
            **strings,
        )


def validate_text(text: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Reject empty, oversized or binary text with a reason that never quotes the text."""
    if not text.strip():
        raise InputError("the note text is empty", field="text")
    if len(text) > max_chars:
        raise InputError(f"the note text is {len(text)} characters, over the limit of {max_chars}", field="text")
    if "\x00" in text:
        raise InputError("the note text contains NUL bytes (binary input?)", field="text")


def parse_date(value: Any, name: str) -> dt.date | None:
    """Accept an ISO date (or the date part of an ISO datetime)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise InputError(f"'{name}' is not an ISO date (YYYY-MM-DD)", field=name)


def parse_datetime(value: Any, name: str) -> dt.datetime | None:
    """Accept an ISO datetime or date; naive values are taken as local agency time."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
    raise InputError(f"'{name}' is not an ISO datetime (YYYY-MM-DDTHH:MM:SS)", field=name)
