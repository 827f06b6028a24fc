"""Opening the results database: Alembic brings any older schema up to date; a current one is left alone without
importing Alembic (start-up time of every scan)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from notecheck.store.db import SCHEMA_HEADS, Database, migrations_dir


def test_schema_heads_are_alembics_heads() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    assert frozenset(ScriptDirectory.from_config(config).get_heads()) == SCHEMA_HEADS


def test_a_new_database_gets_the_whole_schema(database_url: str) -> None:
    db = Database(database_url)
    assert db.schema_versions() == SCHEMA_HEADS
    assert {"notes", "findings", "scan_checkpoints", "verdicts"} <= set(inspect(db.engine).get_table_names())
    db.dispose()


def test_an_older_schema_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url, upgrade=False)
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url)
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert old.schema_versions() == {"0001"}
    assert "scan_checkpoints" not in inspect(old.engine).get_table_names()
    old.dispose()
    db = Database(url)
    assert db.schema_versions() == SCHEMA_HEADS
    assert "scan_checkpoints" in inspect(db.engine).get_table_names()
    db.dispose()


def test_a_current_database_opens_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    Database(url).dispose()
    code = (
        "import sys; from notecheck.store.db import Database; "
        f"db = Database({url!r}); print(sorted(db.schema_versions()), 'alembic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"{sorted(SCHEMA_HEADS)} False"
