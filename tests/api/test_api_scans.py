"""POST /v1/scans and GET /v1/scans/{id}: admin only, background thread, progress from the scans row."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, build_api
from sqlalchemy import select

from notecheck.checker import Checker
from notecheck.errors import InputError
from notecheck.store.models import AuditEvent, NoteResult
from notecheck.store.results import ensure_scan


def wait_for(api: Api, scan_id: str, statuses: tuple[str, ...], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.client.get(f"/v1/scans/{scan_id}", headers=api.headers("admin")).json()
        if body["status"] in statuses or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


class HeldScanner:
    """A stand-in for notecheck.scan.run_scan: writes the scans row, then waits until released."""

    def __init__(self, db_url_holder: dict[str, Any]) -> None:
        self.holder = db_url_holder
        self.started, self.release = threading.Event(), threading.Event()
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **options: Any) -> None:
        self.calls.append(options)
        db = self.holder["db"]
        with db.session() as session:
            scan = ensure_scan(
                session, options["scan_id"], source=options["input"], policy=options["policy"], checker_version="t"
            )
            scan.total, scan.processed = 10, 4
        self.started.set()
        assert self.release.wait(30)
        with db.session() as session:
            scan = session.get(type(scan), options["scan_id"])
            scan.processed, scan.flagged, scan.status = 10, 3, "done"


@pytest.fixture
def held(tmp_path: Path, checker: Checker):  # type: ignore[no-untyped-def]
    holder: dict[str, Any] = {}
    scanner = HeldScanner(holder)
    (tmp_path / "notes.jsonl").write_text('{"id": "1", "text": "Called client."}\n')
    with build_api(tmp_path, checker, scan_runner=scanner) as api:
        holder["db"] = api.db
        yield api, scanner
    scanner.release.set()


def test_admin_starts_a_scan_and_follows_its_progress(held) -> None:  # type: ignore[no-untyped-def]
    api, scanner = held
    response = api.post("/v1/scans", "admin", json={"input": "notes.jsonl", "policy": "masshire"})
    assert response.status_code == 202
    scan_id = response.json()["id"]
    assert response.headers["location"] == f"/v1/scans/{scan_id}"
    assert scanner.started.wait(30)
    running = api.client.get(f"/v1/scans/{scan_id}", headers=api.headers("admin")).json()
    assert running["status"] == "running" and running["processed"] == 4 and running["total"] == 10
    assert_conflict = api.post("/v1/scans", "admin", json={"input": "notes.jsonl"})
    assert assert_conflict.status_code == 409
    scanner.release.set()
    done = wait_for(api, scan_id, ("done", "failed"))
    assert done["status"] == "done" and done["processed"] == 10 and done["flagged"] == 3
    options = scanner.calls[0]
    assert options["input"] == str(api.root / "notes.jsonl")
    assert options["db_url"] == api.db.url and options["policy"] == "masshire" and options["scan_id"] == scan_id
    with api.db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "scan.start"))
        assert event is not None and event.actor == "admin" and event.detail["scan_id"] == scan_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": "../outside.jsonl"}, "input"),
        ({"input": "/etc/passwd"}, "input"),
        ({"input": "missing.jsonl"}, "input"),
        ({"input": "notes.txt"}, "input"),
        ({"input": "not\x00here.jsonl"}, "input"),
        ({"input": "notes.jsonl", "policy": "no-such-policy"}, "policy"),
        ({"input": "notes.jsonl", "policy": "/tmp/evil.yaml"}, "policy"),
        ({"input": "postgresql://db/notes"}, "query"),
        ({"input": "notes.jsonl", "surprise": 1}, "surprise"),
        ({}, "input"),
    ],
)
def test_bad_scan_requests_are_422(held, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    api, scanner = held
    response = api.post("/v1/scans", "admin", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert scanner.calls == []


@pytest.mark.parametrize("who", ["checker", "reviewer"])
def test_only_admins_scan(held, who: str) -> None:  # type: ignore[no-untyped-def]
    api, _ = held
    assert api.post("/v1/scans", who, json={"input": "notes.jsonl"}).status_code == 403
    assert api.client.get("/v1/scans/anything", headers=api.headers(who)).status_code == 403
    assert api.client.get("/v1/scans/anything").status_code == 401


def test_unknown_scan_is_404(held) -> None:  # type: ignore[no-untyped-def]
    api, _ = held
    response = api.client.get("/v1/scans/api-0000", headers=api.headers("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_failed_scan_reports_why(tmp_path: Path, checker: Checker) -> None:
    def failing(**options: Any) -> None:
        raise InputError("notes.jsonl: line 1 is not JSON", field="input")

    (tmp_path / "notes.jsonl").write_text("not json\n")
    with build_api(tmp_path, checker, scan_runner=failing) as api:
        scan_id = api.post("/v1/scans", "admin", json={"input": "notes.jsonl"}).json()["id"]
        failed = wait_for(api, scan_id, ("failed",))
        assert failed["status"] == "failed" and "not JSON" in failed["error"]
        assert api.post("/v1/scans", "admin", json={"input": "notes.jsonl"}).status_code == 202  # not left "running"


def test_a_real_scan_through_the_api(tmp_path: Path, checker: Checker) -> None:
    """The scanner library itself (notecheck.scan.run_scan), one worker, three notes."""
    notes = [
        {
            "id": "s-1",
            "text": "Met client at the office. He denies drug use. Next: call on 3/8.",
            "office": "Rockville",
        },
        {"id": "s-2", "text": "Phone call with client about CDL training. Next steps: email the list by 3/8."},
        {"id": "s-3", "text": ""},
    ]
    (tmp_path / "notes.jsonl").write_text("".join(json.dumps(n) + "\n" for n in notes))
    with build_api(tmp_path, checker, scan_workers=1) as api:
        response = api.post("/v1/scans", "admin", json={"input": "notes.jsonl"})
        assert response.status_code == 202
        done = wait_for(api, response.json()["id"], ("done", "failed"), timeout=300)
        assert done["status"] == "done", done
        assert done["processed"] == 2 and done["input_errors"] == 1 and done["flagged"] >= 1
        with api.db.session() as session:
            ids = set(session.scalars(select(NoteResult.note_id).where(NoteResult.scan_id == done["id"])))
        assert ids == {"s-1", "s-2"}
