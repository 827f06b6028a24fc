"""CONTRACT §3 for scan, report and purge: exit 0 when done, 2 with a one-line reason (never a traceback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from scan_support import corpus_notes, notecheck, read_reports, write_jsonl
from sqlalchemy import select, update
from typer.testing import CliRunner

from notecheck.cli import app
from notecheck.scan import commands
from notecheck.store import Database, NoteResult

commands.register(app)  # what notecheck.cli.main() does through notecheck.commands
runner = CliRunner()


@pytest.fixture(scope="module")
def notes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("cli") / "notes.jsonl", corpus_notes(12))


def test_scan_prints_a_summary_and_exits_0(tmp_path: Path, notes_file: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = notecheck("scan", str(notes_file), "--out", str(out), "--db", f"sqlite:///{tmp_path / 'nc.db'}",
                       "--workers", "2", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for word in ("processed      12", "flagged", "block", "warn", "allow", "input errors   0", "notes/s"):
        assert word in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert len(read_reports(out)) == 12


def test_scan_database_defaults_to_notecheck_db_in_the_working_directory(tmp_path: Path, notes_file: Path) -> None:
    result = notecheck("scan", str(notes_file), "--workers", "1", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "notecheck.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "no such file"),
        (["notes.txt"], "unknown input format"),
        (["sqlite:///cms.db"], "needs --query"),
        (["sqlite:///cms.db", "--query", "SELECT * FROM nothing_here"], "cannot run the query"),
        (["nosuch://x/y", "--query", "SELECT 1"], "cannot use the database URL"),
        (["postgresql://u:hunter2@127.0.0.1:1/x", "--query", "SELECT 1"], "cannot connect"),
        (["NOTES", "--query", "SELECT 1"], "only for database URL"),
        (["NOTES", "--map", "text"], "FIELD=COLUMN"),
        (["NOTES", "--engine", "dask"], "unknown engine"),
        (["NOTES", "--policy", "no-such-policy"], "unknown policy"),
        (["NOTES", "--as-of", "yesterday"], "--as-of"),
        (["NOTES", "--engine", "spark", "--out", "x.jsonl"], "Parquet"),
    ],
)
def test_scan_input_errors_exit_2(tmp_path: Path, notes_file: Path, monkeypatch, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a supported format")
    args = [str(notes_file) if a == "NOTES" else a for a in args]
    result = runner.invoke(app, ["scan", *args, "--db", f"sqlite:///{tmp_path / 'nc.db'}"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("notecheck: error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output and "hunter2" not in result.output


def test_missing_input_in_a_subprocess_is_one_line_exit_2(tmp_path: Path) -> None:
    result = notecheck("scan", "nope.parquet", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "notecheck: error: nope.parquet: no such file"
    assert result.stdout == ""


def test_report_and_purge(tmp_path: Path, notes_file: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    empty = runner.invoke(app, ["report", "--db", db_url, "--out", str(tmp_path / "r.html")])
    assert empty.exit_code == 2 and "no scans" in empty.stderr
    assert runner.invoke(app, ["scan", str(notes_file), "--db", db_url, "--workers", "1", "-q"]).exit_code == 0
    result = runner.invoke(app, ["report", "--db", db_url, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0 and (tmp_path / "r.html").stat().st_size > 10_000

    db = Database(db_url)
    with db.session() as session:
        kept = dict(session.execute(select(NoteResult.note_id, NoteResult.text.is_not(None))).all())
        decisions = dict(session.execute(select(NoteResult.note_id, NoteResult.decision)).all())
        # clean notes never have their text stored; flagged notes do, for reviewers, until purged (a note flagged
        # only by a caseload check afterwards has none: its text was never kept)
        assert all(not kept[n] for n in kept if decisions[n] == "allow") and any(kept.values())
        old = dt.datetime(2020, 1, 1)
        some = sorted(kept)[:5]
        session.execute(update(NoteResult).where(NoteResult.note_id.in_(some)).values(checked_at=old))
    assert runner.invoke(app, ["purge", "--older-than", "soon", "--db", db_url]).exit_code == 2
    result = runner.invoke(app, ["purge", "--older-than", "90d", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"purged the text of {sum(kept[n] for n in some)} notes" in result.stdout
    with db.session() as session:
        after = dict(session.execute(select(NoteResult.note_id, NoteResult.text.is_not(None))).all())
        purged_at = dict(session.execute(select(NoteResult.note_id, NoteResult.text_purged_at)).all())
    db.dispose()
    assert all(not after[n] for n in some)
    assert all(after[n] == kept[n] for n in kept if n not in some)  # within retention: kept
    assert all((purged_at[n] is not None) == kept[n] for n in some)
