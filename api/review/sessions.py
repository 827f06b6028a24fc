"""Web logins: server-side sessions, CSRF tokens and the login rate limit.

- The session cookie holds a random token; the database keeps only its SHA-256, so a copy of the database cannot
  be replayed as a cookie. Logging out deletes the row. Cookies are HttpOnly, SameSite=Lax, and Secure when the
  request came over TLS (the URL scheme, `X-Forwarded-Proto: https`, or `ReviewOptions.cookie_secure`).
- Every session has its own CSRF token; every POST must carry it (form field `csrf_token` or header
  `X-CSRF-Token`). The login form, before there is a session, uses a double-submit cookie.
- Failed logins are counted per (username, client address) in the database, so every worker sees them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from api.review.options import ReviewOptions
from api.review.scope import Viewer
from api.review.tables import login_failures, review_sessions
from notecheck.store.models import User, utcnow

SESSION_COOKIE = "notecheck_review"
LOGIN_CSRF_COOKIE = "notecheck_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def is_https(request: Request, options: ReviewOptions) -> bool:
    if options.cookie_secure is not None:
        return options.cookie_secure
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def client_address(request: Request) -> str:
    """The peer address (uvicorn already applies X-Forwarded-For from its trusted proxies)."""
    return (request.client.host if request.client else "") or "unknown"


@dataclass(frozen=True)
class WebSession:
    viewer: Viewer
    csrf_token: str
    session_id: str


def start_session(session: Session, user: User, options: ReviewOptions) -> tuple[str, str]:
    """A new session row; returns (cookie token, csrf token). Expired rows are swept on the way."""
    now = utcnow()
    session.execute(delete(review_sessions).where(review_sessions.c.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.execute(
        insert(review_sessions).values(
            id=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=options.session_hours),
        )
    )
    return token, csrf


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(review_sessions).where(review_sessions.c.id == _digest(token)))


def load_session(session: Session, token: str | None, options: ReviewOptions) -> WebSession | None:
    """The live session behind a cookie token (enabled user, not expired, not idle too long), else None."""
    if not token or len(token) > 200:
        return None
    sid = _digest(token)
    row = session.execute(
        select(review_sessions, User.username, User.role, User.offices, User.disabled_at)
        .join(User, User.id == review_sessions.c.user_id)
        .where(review_sessions.c.id == sid)
    ).first()
    now = utcnow()
    if row is None:
        return None
    idle = dt.timedelta(minutes=options.idle_minutes)
    if row.disabled_at is not None or row.expires_at <= now or row.last_seen_at + idle <= now:
        session.execute(delete(review_sessions).where(review_sessions.c.id == sid))
        return None
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        session.execute(update(review_sessions).where(review_sessions.c.id == sid).values(last_seen_at=now))
    viewer = Viewer(row.username, row.role, tuple(row.offices or ()), "user", row.user_id)
    return WebSession(viewer, row.csrf_token, sid)


def set_session_cookie(response: Response, request: Request, token: str, options: ReviewOptions) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(options.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, options),
    )


def clear_session_cookie(response: Response, request: Request, options: ReviewOptions) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request, options))


def login_csrf(request: Request) -> str:
    """The login form's double-submit token: the one in the cookie, or a fresh one (set it on the response)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, request: Request, token: str, options: ReviewOptions) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/review/login",
        httponly=True,
        samesite="strict",
        secure=is_https(request, options),
    )


# -- the login rate limit -----------------------------------------------------------------------------------------
def _key(username: str) -> str:
    return username.strip().lower()[:200]


def recent_failures(session: Session, username: str, ip: str, options: ReviewOptions) -> int:
    since = utcnow() - dt.timedelta(minutes=options.login_window_minutes)
    return (
        session.scalar(
            select(func.count())
            .select_from(login_failures)
            .where(login_failures.c.username == _key(username), login_failures.c.ip == ip[:64])
            .where(login_failures.c.at > since)
        )
        or 0
    )


def retry_after_seconds(session: Session, username: str, ip: str, options: ReviewOptions) -> int:
    """Seconds until the oldest failure in the window expires (when the next attempt may be allowed)."""
    window = dt.timedelta(minutes=options.login_window_minutes)
    since = utcnow() - window
    rows = session.scalars(
        select(login_failures.c.at)
        .where(login_failures.c.username == _key(username), login_failures.c.ip == ip[:64])
        .where(login_failures.c.at > since)
        .order_by(login_failures.c.at.desc())
        .limit(options.login_max_failures)
    ).all()
    if not rows:
        return 0
    return max(1, int((rows[-1] + window - utcnow()).total_seconds()) + 1)


def record_failure(session: Session, username: str, ip: str, options: ReviewOptions) -> None:
    now = utcnow()
    old = now - dt.timedelta(minutes=options.login_window_minutes)
    session.execute(delete(login_failures).where(login_failures.c.at < old))
    session.execute(insert(login_failures).values(username=_key(username), ip=ip[:64], at=now))


def clear_failures(session: Session, username: str, ip: str) -> None:
    session.execute(
        delete(login_failures).where(login_failures.c.username == _key(username), login_failures.c.ip == ip[:64])
    )
