"""Opening the results database and bringing its schema up to date with Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from notecheck.database_prep import DEFAULT_URL, database_url, normalise_url, wait_for_schema_upgrade

__all__ = ["DEFAULT_URL", "SCHEMA_HEADS", "Database", "database_url", "migrations_dir"]

# The heads of migrations/versions (tests/store pins this to Alembic's own answer): a database stamped with exactly
# these needs no upgrade, and opening it skips importing Alembic (a tenth of a second of every scan's start-up).
SCHEMA_HEADS = frozenset({"0002_scan", "0003_review"})


def migrations_dir() -> Path:
    return Path(str(resources.files("notecheck.store") / "migrations"))


class Database:
    """An engine, a session factory and `upgrade()`; one per process (workers open their own after fork)."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True):
        self.url = normalise_url(database_url(url))
        # hide_parameters: a failed statement's exception (and any log or traceback of it) must not carry the
        # values it was given - note text among them
        kwargs: dict[str, object] = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if upgrade:
            wait_for_schema_upgrade(self.url)  # a child started by `notecheck scan` may be preparing it
            self.upgrade()

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (idempotent)."""
        if self.schema_versions() == SCHEMA_HEADS:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")

    def schema_versions(self) -> frozenset[str]:
        """The revisions the database is stamped with (empty when it has no Alembic version table yet)."""
        try:
            with self.engine.connect() as connection:
                return frozenset(
                    row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                )
        except DBAPIError:
            return frozenset()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
