"""POST /v1/check (a report, nothing stored) and POST /v1/gate (the pre-save gate).

The gate answers 200 with the report for `allow` and `warn`, and 422 problem+json carrying the report for `block`.
A blocked note is recorded under the scan id `gate` (so reviewers see it) and audited as `gate.block` in the same
transaction; if that write fails the answer is 503, never a 200. A reviewer or admin key may pass
`override_reason` to let a blocked note through: 200 with the report, recorded, and audited as `gate.override`.
A checker key passing `override_reason` gets 403.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from api.auth import Principal, require_office, require_role, services
from api.problems import PROBLEM_JSON, Problem, documented, problem_body
from api.schemas import BlockedOut, GateIn, NoteIn, ProblemOut, ReportOut
from api.services import Services, encodable
from notecheck.note import Note
from notecheck.report import Report
from notecheck.store.audit import audit
from notecheck.store.results import GATE_SCAN_ID, ensure_scan, record_report

log = logging.getLogger("notecheck.api")
router = APIRouter(tags=["check"])

COMMON = (400, 401, 403, 413, 422)


def _report_response(report: Report) -> JSONResponse:
    return JSONResponse(report.to_dict())


@router.post(
    "/v1/check",
    summary="Check a note",
    description="Returns the report (CONTRACT §2). Stores nothing.",
    responses={200: {"model": ReportOut, "description": "The report."}, **documented(*COMMON)},
)
async def check(
    body: NoteIn, request: Request, principal: Principal = Depends(require_role("checker", "reviewer"))
) -> JSONResponse:
    svc: Services = services(request)
    note = svc.to_note(body)
    require_office(principal, [note.office])
    report, seconds = await svc.run(_timed_check, svc, note)
    svc.metrics.observe_report("/v1/check", report, seconds)
    return _report_response(report)


@router.post(
    "/v1/gate",
    summary="Pre-save gate",
    description=(
        "200 with the report when the note may be saved (`allow`, `warn`); 422 problem+json with the report's "
        "findings when it must not (`block`). Blocked notes are recorded for reviewers and audited. "
        "`override_reason` (reviewer or admin keys only) lets a blocked note through and is audited."
    ),
    responses={
        200: {"model": ReportOut, "description": "The note may be saved; the report (warnings included)."},
        **documented(*COMMON, 503, d503="A blocked note could not be recorded; it must not be saved."),
        422: {
            "model": BlockedOut | ProblemOut,
            "description": "Blocked (problem details plus the report and its findings), or a field is invalid.",
        },
    },
)
async def gate(
    body: GateIn, request: Request, principal: Principal = Depends(require_role("checker", "reviewer"))
) -> JSONResponse:
    svc: Services = services(request)
    reason = body.override_reason
    if reason is not None:
        if not principal.has_role("reviewer"):
            raise Problem(403, "Only reviewer or admin keys may override the gate.")
        reason = reason.strip()
        problem = "must not be blank" if not reason else None if encodable(reason) else "not valid Unicode"
        if problem:
            raise Problem(422, "1 field is invalid", errors=[{"field": "override_reason", "message": problem}])
    note = svc.to_note(body)
    require_office(principal, [note.office])
    report, seconds = await svc.run(_gate_work, svc, note, principal, reason)
    svc.metrics.observe_report("/v1/gate", report, seconds)
    if report.decision != "block":
        return _report_response(report)
    if reason is not None:
        svc.metrics.gate_overrides.inc()
        return _report_response(report)
    svc.metrics.gate_blocks.inc()
    return JSONResponse(blocked_body(report), status_code=422, media_type=PROBLEM_JSON)


def blocked_body(report: Report) -> dict[str, Any]:
    """Problem details for a blocked note, merged with the report (its findings carry offsets, never text)."""
    blocking = report.blocking()
    categories = sorted({f.category for f in blocking})
    detail = (
        f"The note has {len(blocking)} finding{'s' if len(blocking) != 1 else ''} that must be fixed before it is "
        f"saved ({', '.join(categories)})."
    )
    return {**problem_body(422, detail, slug="note-blocked", title="Note blocked"), **report.to_dict()}


def _timed_check(svc: Services, note: Note) -> tuple[Report, float]:
    started = time.perf_counter()
    report = svc.checker.check_note(note)
    return report, time.perf_counter() - started


def _gate_work(svc: Services, note: Note, principal: Principal, reason: str | None) -> tuple[Report, float]:
    report, seconds = _timed_check(svc, note)
    if report.decision == "block":
        try:
            _record(svc, note, report, principal, reason)
        except SQLAlchemyError as exc:
            log.error("could not record a gate block (%s)", type(exc).__name__)
            raise Problem(503, "The blocked note could not be recorded; do not save it. Try again shortly.") from None
    return report, seconds


def _record(svc: Services, note: Note, report: Report, principal: Principal, reason: str | None) -> None:
    """Record the blocked note for reviewers and append the audit event, in one transaction (retried once)."""
    blocking = report.blocking()
    detail: dict[str, Any] = {
        "decision": report.decision,
        "policy": report.policy,
        "checker_version": report.checker_version,
        "categories": sorted({f.category for f in blocking}),
        "rules": sorted({f.rule for f in blocking}),
    }
    if reason is not None:
        detail["reason"] = reason
    for attempt in (1, 2):
        try:
            with svc.db.session() as session:
                ensure_scan(
                    session,
                    GATE_SCAN_ID,
                    source="gate",
                    policy=report.policy,
                    checker_version=report.checker_version,
                )
                row = record_report(session, GATE_SCAN_ID, note, report)
                session.flush()
                audit(
                    session,
                    actor=principal.name,
                    actor_type=principal.kind,
                    action="gate.override" if reason is not None else "gate.block",
                    note_id=row.note_id,
                    office=note.office,
                    fingerprints=[f.fingerprint for f in blocking],
                    detail=detail,
                )
            return
        except IntegrityError:
            if attempt == 2:  # two gate calls raced on the same note id or on creating the gate scan
                raise
