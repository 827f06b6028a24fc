"""`notecheck scan` opens the results database in a child process while it loads the Checker; the scan's own
Database() waits for that child and finds the schema current. The child's errors are the scan's to report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from notecheck import database_prep
from notecheck.store.db import SCHEMA_HEADS, Database


def test_a_child_prepares_the_schema_and_database_waits_for_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'prep.db'}"
    database_prep.start_schema_upgrade(url)
    child = database_prep._RUNNING[url]
    assert child.args[0] == sys.executable
    imported = []
    monkeypatch.setattr(Database, "upgrade", lambda self: imported.append(self.schema_versions()))
    db = Database(url)  # waits for the child, then sees what it did
    assert child.returncode == 0 and url not in database_prep._RUNNING
    assert imported == [SCHEMA_HEADS]
    db.dispose()


def test_a_failing_child_leaves_the_error_to_the_scan(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    database_prep.start_schema_upgrade(url)
    child = database_prep._RUNNING[url]
    with pytest.raises(Exception, match="unable to open database file"):
        Database(url)
    assert child.returncode not in (None, 0) and url not in database_prep._RUNNING


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_in_memory_databases_are_not_prepared_elsewhere(url: str) -> None:
    database_prep.start_schema_upgrade(url)
    assert url not in database_prep._RUNNING


def test_the_url_rules_are_the_contracts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("NOTECHECK_DATABASE_URL", raising=False)
    assert database_prep.database_url(None) == "sqlite:///notecheck.db"
    monkeypatch.setenv("NOTECHECK_DATABASE_URL", "postgresql://u@h/db")
    assert database_prep.database_url(None) == "postgresql://u@h/db"
    assert database_prep.normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_prep.database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_a_scan_that_stops_early_leaves_no_child(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from notecheck.cli import app
    from notecheck.scan import commands

    commands.register(app)  # what notecheck.cli.main() does through notecheck.commands

    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"id": "n1", "text": "Met with client at the office."}\n')
    url = f"sqlite:///{tmp_path / 'early.db'}"
    result = CliRunner().invoke(app, ["scan", str(notes), "--db", url, "--map", "no-equals-sign"])
    assert result.exit_code == 2 and "--map" in result.output
    assert url not in database_prep._RUNNING
