"""The HTTP API: `create_app(checker, settings)` builds it; nothing is read from globals.

    checker = Checker(policy="default")          # loaded once; shared by every request (thread-safe)
    app = create_app(checker, Settings.from_env())
    uvicorn.run(app, host="127.0.0.1", port=8000)

Routes (CONTRACT §5): POST /v1/check, POST /v1/gate, POST /v1/scans, GET /v1/scans/{id}, GET /healthz,
GET /metrics, /openapi.json; the JavaScript gate at /static/notecheck-gate.js and its demo form at /example;
the reviewer queue (/review, /v1/findings) when `api.review` is installed. Checks run on worker threads
(at most `settings.worker_threads` at once) so the event loop keeps answering while notes are checked; the checks
themselves take turns inside spaCy memory zones (api/zone.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response

from api import gate, problems, scans
from api.auth import KeyVerifier, services
from api.metrics import Metrics
from api.middleware import EdgeMiddleware
from api.problems import PROBLEM_JSON
from api.schemas import HealthOut
from api.services import Services
from api.settings import Settings
from api.zone import ZonedChecker
from notecheck._version import __version__
from notecheck.checker import Checker
from notecheck.store.db import Database
from notecheck.store.suppressions import suppressed_fingerprints

log = logging.getLogger("notecheck.api")
STATIC = {
    "notecheck-gate.js": "text/javascript; charset=utf-8",
    "notecheck-gate.css": "text/css; charset=utf-8",
    "example.js": "text/javascript; charset=utf-8",
    "example.css": "text/css; charset=utf-8",
}
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    checker: Checker,
    settings: Settings,
    *,
    db: Database | None = None,
    scan_runner: scans.ScanRunner | None = None,
) -> FastAPI:
    """Build the app around a loaded Checker. `db` and `scan_runner` may be injected (tests, embedding).

    Every front end gets the checker wrapped in a ZonedChecker (api/zone.py): one check at a time, each in a spaCy
    memory zone, so the process does not grow with every new word it is sent.
    """
    checker = ZonedChecker(checker)  # type: ignore[assignment]
    database = db or Database(settings.db_url)
    if hasattr(checker.unwrapped, "set_suppressed"):  # the agency suppression list, kept current by reviews
        checker.set_suppressed(suppressed_fingerprints(database))
    svc = Services(
        checker=checker,
        settings=settings,
        db=database,
        keys=KeyVerifier(database, ttl=settings.key_cache_seconds, size=settings.key_cache_size),
        metrics=Metrics(),
    )
    svc.scans = scans.ScanJobs(database, scan_runner or scans.default_runner, max_running=settings.max_running_scans)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        review = getattr(app.state, "review", None)
        if review is not None:  # build the reviewer queue's index now, not on the first reviewer's request
            threading.Thread(target=review.warm_queue, name="review-queue-warmup", daemon=True).start()
        yield
        if db is None:  # ours to close
            database.dispose()

    app = FastAPI(
        title="notecheck",
        version=__version__,
        summary="Checks case notes for prohibited content, PII, required elements, quality and timeliness.",
        openapi_url="/openapi.json",
        docs_url=None,  # Swagger UI would load its assets from a CDN; the schema is at /openapi.json
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.notecheck = svc
    problems.install(app)
    app.include_router(gate.router)
    app.include_router(scans.router)
    _add_service_routes(app, settings)
    _mount_review(app, database, settings, checker)
    app.add_middleware(EdgeMiddleware, services=svc, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _add_service_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/healthz", tags=["service"], summary="Liveness", response_model=HealthOut)
    async def healthz(request: Request) -> JSONResponse:
        svc = services(request)
        return JSONResponse(
            {"status": "ok", "checker_version": __version__, "policy": svc.checker.policy.name},
            headers={"Cache-Control": "no-store"},
        )

    @app.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics."}},
    )
    async def metrics(request: Request) -> Response:
        svc = services(request)
        return Response(svc.metrics.render(), media_type=svc.metrics.content_type)

    files = {name: (resources.files("api") / "static" / name).read_bytes() for name in STATIC}

    def static_route(name: str) -> None:
        async def serve() -> Response:
            headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
            return Response(files[name], media_type=STATIC[name], headers=headers)

        app.add_api_route(f"/static/{name}", serve, methods=["GET"], include_in_schema=False)

    for name in STATIC:
        static_route(name)

    if settings.example_page:
        page = (resources.files("api") / "static" / "example.html").read_bytes()

        @app.get("/example", include_in_schema=False)
        async def example() -> Response:
            return Response(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def _mount_review(app: FastAPI, db: Database, settings: Settings, checker: Checker) -> None:
    """Mount the reviewer queue (api/review, another front end) when it is installed."""
    try:
        from api.review import mount
    except ModuleNotFoundError as exc:
        if exc.name not in ("api.review",):
            raise
        return
    except ImportError:  # api/review exists but has no mount() yet
        log.warning("api.review has no mount(); the reviewer queue is not served")
        return
    mount(app, db=db, settings=settings, checker=checker)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every 4xx/5xx filed under application/problem+json and its stock 422 model removed."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes, description=app.description
    )
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if "requestBody" in operation:  # the app-wide answers to any body: malformed JSON, over the byte cap
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", {"description": problems.DESCRIPTIONS[400], "content": problem})
                responses.setdefault("413", {"description": problems.DESCRIPTIONS[413], "content": problem})
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[:1] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    components = schema.get("components", {}).get("schemas", {})
    for stock in ("HTTPValidationError", "ValidationError"):
        components.pop(stock, None)
    app.openapi_schema = schema
    return schema
