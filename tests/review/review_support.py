"""Helpers for the reviewer-queue tests: the scanned database with users and keys, logins, a live uvicorn server on
a free loopback port (in a thread), screenshots."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from notecheck.keys import create_key
from notecheck.scan import scan_notes
from notecheck.store import Database
from notecheck.users import create_user

NOTES = Path(__file__).with_name("notes.jsonl")
PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def load_notes() -> list[dict[str, Any]]:
    return [json.loads(line) for line in NOTES.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class ReviewEnv:
    url: str
    db: Database
    app: Any
    keys: dict[str, str]

    def pk(self, note_id: str) -> int:
        """The latest result's row id of a note."""
        from sqlalchemy import select

        from notecheck.store.models import NoteResult

        with self.db.session() as session:
            return session.scalars(
                select(NoteResult.id)
                .where(NoteResult.note_id == note_id)
                .order_by(NoteResult.checked_at.desc(), NoteResult.id.desc())
            ).first()


def build_env(path: Path, checker: Any) -> ReviewEnv:
    url = f"sqlite:///{path}"
    db = Database(url)
    scan_notes(load_notes(), db, checker=checker, source="tests/review/notes.jsonl", scan_id="scan-1")
    keys = {}
    with db.session() as session:
        create_user(session, "rita", PASSWORD, role="reviewer", offices=["Rockville"])
        create_user(session, "walt", PASSWORD, role="reviewer", offices=["Wheaton"])
        create_user(session, "ada", PASSWORD, role="admin")
        for name, role, offices in (
            ("rita-key", "reviewer", ["Rockville"]),
            ("walt-key", "reviewer", ["Wheaton"]),
            ("admin-key", "admin", []),
            ("checker-key", "checker", []),
        ):
            keys[name] = create_key(session, name=name, role=role, offices=offices)[1]
    app = create_app(checker, Settings(db_url=url), db=db)
    return ReviewEnv(url, db, app, keys)


def login(client: TestClient, username: str, password: str = PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    client.cookies.clear()  # sign in afresh, as another user if need be
    form = client.get("/review/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/review/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/review"},
        headers=headers,
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving the app on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, app: Any):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="review-uvicorn", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def web_login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/review")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/review(\?.*)?$"))


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def precision_rows(verdicts: Any) -> dict[str, tuple[int, int]]:
    """category -> (confirmed, dismissed), counted by hand from Verdict rows."""
    out: dict[str, list[int]] = {}
    for v in verdicts:
        counts = out.setdefault(v.category, [0, 0])
        counts[0 if v.verdict == "confirmed" else 1] += 1
    return {k: (c, d) for k, (c, d) in out.items()}


def synthetic(
    db: Database,
    scan_id: str,
    note_id: str,
    findings: list[tuple[str, str, str]],
    *,
    office: str | None = "Rockville",
    staff: str | None = "J. Ortiz",
    contact_date: str | None = "2026-03-02",
    text: str = "Met with the client at the office about the training plan.",
) -> None:
    """Record one note's result without the checker: findings as (kind, category, severity), fingerprinted by rule."""
    from notecheck.note import Note
    from notecheck.report import ELEMENTS, Element, Finding, Report, decide
    from notecheck.store.results import ensure_scan, record_report

    rows = [
        Finding(kind, category, 0, 4, severity, f"{kind}.{category}.r", 0.9, f"{category} here", "000_seed.txt",  # type: ignore[arg-type]
                f"fp-{kind}-{category}")
        for kind, category, severity in findings
    ]  # fmt: skip
    note = Note.from_dict({"id": note_id, "text": text, "office": office, "staff": staff, "contact_date": contact_date})
    report = Report(note_id, decide(rows), 80, "default", "0.3.0", {e: Element(True) for e in ELEMENTS}, rows)
    with db.session() as session:
        ensure_scan(session, scan_id, source="tests", policy="default", checker_version="0.3.0")
        record_report(session, scan_id, note, report)


def stored_findings(env: ReviewEnv) -> list[Any]:
    """Every finding of the latest result of each note (the checker's output changes as the lexicons grow, so the
    tests compute what to expect from what was stored rather than hard-coding it)."""
    from sqlalchemy import select

    from notecheck.store.models import FindingRow, NoteResult

    with env.db.session() as session:
        latest = {
            n.note_id: n.id for n in session.scalars(select(NoteResult).order_by(NoteResult.checked_at, NoteResult.id))
        }
        return list(session.scalars(select(FindingRow).where(FindingRow.note_pk.in_(list(latest.values())))))
