"""CONTRACT §5: GET /v1/findings (the triage queue as JSON) and POST /v1/findings/{id}/review (a verdict).

Reviewer or admin API keys (`Authorization: Bearer <key>`, via api.auth). A reviewer key sees its offices only;
asking for another office's findings, or reviewing one, is 403 as the contract says (the web UI answers 404 instead,
so that a person browsing cannot learn which notes exist). The note text is never returned: offsets point into it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, select

from api.review import verdicts
from api.review.context import ReviewContext
from api.review.filters import STATUSES, Filters
from api.review.queue import ordered
from api.review.scope import Viewer
from notecheck.errors import InputError
from notecheck.store.models import FindingRow, NoteResult, Verdict


class VerdictOut(BaseModel):
    verdict: Literal["confirmed", "dismissed"]
    reason: str | None = None
    reviewer: str
    decided_at: dt.datetime


class FindingOut(BaseModel):
    id: int = Field(description="Finding row id; a rescan makes new rows, but verdicts follow (note_id, fingerprint).")
    note_id: str
    scan_id: str
    office: str | None = None
    staff: str | None = None
    contact_date: dt.date | None = None
    kind: str
    category: str
    rule: str
    severity: str
    start: int | None = None
    end: int | None = None
    confidence: float
    message: str
    policy_ref: str
    fingerprint: str
    status: Literal["open", "confirmed", "dismissed"]
    verdict: VerdictOut | None = None
    review_url: str = Field(description="The note in the reviewer web UI.")


class FindingsPage(BaseModel):
    total: int = Field(description="Findings matching the filters.")
    limit: int
    offset: int
    counts: dict[str, dict[str, int]] = Field(description="Findings per value of each filter, the others applied.")
    findings: list[FindingOut]


class ReviewIn(BaseModel):
    verdict: Literal["confirmed", "dismissed"]
    reason: str | None = Field(None, max_length=verdicts.MAX_REASON_CHARS, description="Required when dismissing.")
    reason_code: str | None = Field(None, max_length=40, description="One of the listed reasons, or 'other'.")
    suppress: bool = Field(False, description="Admins only: also add the fingerprint to the agency suppression list.")


def _out(f: FindingRow, contact_date: Any, v: Verdict | None) -> FindingOut:
    return FindingOut(
        id=f.id,
        note_id=f.note_id,
        scan_id=f.scan_id,
        office=f.office,
        staff=f.staff,
        contact_date=contact_date.date() if isinstance(contact_date, dt.datetime) else contact_date,
        kind=f.kind,
        category=f.category,
        rule=f.rule,
        severity=f.severity,
        start=f.start,
        end=f.end,
        confidence=round(float(f.confidence), 3),
        message=f.message,
        policy_ref=f.policy_ref,
        fingerprint=f.fingerprint,
        status=v.verdict if v else "open",  # type: ignore[arg-type]
        verdict=VerdictOut(verdict=v.verdict, reason=v.reason, reviewer=v.reviewer, decided_at=v.decided_at)  # type: ignore[arg-type]
        if v
        else None,
        review_url=f"/review/notes/{f.note_pk}",
    )


def router(ctx: ReviewContext) -> APIRouter:
    from api.auth import require_role
    from api.problems import Problem, documented

    r = APIRouter(tags=["review"])
    reviewer = require_role("reviewer")

    @r.get(
        "/v1/findings",
        response_model=FindingsPage,
        summary="The triage queue: findings of flagged notes, riskiest first",
        responses=documented(401, 403, 422),
    )
    def list_findings(
        principal: Any = Depends(reviewer),
        office: str | None = Query(None, max_length=200),
        kind: str | None = Query(None, description="prohibited, pii, quality or timeliness"),
        category: str | None = Query(None),
        severity: str | None = Query(None, description="error, warning or info"),
        staff: str | None = Query(None, max_length=200),
        status: str = Query("open", description=f"all, {', '.join(STATUSES)}"),
        date_from: dt.date | None = Query(None, description="contact date on or after"),
        date_to: dt.date | None = Query(None, description="contact date on or before"),
        rule: str | None = Query(None, max_length=200),
        note_id: str | None = Query(None, max_length=200),
        limit: int = Query(100, ge=1, le=500),
        offset: int = Query(0, ge=0, le=2**31 - 1),
    ) -> FindingsPage:
        viewer = Viewer.from_principal(principal)
        params = {
            "office": office, "kind": kind, "category": category, "severity": severity, "staff": staff,
            "status": status, "rule": rule, "note_id": note_id,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
        }  # fmt: skip
        try:
            filters = Filters.from_params({k: v for k, v in params.items() if v is not None})
        except InputError as exc:
            raise Problem(422, "1 field is invalid", errors=[{"field": exc.field, "message": str(exc)}]) from None
        if office is not None and not viewer.may_see(office):
            raise Problem(403, "This key is not allowed for that office.")
        with ctx.db.session() as session:
            view = ctx.queue.view(session)
            ids, total = view.finding_ids(filters, viewer, limit=limit, offset=offset)
            counts = view.facets(filters, viewer, per="finding")
            rows = session.execute(
                select(FindingRow, NoteResult.contact_date, Verdict)
                .join(NoteResult, NoteResult.id == FindingRow.note_pk)
                .outerjoin(
                    Verdict,
                    and_(Verdict.note_id == FindingRow.note_id, Verdict.fingerprint == FindingRow.fingerprint),
                )
                .where(FindingRow.id.in_(ids))
            ).all()
        by_id = {f.id: _out(f, contact, v) for f, contact, v in rows}
        return FindingsPage(
            total=total, limit=limit, offset=offset, counts=counts, findings=ordered(list(by_id.values()), ids)
        )

    @r.post(
        "/v1/findings/{finding_id}/review",
        response_model=FindingOut,
        summary="Confirm or dismiss one finding (the verdict sticks across rescans)",
        responses=documented(401, 403, 404, 422),
    )
    def review(
        body: ReviewIn,
        finding_id: int = Path(..., ge=1, le=2**63 - 1),
        principal: Any = Depends(reviewer),
    ) -> FindingOut:
        viewer = Viewer.from_principal(principal)
        with ctx.db.session() as session:
            found = session.execute(
                select(FindingRow, NoteResult.contact_date)
                .join(NoteResult, NoteResult.id == FindingRow.note_pk)
                .where(FindingRow.id == finding_id)
            ).first()
            if found is None:
                raise Problem(404, "No finding with this id.")
            finding, contact_date = found
            if not viewer.may_see(finding.office):
                raise Problem(403, "This key is not allowed for the note's office.")
            if body.suppress and not viewer.is_admin:
                raise Problem(403, "Only an admin key can add to the agency suppression list.")
            try:
                reason, code = verdicts.resolve_reason(body.verdict, body.reason_code, body.reason)
            except InputError as exc:
                raise Problem(422, "1 field is invalid", errors=[{"field": exc.field, "message": str(exc)}]) from None
            verdicts.record(
                session, viewer, [finding], body.verdict, reason=reason, reason_code=code,
                suppress=body.suppress and body.verdict == "dismissed",
            )  # fmt: skip
            if body.suppress and body.verdict == "dismissed":
                ctx.checker.add_suppressed([finding.fingerprint])
            v = verdicts.verdicts_for(session, finding.note_id, [finding.fingerprint]).get(finding.fingerprint)
            return _out(finding, contact_date, v)

    return r
