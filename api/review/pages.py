"""The reviewer's pages: the queue (/review), a note (/review/notes/{pk}), verdicts, bulk actions, rule quality.

Every page needs a web session (else a redirect to the login form); every POST needs the session's CSRF token.
A note of an office the reviewer does not hold answers 404, exactly like a note that does not exist.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Form, Path, Query
from sqlalchemy import and_, or_, select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.review import sessions, verdicts
from api.review.context import ReviewContext
from api.review.filters import STATUSES, Filters, matches, risk_of
from api.review.noteview import elements, highlighted, redaction, segments
from api.review.sessions import WebSession
from notecheck.errors import InputError
from notecheck.report import CATEGORIES, SEVERITIES
from notecheck.store.audit import audit
from notecheck.store.models import NoteResult

MAX_ROW_ID = 2**63 - 1  # ids past a 64-bit integer cannot exist; refusing them keeps databases from erroring
MAX_PAGE = 10**6

N = NoteResult.__table__


def _filters(params: Any) -> tuple[Filters, str | None]:
    try:
        return Filters.from_params(params), None
    except InputError as exc:
        return Filters(), str(exc)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _problem(status: int, detail: str, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"title": detail, "status": status, "detail": detail}
    if field:
        body["errors"] = [{"field": field, "message": detail}]
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def select_options(name: str, facets: dict[str, dict[str, int]], filters: Filters) -> list[tuple[str, str, int]]:
    """(value, label, count) for one filter's <select>; the current value is always offered."""
    counts = facets.get(name, {})
    chosen = getattr(filters, name)
    if name == "kind":
        values = list(CATEGORIES)
    elif name == "severity":
        values = list(SEVERITIES)
    elif name == "category":
        pool = CATEGORIES[filters.kind] if filters.kind else [c for cats in CATEGORIES.values() for c in cats]
        values = [c for c in pool if counts.get(c) or c == chosen]
    else:
        values = sorted(v for v in counts if v)
    if chosen and chosen not in values:
        values.append(chosen)
    return [(v, v.replace("_", " ") if name in ("kind", "category") else v, counts.get(v, 0)) for v in values]


