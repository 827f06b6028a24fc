"""GET/POST /review/login and POST /review/logout."""

from __future__ import annotations

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.review import sessions
from api.review.context import ReviewContext
from notecheck.store.audit import audit
from notecheck.users import authenticate


def safe_next(target: str | None) -> str:
    """Only a local reviewer path may be the target after logging in (no open redirect)."""
    if target and target.startswith("/review") and not target.startswith("//") and "\\" not in target:
        return target
    return "/review"


def router(ctx: ReviewContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def form_page(
        request: Request, *, status: int = 200, error: str | None = None, username: str = "", target: str | None = None
    ) -> Response:
        token = sessions.login_csrf(request)
        response = ctx.render(
            "login.html",
            status=status,
            login_csrf=token,
            error=error,
            username=username,
            next=safe_next(target or request.query_params.get("next")),
        )
        sessions.set_login_csrf_cookie(response, request, token, ctx.options)
        return response

    @r.get("/review/login")
    def login_form(request: Request) -> Response:
        if ctx.web_session(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return form_page(request)

    @r.post("/review/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
        next: str = Form("/review"),
    ) -> Response:
        username = username.strip()[:200]
        if not sessions.same(csrf_token, request.cookies.get(sessions.LOGIN_CSRF_COOKIE)):
            return form_page(
                request, status=403, error="The form expired. Please sign in again.", username=username, target=next
            )
        ip = sessions.client_address(request)
        options = ctx.options
        with ctx.db.session() as session:
            if sessions.recent_failures(session, username, ip, options) >= options.login_max_failures:
                wait = sessions.retry_after_seconds(session, username, ip, options)
                audit(session, actor=username, actor_type="user", action="review.login_throttled", detail={"ip": ip})
                response = form_page(
                    request,
                    status=429,
                    error=f"Too many failed sign-ins. Try again in {max(1, wait // 60)} minute(s).",
                    username=username,
                    target=next,
                )
                response.headers["Retry-After"] = str(wait)
                return response
            user = authenticate(session, username, password)
            if user is None:
                sessions.record_failure(session, username, ip, options)
                audit(session, actor=username, actor_type="user", action="review.login_failed", detail={"ip": ip})
                failed = True
            else:
                failed = False
                sessions.clear_failures(session, username, ip)
                token, _ = sessions.start_session(session, user, options)
                audit(session, actor=user.username, actor_type="user", action="review.login", detail={"ip": ip})
        if failed:
            return form_page(request, status=401, error="Wrong username or password.", username=username, target=next)
        response = RedirectResponse(safe_next(next), status_code=303)
        sessions.set_session_cookie(response, request, token, options)
        response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/review/login")
        return response

    @r.post("/review/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        web = ctx.web_session(request)
        if web is None:
            return RedirectResponse("/review/login", status_code=303)
        if not sessions.same(csrf_token, web.csrf_token):
            return ctx.render("error.html", status=403, web=web, title="Forbidden", message="The form expired.")
        with ctx.db.session() as session:
            sessions.end_session(session, request.cookies.get(sessions.SESSION_COOKIE))
            audit(session, actor=web.viewer.name, actor_type="user", action="review.logout")
        response = RedirectResponse("/review/login", status_code=303)
        sessions.clear_session_cookie(response, request, ctx.options)
        return response

    return r
