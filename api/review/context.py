"""What every reviewer route shares: the database, the queue index, the evidence cache, templates and assets.

One `ReviewContext` per app, built by `mount()`; nothing global.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.review import sessions
from api.review.noteview import EvidenceCache
from api.review.options import ReviewOptions
from api.review.queue_index import Queue
from api.review.sessions import WebSession
from notecheck._version import __version__
from notecheck.store.db import Database

logger = logging.getLogger("notecheck.review")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages carry note text or names; never cached
    "X-Frame-Options": "DENY",
}


def _date(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _datetime(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else ""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("api.review", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date=_date, datetime=_datetime, percent=_percent)
    env.globals.update(version=__version__)
    return env


def static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("api.review") / "static"
    out = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if suffix in STATIC_TYPES:
            out[item.name] = (item.read_bytes(), STATIC_TYPES[suffix])
    return out


@dataclass
class ReviewContext:
    db: Database
    settings: Any
    checker: Any
    options: ReviewOptions
    queue: Queue = field(default_factory=Queue)
    env: Environment = field(default_factory=templates)
    static: dict[str, tuple[bytes, str]] = field(default_factory=static_files)
    evidence: EvidenceCache = field(init=False)

    def __post_init__(self) -> None:
        self.evidence = EvidenceCache(self.checker)

    def warm_queue(self) -> None:
        """Build the queue index before the first reviewer asks (about 2 s with 50,000 findings), off the loop.

        Best effort: if it fails, the first queue request builds the index as before.
        """
        try:
            with self.db.session() as session:
                self.queue.view(session)
        except Exception as exc:  # noqa: BLE001 - a warm-up must never take the server down
            logger.info("review queue warm-up skipped (%s)", exc.__class__.__name__)

    # -- sessions --------------------------------------------------------------------------------------------------
    def web_session(self, request: Request) -> WebSession | None:
        token = request.cookies.get(sessions.SESSION_COOKIE)
        if not token:
            return None
        with self.db.session() as session:
            return sessions.load_session(session, token, self.options)

    def login_redirect(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/review/login?next={quote(target, safe='')}", status_code=303)

    # -- rendering ---------------------------------------------------------------------------------------------------
    def render(self, name: str, *, status: int = 200, web: WebSession | None = None, **values: Any) -> HTMLResponse:
        values.setdefault("viewer", web.viewer if web else None)
        values.setdefault("csrf_token", web.csrf_token if web else "")
        values.setdefault("flash", None)
        html = self.env.get_template(name).render(**values)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def not_found(self, web: WebSession | None) -> HTMLResponse:
        """The same page for "no such note" and "a note of another office": nothing is revealed."""
        return self.render("error.html", status=404, web=web, title="Not found", message="There is no such note.")

    def static_response(self, name: str) -> Response:
        found = self.static.get(name)
        if found is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        body, media_type = found
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return Response(body, media_type=media_type, headers=headers)
