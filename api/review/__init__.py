"""The reviewer queue (issue 7): QA reviewers triage flagged notes in the browser, and over /v1/findings.

    app = create_app(checker, settings)      # api.app calls mount() when this package is installed
    mount(app, db=db, settings=settings, checker=checker)

Pages (server-rendered, Jinja2, one small plain-JS file, no CDN): /review (the queue), /review/notes/{pk} (a note
with its findings highlighted, element checklist, redaction suggestion, verdict forms), /review/rules (precision per
rule and category), /review/login. JSON: GET /v1/findings, POST /v1/findings/{id}/review.

Modules: `queue` (the in-process queue index), `filters`, `noteview` (highlighting, elements, redaction),
`verdicts` (verdicts, suppressions, precision), `sessions` (logins, CSRF, rate limit), `pages`, `login`,
`findings_api`, `labels` (export for retraining).
"""

from __future__ import annotations

from typing import Any

from api.review.context import ReviewContext
from api.review.options import ReviewOptions

__all__ = ["ReviewContext", "ReviewOptions", "mount"]


def mount(app: Any, *, db: Any, settings: Any, checker: Any, options: ReviewOptions | None = None) -> ReviewContext:
    """Add the reviewer pages and /v1/findings to a FastAPI app; returns the shared context."""
    from api.review import findings_api, login, pages

    ctx = ReviewContext(
        db=db, settings=settings, checker=checker, options=options or ReviewOptions.from_settings(settings)
    )
    app.include_router(login.router(ctx))
    app.include_router(pages.router(ctx))
    app.include_router(findings_api.router(ctx))
    app.state.review = ctx
    return ctx
