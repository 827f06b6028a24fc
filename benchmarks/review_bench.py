"""Reviewer queue targets: page latency with 50,000 findings, and 100 findings triaged with the keyboard alone.

    python -m benchmarks.review_bench                       # SQLite in a temporary directory
    python -m benchmarks.review_bench --db postgresql://postgres@127.0.0.1:5432/test   # an EMPTY database/schema
    python -m benchmarks.review_bench --requests 20 --triage 50 --json artifacts/bench/review.json

1. Seeds the store directly (no checker): notes scanned once, 40% of them rescanned (so "latest result per note"
   has work to do), 20% of the (note, fingerprint) pairs with a verdict, 10 offices, 200 staff, every kind and
   severity; about `--findings` finding rows in all.
2. Starts the real server (`notecheck serve`, a separate process), signs in over HTTP, and times each page:
   the queue (several filters, as an admin and as a one-office reviewer), the queue right after a verdict,
   the queue right after a note was blocked at the gate (POST /v1/gate records it for review), a note view (a
   different note each time; each view also writes an audit event), the rule-quality page, and GET /v1/findings.
   Reports the first (cold) request apart, then p50/p95/max of the rest.
3. Drives Debian's chromium (Playwright) through 100 findings with the keyboard only (j, Enter, c, d 1 Enter, n),
   and checks that 100 verdicts by that reviewer are in the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password"
TEXT = (
    "Met with client at the {office} American Job Center on {date} to review her training plan. "
    "She said she has been going to AA meetings twice a week and her PO approved the schedule. "
    "Her phone number is (301) 555-0142 and she lives at 12 Main Street. She was very pleasant. "
    "Next steps: she will bring her pay stubs by Friday and I will call the school."
)
# (kind, category, rule, severity, phrase in TEXT or None for a note-level finding)
SHAPES = [
    ("prohibited", "substance_use", "prohibited.substance_use.treatment", "error", "AA meetings"),
    ("prohibited", "criminal", "prohibited.criminal.supervision", "error", "her PO"),
    ("pii", "PHONE_NUMBER", "pii.PHONE_NUMBER.phone", "warning", "(301) 555-0142"),
    ("pii", "STREET_ADDRESS", "pii.STREET_ADDRESS.street_address", "warning", "12 Main Street"),
    ("quality", "opinion", "quality.opinion.judgment", "warning", "very pleasant"),
    ("quality", "vague", "quality.vague.generic", "info", None),
    ("timeliness", "late_entry", "timeliness.late_entry.business_days", "warning", None),
]
GATE_NOTE = {
    "office": "Office 00",
    "staff": "Staff 000",
    "contact_date": "2026-03-04",
    "text": "Called client 3/4 re: CDL training. Her PO approved it. SSN 123-45-6789. I will call her Friday.",
}
ELEMENTS = {"date": True, "contact_method": False, "participants": True, "location": True, "purpose": True,
            "substance": True, "next_steps": True}  # fmt: skip


@dataclass
class Seeded:
    notes: int
    note_rows: int
    findings: int
    verdicts: int
    offices: list[str]
    staff: list[str]


def seed(db: Any, *, findings: int = 50_000, offices: int = 10, staff: int = 200, rescan: float = 0.4,
         verdicts: float = 0.2, allowed_on_rescan: float = 0.05, seed_value: int = 7) -> Seeded:  # fmt: skip
    """Insert at least `findings` finding rows straight into the store (Core inserts, no checker)."""
    from sqlalchemy import insert

    from notecheck.store.models import FindingRow, NoteResult, Scan, Verdict

    rng = random.Random(seed_value)
    office_names = [f"Office {i:02d}" for i in range(offices)]
    staff_names = [f"Staff {i:03d}" for i in range(staff)]
    start = dt.datetime(2026, 1, 5, 9, 0)
    plans: list[tuple[str, str, str, dt.datetime, list[int], bool]] = []
    total = 0
    while total < findings:
        i = len(plans)
        shapes = sorted(rng.sample(range(len(SHAPES)), rng.randint(1, 5)))
        again = rng.random() < rescan
        contact = start + dt.timedelta(days=rng.randrange(300))
        plans.append((f"N-{i:06d}", office_names[i % offices], rng.choice(staff_names), contact, shapes, again))
        total += len(shapes) * (2 if again else 1)
    notes: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    pk = 0
    for scan_id, when, second in (("bench-1", start, False), ("bench-2", start + dt.timedelta(days=30), True)):
        for note_id, office, staff_name, contact, shapes, again in plans:
            if second and not again:
                continue
            pk += 1
            allowed = second and rng.random() < allowed_on_rescan  # edited since, and now clean
            text = TEXT.format(office=office, date=contact.date().isoformat())
            notes.append({
                "id": pk, "scan_id": scan_id, "note_id": note_id, "client_id": f"C-{pk % 5000:04d}",
                "staff": staff_name, "office": office, "program": "WIOA Adult", "contact_date": contact,
                "entered_at": contact + dt.timedelta(days=1), "decision": "allow" if allowed else "block",
                "score": 70, "policy": "default", "checker_version": "0.3.0", "elements": ELEMENTS,
                "text_sha256": hashlib.sha256(text.encode()).hexdigest(), "text": None if allowed else text,
                "title": "Training plan", "checked_at": when + dt.timedelta(seconds=pk),
            })  # fmt: skip
            for s in shapes:
                kind, category, rule, severity, phrase = SHAPES[s]
                at = text.index(phrase) if phrase else None
                rows.append({
                    "note_pk": pk, "scan_id": scan_id, "note_id": note_id, "office": office, "staff": staff_name,
                    "kind": kind, "category": category, "rule": rule, "severity": severity, "start": at,
                    "end": at + len(phrase) if phrase else None, "confidence": 0.9,
                    "message": f"{category.replace('_', ' ')} found", "policy_ref": "000_307c4094741002af.txt",
                    "fingerprint": hashlib.blake2b(f"{rule}|{phrase}".encode(), digest_size=16).hexdigest(),
                    "created_at": when,
                })  # fmt: skip
    pairs = sorted({(r["note_id"], r["fingerprint"], r["rule"], r["category"]) for r in rows})
    chosen = [p for p in pairs if rng.random() < verdicts]
    verdict_rows = [
        {"note_id": n, "fingerprint": fp, "rule": rule, "category": cat,
         "verdict": "confirmed" if rng.random() < 0.7 else "dismissed", "reason": "seeded", "reviewer": "seed",
         "decided_at": start}
        for n, fp, rule, cat in chosen
    ]  # fmt: skip
    scans = [
        {"id": s, "source": "benchmark", "policy": "default", "checker_version": "0.3.0", "status": "done",
         "started_at": start, "processed": 0, "flagged": 0, "input_errors": 0, "options": {}}
        for s in ("bench-1", "bench-2")
    ]  # fmt: skip
    with db.engine.begin() as connection:
        for table, batch in ((Scan.__table__, scans), (NoteResult.__table__, notes), (FindingRow.__table__, rows),
                             (Verdict.__table__, verdict_rows)):  # fmt: skip
            for i in range(0, len(batch), 5000):
                connection.execute(insert(table), batch[i : i + 5000])
        if db.url.startswith("postgresql"):
            from sqlalchemy import text as sql

            for table in ("notes", "findings"):  # ids were given explicitly: move the sequences past them
                connection.execute(
                    sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
    return Seeded(len(plans), len(notes), len(rows), len(verdict_rows), office_names, staff_names)


# -- the server ----------------------------------------------------------------------------------------------------
class Server:
    """`notecheck serve` in a child process on a free loopback port."""

    def __init__(self, url: str):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        exe = str(Path(sys.executable).with_name("notecheck"))
        args = [exe, "serve", "--db", url, "--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(args, cwd=ROOT)

    def __enter__(self) -> Server:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"notecheck serve exited with {self.process.returncode}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def signed_in(base: str, username: str) -> Any:
    import re

    import httpx

    client = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    form = client.get("/review/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    response = client.post("/review/login", data=data, follow_redirects=False)
    if response.status_code != 303 or "notecheck_review" not in client.cookies:
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")
    return client


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * p95, 1), "max_ms": round(1000 * ordered[-1], 1)}  # fmt: skip


def timed(client: Any, method: str, url: str, **kwargs: Any) -> float:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {response.status_code}")
    return elapsed


def measure_pages(base: str, seeded: Seeded, pks: list[int], key: str, requests: int) -> dict[str, Any]:
    rng = random.Random(11)
    admin = signed_in(base, "bench-admin")
    reviewer = signed_in(base, "bench-reviewer")
    out: dict[str, Any] = {"cold_queue_ms": round(1000 * timed(admin, "GET", "/review"), 1)}
    variants = [
        "/review", "/review?status=all", "/review?kind=pii", "/review?category=criminal&severity=error",
        f"/review?office={seeded.offices[3].replace(' ', '+')}", f"/review?staff={seeded.staff[5].replace(' ', '+')}",
        "/review?status=dismissed", "/review?date_from=2026-03-01&date_to=2026-05-31", "/review?page=20",
    ]  # fmt: skip
    samples: dict[str, list[float]] = {"queue (admin)": [], "queue (one-office reviewer)": [], "note view": [],
                                       "rules": [], "queue after a verdict": [], "queue after a gate block": [],
                                       "GET /v1/findings": []}  # fmt: skip
    api = {"Authorization": f"Bearer {key}"}
    findings = admin.get("/v1/findings?limit=500", headers=api)  # admin key: ids to give verdicts to
    ids = [f["id"] for f in findings.json()["findings"]] if findings.status_code == 200 else []
    for i in range(requests):
        url = variants[i % len(variants)]
        samples["queue (admin)"].append(timed(admin, "GET", url))
        samples["queue (one-office reviewer)"].append(
            timed(reviewer, "GET", url.split("office=")[0].rstrip("?&") or "/review")
        )
        samples["note view"].append(timed(admin, "GET", f"/review/notes/{rng.choice(pks)}"))
        samples["rules"].append(timed(admin, "GET", "/review/rules"))
        samples["GET /v1/findings"].append(timed(admin, "GET", "/v1/findings?limit=100", headers=api))
        if ids:
            body = {"verdict": "confirmed"}
            admin.post(f"/v1/findings/{ids.pop()}/review", json=body, headers=api)
            samples["queue after a verdict"].append(timed(admin, "GET", "/review"))
        blocked = admin.post("/v1/gate", json={**GATE_NOTE, "id": f"G-{i:04d}"}, headers=api)
        if blocked.status_code == 422:  # recorded for review as a gate block: the queue grows by one note
            samples["queue after a gate block"].append(timed(admin, "GET", "/review"))
    out["pages"] = {name: percentiles(values) for name, values in samples.items() if values}
    return out


def triage_with_keyboard(base: str, count: int) -> dict[str, Any]:
    """Sign in, open the first note with j + Enter, then c / d 1 Enter on each finding, n for the next note."""
    from playwright.sync_api import expect, sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]  # fmt: skip
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    try:
        page.goto(base + "/review/login")
        page.keyboard.type("bench-triage")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/review")
        started = time.perf_counter()
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url("**/review/notes/**")
        decided = notes = 0
        keys = 3  # j, Enter ... counted as we go
        while decided < count:
            open_items = page.locator("li.finding[data-status='open']").count()
            if open_items == 0:
                here = page.url
                page.keyboard.press("n")
                keys += 1
                page.wait_for_url(lambda url, here=here: url != here)
                page.wait_for_load_state()
                if "/review/notes/" not in page.url:
                    break
                notes += 1
                continue
            target = page.locator("li.finding.current").get_attribute("id")
            if decided % 3 == 2:
                for key in ("d", "1", "Enter"):
                    page.keyboard.press(key)
                keys += 3
                expect(page.locator(f"#{target}")).to_have_attribute("data-status", "dismissed")
            else:
                page.keyboard.press("c")
                keys += 1
                expect(page.locator(f"#{target}")).to_have_attribute("data-status", "confirmed")
            decided += 1
        seconds = time.perf_counter() - started
    finally:
        browser.close()
        playwright.stop()
    return {"findings_decided": decided, "notes_visited": notes + 1, "keys_pressed": keys,
            "seconds": round(seconds, 1), "seconds_per_finding": round(seconds / max(decided, 1), 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an EMPTY database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--triage", type=int, default=100, help="findings to triage with the keyboard (0: skip)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from notecheck.keys import create_key
    from notecheck.store import Database
    from notecheck.store.models import FindingRow, NoteResult, Verdict
    from notecheck.users import create_user

    workdir = tempfile.TemporaryDirectory(prefix="review-bench-")
    url = args.db or f"sqlite:///{Path(workdir.name) / 'review-bench.db'}"
    db = Database(url)
    started = time.perf_counter()
    seeded = seed(db, findings=args.findings)
    with db.session() as session:
        create_user(session, "bench-admin", PASSWORD, role="admin")
        create_user(session, "bench-reviewer", PASSWORD, role="reviewer", offices=[seeded.offices[0]])
        create_user(session, "bench-triage", PASSWORD, role="reviewer", offices=[seeded.offices[1]])
        _, key = create_key(session, name="bench-admin-key", role="admin")
        pks = list(session.scalars(select(NoteResult.id).where(NoteResult.decision != "allow")))
        in_db = session.scalar(select(func.count()).select_from(FindingRow))
    backend = db.url.split(":")[0]
    print(
        f"seeded {seeded.findings} findings ({in_db} in the database) on {seeded.note_rows} results of "
        f"{seeded.notes} notes, {seeded.verdicts} verdicts, in {time.perf_counter() - started:.1f} s ({backend})"
    )
    result: dict[str, Any] = {"database": db.url.split(":")[0], "seeded": asdict(seeded), "findings_in_db": in_db}
    with Server(url) as server:
        result.update(measure_pages(server.base, seeded, pks, key, args.requests))
        for name, figures in result["pages"].items():
            print(f"{name:30s} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   max "
                  f"{figures['max_ms']:7.1f} ms   (n={figures['n']})")  # fmt: skip
        print(f"{'queue, first request (cold)':30s} {result['cold_queue_ms']:.1f} ms (builds the queue index)")
        if args.triage:
            triage = triage_with_keyboard(server.base, args.triage)
            with db.session() as session:
                triage["verdicts_in_db"] = session.scalar(
                    select(func.count()).select_from(Verdict).where(Verdict.reviewer == "bench-triage")
                )
            result["keyboard_triage"] = triage
            print(f"keyboard triage: {triage['findings_decided']} findings over {triage['notes_visited']} notes, "
                  f"{triage['keys_pressed']} keys, {triage['seconds']} s ({triage['seconds_per_finding']} s each); "
                  f"{triage['verdicts_in_db']} verdicts by bench-triage in the database")  # fmt: skip
    db.dispose()
    workdir.cleanup()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