def router(ctx: ReviewContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/review/static/{name}")
    def static(name: str) -> Response:
        return ctx.static_response(name)

    @r.get("/review")
    def queue(request: Request, page: int = Query(1, ge=1, le=MAX_PAGE)) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return ctx.login_redirect(request)
        filters, problem = _filters(request.query_params)
        viewer = web.viewer
        with ctx.db.session() as session:
            view = ctx.queue.view(session)
        facets = view.facets(filters, viewer)
        all_count = view.count_notes(replace(filters, status=None), viewer)
        result = view.page(filters, viewer, page=page, per_page=ctx.options.page_size)
        pages = max(1, math.ceil(result.total_notes / ctx.options.page_size))
        done = request.query_params.get("done")
        flash = problem or (f"{done} finding(s) updated." if done and done.isdigit() else None)
        return ctx.render(
            "queue.html",
            web=web,
            filters=filters,
            facets=facets,
            options={
                name: select_options(name, facets, filters)
                for name in ("office", "kind", "category", "severity", "staff")
            },
            status_options=[("all", "all", all_count)] + [(s, s, facets["status"].get(s, 0)) for s in STATUSES],
            result=result,
            page=min(max(page, 1), pages),
            pages=pages,
            flash=flash,
            reasons=verdicts.REASONS,
        )

    def note_view(
        web: WebSession, pk: int, filters: Filters, *, flash: str | None = None, status: int = 200
    ) -> Response:
        viewer = web.viewer
        with ctx.db.session() as session:
            note = session.get(NoteResult, pk)
            if note is None or not viewer.may_see(note.office):
                return ctx.not_found(web)
            rows = verdicts.findings_of_note(session, pk)
            rows.sort(key=lambda f: (risk_of(f.kind, f.severity), -1 if f.start is None else f.start, f.id))
            decided = verdicts.verdicts_for(session, note.note_id, [f.fingerprint for f in rows])
            suppressed = verdicts.suppressed(session, [f.fingerprint for f in rows])
            newer = session.scalar(
                select(N.c.id)
                .where(N.c.note_id == note.note_id)
                .where(or_(N.c.checked_at > note.checked_at, and_(N.c.checked_at == note.checked_at, N.c.id > pk)))
                .limit(1)
            )
            risk = ctx.queue.view(session).note_risk(filters, viewer, pk)
            audit(
                session,
                actor=viewer.name,
                actor_type=viewer.kind,
                action="review.note_viewed",
                note_id=note.note_id,
                office=note.office,
                fingerprints=[f.fingerprint for f in rows],
                detail={"note_pk": pk, "scan_id": note.scan_id},
            )
        evidence = ctx.evidence.get(note)
        text = note.text or ""
        findings = []
        for f in rows:
            v = decided.get(f.fingerprint)
            quote = text[f.start : f.end] if f.start is not None and f.end is not None else None
            findings.append(
                {"row": f, "quote": quote, "verdict": v, "status": v.verdict if v else "open",
                 "suppressed": f.fingerprint in suppressed}
            )  # fmt: skip
        dismissed = {
            f.fingerprint for f in rows if decided.get(f.fingerprint) and decided[f.fingerprint].verdict == "dismissed"
        }
        q = filters.query()
        return ctx.render(
            "note.html",
            status=status,
            web=web,
            note=note,
            body=highlighted(text, segments(text, rows, evidence)) if note.text else None,
            findings=findings,
            open_count=sum(1 for f in findings if f["status"] == "open"),
            elements=elements(note, evidence),
            redacted=redaction(note, rows, dismissed),
            newer=newer,
            filters=filters,
            q=q,
            risk="" if risk is None else str(risk),
            flash=flash,
            reasons=verdicts.REASONS,
        )

    @r.get("/review/notes/{pk}")
    def note(request: Request, pk: int = Path(..., ge=1, le=MAX_ROW_ID)) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return ctx.login_redirect(request)
        filters, problem = _filters(request.query_params)
        return note_view(web, pk, filters, flash=problem)

    @r.get("/review/notes/{pk}/next")
    @r.get("/review/notes/{pk}/prev")
    def step(request: Request, pk: int = Path(..., ge=1, le=MAX_ROW_ID)) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return ctx.login_redirect(request)
        filters, _ = _filters(request.query_params)
        risk_param = request.query_params.get("risk", "")
        risk = int(risk_param) if risk_param.isdigit() and len(risk_param) < 6 else None
        forward = request.url.path.endswith("/next")
        with ctx.db.session() as session:
            target = ctx.queue.view(session).neighbour(filters, web.viewer, pk, risk, forward=forward)
        if target is None:
            return RedirectResponse(f"/review?{filters.query()}&end={'last' if forward else 'first'}", status_code=303)
        return RedirectResponse(f"/review/notes/{target}?{filters.query()}", status_code=303)

    @r.post("/review/notes/{pk}/verdicts")
    def decide(
        request: Request,
        pk: int,
        finding: list[int] = Form(default=[]),
        verdict: str = Form(""),
        reason_code: str = Form(""),
        reason: str = Form(""),
        suppress: str = Form(""),
        scope: str = Form(""),
        q: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        as_json = _wants_json(request)
        web = ctx.web_session(request)
        if web is None:
            return _problem(401, "Sign in first.") if as_json else ctx.login_redirect(request)
        if not sessions.same(csrf_token or request.headers.get(sessions.CSRF_HEADER), web.csrf_token):
            if as_json:
                return _problem(403, "Missing or wrong CSRF token.")
            return ctx.render(
                "error.html", status=403, web=web, title="Forbidden", message="The form expired; reload the page."
            )
        filters, _ = _filters(_parse_q(q))
        viewer = web.viewer
        with ctx.db.session() as session:
            note = session.get(NoteResult, pk)
            if note is None or not viewer.may_see(note.office):
                return _problem(404, "There is no such note.") if as_json else ctx.not_found(web)
            rows = verdicts.findings_of_note(session, pk)
            decided = verdicts.verdicts_for(session, note.note_id, [f.fingerprint for f in rows])
            if scope == "open":
                chosen = [f for f in rows if f.fingerprint not in decided]
            else:
                wanted = set(finding)
                chosen = [f for f in rows if f.id in wanted]
            try:
                if not chosen:
                    raise InputError("choose at least one open finding of this note", field="finding")
                if verdict == "reopen":
                    result = verdicts.reopen(session, viewer, chosen)
                else:
                    text, code = verdicts.resolve_reason(verdict, reason_code, reason)
                    if suppress and not viewer.is_admin:
                        raise InputError("only an admin can add to the agency suppression list", field="suppress")
                    result = verdicts.record(
                        session, viewer, chosen, verdict, reason=text, reason_code=code,
                        suppress=bool(suppress) and verdict == "dismissed", bulk=len(chosen) > 1,
                    )  # fmt: skip
                    if suppress and verdict == "dismissed":
                        ctx.checker.add_suppressed(f.fingerprint for f in chosen)
            except InputError as exc:
                session.rollback()
                if as_json:
                    return _problem(422, str(exc), exc.field)
                return note_view(web, pk, filters, flash=str(exc), status=422)
            touched = {f.fingerprint for f in chosen}
            now_decided = set(decided) - touched if verdict == "reopen" else set(decided) | touched
            left = len({f.fingerprint for f in rows} - now_decided)
        if as_json:
            return JSONResponse(
                {
                    "findings": [
                        {"id": d.finding_id, "status": d.verdict or "open", "reason": d.reason, "reviewer": d.reviewer}
                        for d in result
                    ],
                    "open": left,
                }
            )
        anchor = f"#f{chosen[0].id}" if len(chosen) == 1 else ""
        return RedirectResponse(f"/review/notes/{pk}?{filters.query()}{anchor}", status_code=303)

    @r.post("/review/bulk")
    def bulk(
        request: Request,
        note: list[int] = Form(default=[]),
        verdict: str = Form(""),
        reason_code: str = Form(""),
        reason: str = Form(""),
        q: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return ctx.login_redirect(request)
        if not sessions.same(csrf_token, web.csrf_token):
            return ctx.render(
                "error.html", status=403, web=web, title="Forbidden", message="The form expired; reload the page."
            )
        filters, _ = _filters(_parse_q(q))
        viewer = web.viewer
        try:
            text, code = verdicts.resolve_reason(verdict, reason_code, reason)
            if not note:
                raise InputError("select at least one note", field="note")
        except InputError as exc:
            return RedirectResponse(f"/review?{filters.query()}&error={exc.field}", status_code=303)
        changed = 0
        with ctx.db.session() as session:
            for pk in dict.fromkeys(note):
                row = session.get(NoteResult, pk)
                if row is None or not viewer.may_see(row.office):
                    continue
                rows = verdicts.findings_of_note(session, pk)
                decided = verdicts.verdicts_for(session, row.note_id, [f.fingerprint for f in rows])
                chosen = [
                    f for f in rows
                    if matches(filters, f, decided[f.fingerprint].verdict if f.fingerprint in decided else "open")
                ]  # fmt: skip
                if chosen:
                    verdicts.record(session, viewer, chosen, verdict, reason=text, reason_code=code, bulk=True)
                    changed += len(chosen)
        return RedirectResponse(f"/review?{filters.query()}&done={changed}", status_code=303)

    @r.get("/review/rules")
    def rules(request: Request) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return ctx.login_redirect(request)
        with ctx.db.session() as session:
            by_rule, by_category = verdicts.precision(session, web.viewer)
            open_by_rule = ctx.queue.view(session).findings_by(Filters(), web.viewer, "rule")
        return ctx.render(
            "rules.html", web=web, by_rule=by_rule, by_category=by_category, open_by_rule=open_by_rule, Filters=Filters
        )

    return r


def _parse_q(q: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(q[:2000], keep_blank_values=True))
