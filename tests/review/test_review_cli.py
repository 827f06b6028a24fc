"""`notecheck users create`, `notecheck export-labels` (corpus format) and `notecheck demo --no-serve`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from review_support import NOTES, PASSWORD, build_env
from sqlalchemy import select
from typer.testing import CliRunner

from api.review.filters import Filters
from api.review.queue_index import Queue
from api.review.scope import Viewer
from api.review.verdicts import findings_of_note, record
from notecheck import review_commands
from notecheck.keys import verify_key
from notecheck.report import ELEMENTS
from notecheck.store import Database
from notecheck.store.models import AuditEvent, User
from notecheck.users import authenticate

runner = CliRunner()


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    review_commands.register(app)
    return app


def test_users_create_from_stdin_hashes_the_password(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'u.db'}"
    args = [
        "users",
        "create",
        "--username",
        "ana",
        "--role",
        "reviewer",
        "--office",
        "Rockville",
        "--office",
        "Wheaton",
    ]
    done = runner.invoke(cli, [*args, "--password-stdin", "--db", url], input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert "offices: Rockville, Wheaton" in done.output
    db = Database(url)
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == "ana"))
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert authenticate(session, "ana", PASSWORD) is not None
        assert authenticate(session, "ana", PASSWORD + "x") is None
    again = runner.invoke(cli, [*args, "--password-stdin", "--db", url], input=PASSWORD + "\n")
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(
        cli, ["users", "create", "--username", "bo", "--role", "boss", "--password-stdin", "--db", url], input="x" * 12
    )
    assert bad_role.exit_code == 2 and "role must be one of reviewer, admin" in bad_role.output
    short = runner.invoke(
        cli,
        ["users", "create", "--username", "cy", "--role", "admin", "--password-stdin", "--db", url],
        input="short\n",
    )
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    no_office = runner.invoke(
        cli,
        ["users", "create", "--username", "di", "--role", "reviewer", "--password-stdin", "--db", url],
        input=PASSWORD,
    )
    assert no_office.exit_code == 2 and "--office" in no_office.output
    db.dispose()


def test_export_labels_writes_the_corpus_format(cli, tmp_path: Path, checker) -> None:  # type: ignore[no-untyped-def]
    env = build_env(tmp_path / "labels.db", checker)
    admin = Viewer("ada", "admin", ())
    with env.db.session() as session:
        rows = findings_of_note(session, env.pk("rv-002"))  # "pregnant", "baby is due", "lazy", ...
        confirmed = [r for r in rows if r.category == "pregnancy" or r.kind == "quality"]
        dismissed = [r for r in rows if r not in confirmed]
        record(session, admin, confirmed, "confirmed", reason=None, reason_code=None)
        if dismissed:
            record(session, admin, dismissed, "dismissed", reason="x", reason_code="other")
        wh = findings_of_note(session, env.pk("wh-002"))  # every finding dismissed: a hard negative
        record(session, admin, wh, "dismissed", reason="y", reason_code="other")
        part = findings_of_note(session, env.pk("rv-004"))[:1]  # one verdict of several: partial
        record(session, admin, part, "confirmed", reason=None, reason_code=None)
        text = next(
            n["text"] for n in map(json.loads, NOTES.read_text(encoding="utf-8").splitlines()) if n["id"] == "rv-002"
        )
        expected_evidence = {text[r.start : r.end] for r in confirmed if r.kind == "prohibited"}
        expected_quality = sorted(
            {r.category for r in confirmed if r.kind == "quality"} & {"opinion", "slang", "vague"}
        )
        expected_dismissed = sorted(r.category for r in dismissed)
    out = tmp_path / "labels.jsonl"
    done = runner.invoke(cli, ["export-labels", "--db", env.url, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "wrote 2 reviewed notes" in done.output and "1 with open findings skipped" in done.output
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(records) == {"rv-002", "wh-002"}
    source = {n["id"]: n for n in map(json.loads, NOTES.read_text(encoding="utf-8").splitlines())}
    for note_id, rec in records.items():
        for field in ("id", "program", "office", "staff", "client_id", "title", "contact_date", "entered_at", "text"):
            assert rec[field] == source[note_id][field], field
        labels = rec["labels"]
        assert set(labels) == {"prohibited", "evidence", "pii", "pii_evidence", "elements", "quality", "hard_negative"}
        assert set(labels["elements"]) == set(ELEMENTS) and all(
            isinstance(v, bool) for v in labels["elements"].values()
        )
        for item in labels["evidence"]:
            assert item["quote"] in rec["text"] and item["category"] in labels["prohibited"]
        for item in labels["pii_evidence"]:
            assert item["quote"] in rec["text"] and item["type"] in labels["pii"]
    rv2 = records["rv-002"]["labels"]
    assert rv2["prohibited"] == ["pregnancy"] and rv2["hard_negative"] is False
    assert sorted(rv2["quality"]) == expected_quality
    assert {e["quote"] for e in rv2["evidence"]} == expected_evidence and "pregnant" in expected_evidence
    assert sorted(d["category"] for d in records["rv-002"]["review"]["dismissed"]) == expected_dismissed
    wh2 = records["wh-002"]["labels"]
    assert wh2["prohibited"] == [] and wh2["hard_negative"] is True
    partial = runner.invoke(cli, ["export-labels", "--db", env.url, "--out", str(out), "--include-partial"])
    assert "wrote 3 reviewed notes" in partial.output
    with env.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.export_labels")).all()[-1]
    assert event.detail == {"written": 3, "partial_skipped": 0, "no_text": 0}
    env.db.dispose()


def test_demo_prepares_a_database_once_and_prints_how_to_sign_in(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTECHECK_DATABASE_URL", raising=False)
    first = runner.invoke(cli, ["demo", "--no-serve", "--notes", str(NOTES), "--port", "8123"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "notecheck-demo.db").is_file()  # the default demo database, not notecheck.db
    assert "http://localhost:8123/review" in first.output and "demo / demo" in first.output
    assert "scanned 8 sample notes" in first.output
    key = next(word for word in first.output.split() if word.startswith("nck_"))
    second = runner.invoke(cli, ["demo", "--no-serve", "--notes", str(NOTES)])
    assert second.exit_code == 0 and "already scanned" in second.output
    new_key = next(word for word in second.output.split() if word.startswith("nck_"))
    db = Database("sqlite:///notecheck-demo.db")
    with db.session() as session:
        assert authenticate(session, "demo", "demo") is not None
        assert verify_key(session, key) is None  # the earlier demo key was revoked
        principal = verify_key(session, new_key)
        assert principal is not None and principal.role == "reviewer" and principal.offices == ["*"]
        demo = Viewer("demo", "reviewer", ("*",))
        assert Queue().page(session, Filters(), demo).total_notes == 7  # the queue is populated on first open
    db.dispose()
    missing = runner.invoke(cli, ["demo", "--no-serve", "--notes", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no sample notes" in missing.output
