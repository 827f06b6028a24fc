"""POST /v1/scans and GET /v1/scans/{scan_id} (admin): bulk scans on a background thread, progress from the store.

The scan itself is `notecheck.scan.run_scan(ScanOptions(...))`; its progress is the `scans` row it keeps up to
date. Until that row exists (the scanner creates it) and after a scan that failed before writing it, the status
comes from this process's own record of the jobs it started. Files are read only below `Settings.scan_root`;
results go to the server's own database. At most `Settings.max_running_scans` run at once (409 beyond).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from api.auth import Principal, require_role, services
from api.gate import COMMON
from api.problems import Problem, documented
from api.schemas import ScanIn, ScanOut
from notecheck.errors import NotecheckError
from notecheck.policy import builtin_names
from notecheck.store.audit import audit
from notecheck.store.db import Database
from notecheck.store.models import Scan, utcnow

log = logging.getLogger("notecheck.api")
router = APIRouter(tags=["scans"])
SUFFIXES = (".jsonl", ".csv", ".parquet")
ScanRunner = Callable[..., Any]


def default_runner(**options: Any) -> Any:
    """Run a scan with the scanner library (imported here: the API works without it until a scan is asked for)."""
    from notecheck.scan import ScanOptions, run_scan

    return run_scan(ScanOptions(**options))


@dataclass
class Job:
    id: str
    status: str = "queued"  # queued | running | done | failed
    error: str | None = None


class ScanJobs:
    """The scans this process started: a bounded record, and the threads that run them."""

    def __init__(self, db: Database, runner: ScanRunner, *, max_running: int = 1, keep: int = 200):
        self.db, self.runner, self.max_running, self.keep = db, runner, max_running, keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def running(self) -> int:
        return sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))

    def start(self, options: dict[str, Any]) -> Job:
        with self._lock:
            if self.running() >= self.max_running:
                raise Problem(409, "A scan is already running; follow it with GET /v1/scans/{id} and retry later.")
            job = Job(id=f"api-{uuid.uuid4().hex[:16]}")
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        thread = threading.Thread(target=self._run, args=(job, options), name=f"notecheck-{job.id}", daemon=True)
        thread.start()
        return job

    def get(self, scan_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(scan_id)

    def _run(self, job: Job, options: dict[str, Any]) -> None:
        job.status = "running"
        try:
            self.runner(**options, scan_id=job.id)
        except Exception as exc:  # noqa: BLE001 - reported through GET /v1/scans/{id}, type only in the log
            job.error = str(exc) if isinstance(exc, NotecheckError) else f"the scan failed ({type(exc).__name__})"
            job.status = "failed"
            log.error("scan %s failed (%s)", job.id, type(exc).__name__)
            self._mark_failed(job.id)
        else:
            job.status = "done"

    def _mark_failed(self, scan_id: str) -> None:
        try:
            with self.db.session() as session:
                row = session.get(Scan, scan_id)
                if row is not None and row.status == "running":
                    row.status, row.finished_at = "failed", utcnow()
        except Exception as exc:  # noqa: BLE001
            log.error("could not mark scan %s failed (%s)", scan_id, type(exc).__name__)


def _source(raw: str, root: Path) -> str:
    """A database URL as given, or a file path resolved below the scan root (422 naming `input` otherwise)."""
    if "\x00" in raw:
        raise _invalid("input", "contains a NUL character")
    if "://" in raw:
        return raw
    try:
        path = (root / raw).resolve()
        inside = path.is_relative_to(root)
        usable = inside and path.suffix.lower() in SUFFIXES and path.is_file()
    except (OSError, ValueError):
        raise _invalid("input", "not a usable path") from None
    if not inside:
        raise _invalid("input", "outside the scan root")
    if not usable:
        raise _invalid("input", f"not a {', '.join(SUFFIXES)} file below the scan root")
    return str(path)


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "1 field is invalid", errors=[{"field": field, "message": message}])


@router.post(
    "/v1/scans",
    status_code=202,
    summary="Start a bulk scan",
    responses={
        202: {"model": ScanOut, "description": "Started; follow it at the Location header."},
        **documented(*COMMON, 409, d409="Another scan is running."),
    },
)
async def start_scan(body: ScanIn, request: Request, principal: Principal = Depends(require_role("admin"))) -> Any:
    svc = services(request)
    if body.policy not in builtin_names():
        raise _invalid("policy", f"not a built-in policy; choose from {', '.join(builtin_names())}")
    source = _source(body.input, Path(svc.settings.scan_root).resolve())
    if "://" in source and body.query is None:
        raise _invalid("query", "required when input is a database URL")
    options = {
        "input": source,
        "db_url": svc.db.url,
        "policy": body.policy,
        "query": body.query,
        "column_map": dict(body.column_map),
        "resume": body.resume,
        "workers": svc.settings.scan_workers,
        "quiet": True,
    }
    job = svc.scans.start(options)
    svc.metrics.scans_started.inc()
    await svc.run(_audit_start, svc.db, principal, job.id, body.policy)
    return JSONResponse(
        ScanOut(id=job.id, status=job.status, policy=body.policy).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/v1/scans/{job.id}"},
    )


def _audit_start(db: Database, principal: Principal, scan_id: str, policy: str) -> None:
    with db.session() as session:
        audit(
            session,
            actor=principal.name,
            actor_type=principal.kind,
            action="scan.start",
            detail={"scan_id": scan_id, "policy": policy},
        )


@router.get(
    "/v1/scans/{scan_id}",
    summary="Follow a scan",
    responses={200: {"model": ScanOut}, **documented(401, 403, 404, 422, d404="No scan with this id.")},
)
async def get_scan(
    request: Request,
    scan_id: str = PathParam(max_length=64),
    principal: Principal = Depends(require_role("admin")),
) -> Any:
    svc = services(request)
    job = svc.scans.get(scan_id)
    row = await svc.run(_load_scan, svc.db, scan_id)
    if row is None and job is None:
        raise Problem(404, "No scan with this id.")
    out = ScanOut(id=scan_id, status=job.status if job else "running", error=job.error if job else None)
    if row is not None:
        out = ScanOut(
            id=row.id,
            status=row.status,
            source=row.source,
            policy=row.policy,
            started_at=row.started_at,
            finished_at=row.finished_at,
            total=row.total,
            processed=row.processed,
            flagged=row.flagged,
            input_errors=row.input_errors,
            error=job.error if job else None,
        )
        if job is not None and job.status == "failed":
            out.status = "failed"
    return JSONResponse(out.model_dump(mode="json"))


def _load_scan(db: Database, scan_id: str) -> Scan | None:
    with db.session() as session:
        return session.get(Scan, scan_id)
