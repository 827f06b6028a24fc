"""Queue filters as they appear in query strings, validated once, and the risk order of findings.

Risk: prohibited before PII before quality before timeliness, then error before warning before info; as one
integer, `kind_rank * 10 + severity_rank` (lower is riskier).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from notecheck.errors import InputError
from notecheck.report import CATEGORIES, KIND_RANK, SEVERITIES

STATUSES = ("open", "confirmed", "dismissed")
VERDICTS = ("confirmed", "dismissed")
FACETS = ("office", "kind", "category", "severity", "staff", "status")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
ALL_CATEGORIES = tuple(c for cats in CATEGORIES.values() for c in cats)


def risk_of(kind: str, severity: str) -> int:
    return KIND_RANK.get(kind, len(KIND_RANK)) * 10 + SEVERITY_RANK.get(severity, len(SEVERITIES))


def risk_label(risk: int) -> tuple[str, str]:
    kinds = {v: k for k, v in KIND_RANK.items()}
    return kinds.get(risk // 10, "other"), SEVERITIES[risk % 10] if risk % 10 < len(SEVERITIES) else "other"


@dataclass(frozen=True)
class Filters:
    """Queue filters as they appear in query strings. `status=None` means every status."""

    office: str | None = None
    kind: str | None = None
    category: str | None = None
    severity: str | None = None
    staff: str | None = None
    status: str | None = "open"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    rule: str | None = None
    note_id: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, default_status: str | None = "open") -> Filters:
        """Validate query parameters; raises InputError naming the parameter and listing the valid choices."""
        values: dict[str, Any] = {}
        for name in ("office", "staff", "rule", "note_id"):
            value = (params.get(name) or "").strip()
            if len(value) > 200:
                raise InputError(f"'{name}' is too long", field=name)
            values[name] = value or None
        for name, choices in (("kind", tuple(CATEGORIES)), ("category", ALL_CATEGORIES), ("severity", SEVERITIES)):
            value = (params.get(name) or "").strip() or None
            if value is not None and value not in choices:
                raise InputError(f"'{name}' must be one of {', '.join(choices)}", field=name)
            values[name] = value
        status = params.get("status")
        if status is None:
            values["status"] = default_status
        elif status in ("", "all"):
            values["status"] = None
        elif status in STATUSES:
            values["status"] = status
        else:
            raise InputError(f"'status' must be one of all, {', '.join(STATUSES)}", field="status")
        for name in ("date_from", "date_to"):
            value = (params.get(name) or "").strip()
            try:
                values[name] = dt.date.fromisoformat(value) if value else None
            except ValueError:
                raise InputError(f"'{name}' is not an ISO date (YYYY-MM-DD)", field=name) from None
        return cls(**values)

    def params(self, **overrides: Any) -> dict[str, str]:
        """The filters as query parameters (status "all" spelled out so the default does not come back)."""
        data = replace(self, **overrides) if overrides else self
        out: dict[str, str] = {}
        for f in fields(data):
            value = getattr(data, f.name)
            if f.name == "status":
                out["status"] = value or "all"
            elif value is not None:
                out[f.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return out

    def query(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))

    def is_default(self) -> bool:
        return self == Filters()


def matches(filters: Filters, finding: Any, status: str) -> bool:
    """Whether one finding (a FindingRow) with this status passes the finding-level filters."""
    for name in ("kind", "category", "severity", "rule"):
        wanted = getattr(filters, name)
        if wanted is not None and getattr(finding, name) != wanted:
            return False
    return filters.status is None or filters.status == status
