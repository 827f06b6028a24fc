"""RFC 9457 problem details: every 4xx and 5xx the API returns is `application/problem+json`.

    {"type": "https://notecheck.dev/problems/validation", "title": "Invalid request body", "status": 422,
     "detail": "1 field is invalid", "errors": [{"field": "text", "message": "Input should be a valid string"}]}

Nothing here echoes the request: pydantic's `input` (the offending value) and `ctx` are dropped from validation
errors, and unexpected exceptions become a bare 500 whose log line names the exception type only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from notecheck.errors import InputError

log = logging.getLogger("notecheck.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://notecheck.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    500: "internal",
    503: "unavailable",
}


DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No API key, or a key that is not valid.",
    403: "The key's role or offices do not allow this.",
    404: "No such resource.",
    409: "Conflict with the current state.",
    413: "The body or the note text is over the size limit.",
    422: "A field is invalid; `errors` names it.",
    503: "Temporarily unavailable.",
}


def documented(*codes: int, **overrides: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem statuses (create_app's openapi() files them as problem+json).

    `overrides` replace a description: `documented(401, 404, d404="No scan with this id.")`.
    """
    from api.schemas import ProblemOut

    return {
        code: {"model": ProblemOut, "description": overrides.get(f"d{code}", DESCRIPTIONS.get(code, "Problem."))}
        for code in codes
    }


class Problem(Exception):
    """Raise from a route or dependency to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        slug: str | None = None,
        errors: list[dict[str, str | None]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.status, self.detail, self.title, self.slug = status, detail, title, slug
        self.errors, self.headers, self.extra = errors, dict(headers or {}), dict(extra or {})


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    errors: list[dict[str, str | None]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or SLUGS.get(status, "error")),
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, **kwargs), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def from_problem(problem: Problem) -> JSONResponse:
    return problem_response(
        problem.status,
        problem.detail,
        headers=problem.headers,
        title=problem.title,
        slug=problem.slug,
        errors=problem.errors,
        extra=problem.extra,
    )


def input_problem(exc: InputError, *, too_large: bool = False) -> Problem:
    """A notecheck InputError (its message never holds note text) as a 422, or 413 for over-long text."""
    field = exc.field or "body"
    if too_large:
        return Problem(413, str(exc), errors=[{"field": field, "message": str(exc)}])
    return Problem(422, "1 field is invalid", errors=[{"field": field, "message": str(exc)}])


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str | None]]:
    """pydantic errors as [{field, message}]: the location joined with dots, the message; never `input`/`ctx`."""
    out: list[dict[str, str | None]] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            where, loc = loc[0], loc[1:]
        else:
            where = "body"
        out.append({"field": ".".join(loc) if loc else where, "message": str(error.get("msg", "invalid value"))})
    return out


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(
            400,
            "The request body is not valid JSON.",
            slug="malformed-json",
            title="Malformed JSON",
            errors=[{"field": "body", "message": "not valid JSON"}],
        )
    errors = validation_errors(raw)
    n = len(errors)
    return problem_response(422, f"{n} field{'s are' if n != 1 else ' is'} invalid", errors=errors)


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
    if status == 404:
        detail = "No such resource."
    elif status == 405:
        detail = f"{request.method} is not allowed here."
    return problem_response(status, detail, headers=exc.headers)


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return from_problem(exc)


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    # The type name only: exception messages from deep inside a library may quote their input.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(500, "The server failed to handle this request.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
