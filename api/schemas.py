"""Request and response bodies as pydantic models: they validate requests and document /openapi.json.

Responses are built from `Report.to_dict()` directly (no second validation on the hot path); the response models
below exist for the OpenAPI document and for schemathesis to check the responses against.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SHORT = 200  # the results store keeps ids, offices and staff names in 200-character columns


class NoteIn(BaseModel):
    """A note as CONTRACT §1 defines it. Unknown fields are accepted and ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "N-1042",
                    "text": "Called client 3/4 re: CDL training. Next: send the provider list by 3/8.",
                    "contact_date": "2026-03-04",
                    "office": "Rockville",
                }
            ]
        },
    )

    id: str | None = Field(None, max_length=SHORT, description="The caller's id, echoed as `note_id`.")
    text: str = Field(description="The note body as typed. Longer than the limit (64 KiB by default): 413.")
    title: str | None = Field(None, max_length=2000, description="The note's title in the case-management system.")
    contact_date: str | None = Field(None, max_length=40, description="ISO date of the contact (YYYY-MM-DD).")
    entered_at: str | None = Field(None, max_length=40, description="ISO datetime the note was entered.")
    client_id: str | None = Field(None, max_length=SHORT)
    staff: str | None = Field(None, max_length=SHORT)
    office: str | None = Field(None, max_length=SHORT, description="Checked against the key's offices (403).")
    program: str | None = Field(None, max_length=SHORT)

    def note_fields(self) -> dict[str, Any]:
        """The mapping `Note.from_dict` takes: the §1 fields plus any unknown extras."""
        data = self.model_dump(exclude={"override_reason"})
        data.update(self.model_extra or {})
        data.pop("override_reason", None)
        return data


class GateIn(NoteIn):
    """A note for the pre-save gate, with the reviewer/admin escape hatch."""

    override_reason: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Reviewer or admin keys only (a checker key gets 403): let a blocked note through; audited.",
    )


class SpanOut(BaseModel):
    start: int
    end: int


class ElementOut(BaseModel):
    present: bool
    evidence: list[SpanOut]


class FindingOut(BaseModel):
    kind: Literal["prohibited", "pii", "quality", "timeliness"]
    category: str
    start: int | None
    end: int | None
    severity: Literal["error", "warning", "info"]
    rule: str
    confidence: float
    message: str
    policy_ref: str
    fingerprint: str


class ReportOut(BaseModel):
    """The report of CONTRACT §2. Offsets are Python string indices (Unicode code points) into `text`."""

    note_id: str | None
    decision: Literal["allow", "warn", "block"]
    score: int = Field(ge=0, le=100)
    policy: str
    checker_version: str
    elements: dict[str, ElementOut]
    findings: list[FindingOut]


class FieldError(BaseModel):
    field: str | None
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details. `errors` lists the invalid fields of a 400/422; the input is never echoed."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class BlockedOut(ReportOut):
    """422 from /v1/gate when the note is blocked: problem details plus the whole report (findings with offsets)."""

    type: str
    title: str
    status: int
    detail: str


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field(
        min_length=1,
        max_length=1000,
        description="A .jsonl, .csv or .parquet file below the server's scan root, or a database URL with `query`.",
    )
    policy: str = Field("default", min_length=1, max_length=200, description="A built-in policy name.")
    query: str | None = Field(None, min_length=1, max_length=20000, description="SQL, when `input` is a database URL.")
    column_map: dict[str, str] = Field(default_factory=dict, description="Input column -> note field (CONTRACT §1).")
    resume: bool = False


class ScanOut(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed")
    source: str | None = None
    policy: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    total: int | None = None
    processed: int = 0
    flagged: int = 0
    input_errors: int = 0
    error: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok"]
    checker_version: str
    policy: str
