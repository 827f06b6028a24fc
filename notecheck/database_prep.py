"""The results database's URL, and bringing its schema up to date in a child process while a scan starts.

A scan's process spends its first second importing spaCy and Presidio and building the Checker on one core; a new
results database then needs Alembic (imported, then four migrations: ~0.15 s more, still serial). `notecheck scan`
starts a child that opens the database (creating or upgrading its schema) at once, on the idle core; the scan's own
`Database()` waits for that child before touching the database, then finds the schema current. The child's outcome
does not matter: any error is met again, and reported, by the scan's own `Database()`.

This module imports nothing heavy, so that the child starts before the scan's imports.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

DEFAULT_URL = "sqlite:///notecheck.db"
_RUNNING: dict[str, subprocess.Popen[bytes]] = {}  # normalised URL -> the child preparing it
_CHILD = "import sys; from notecheck.store.db import Database; Database(sys.argv[1]).dispose()"


def database_url(url: str | None = None) -> str:
    """CONTRACT §3: the URL given, else NOTECHECK_DATABASE_URL, else sqlite:///notecheck.db."""
    return url or os.environ.get("NOTECHECK_DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask SQLAlchemy for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def start_schema_upgrade(url: str | None) -> None:
    """Start opening (and upgrading) the database in a child process; no output, errors ignored."""
    target = normalise_url(database_url(url))
    if target in _RUNNING or not visible_to_other_processes(target):
        return
    with contextlib.suppress(OSError):
        _RUNNING[target] = subprocess.Popen(
            [sys.executable, "-c", _CHILD, target],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def visible_to_other_processes(url: str) -> bool:
    """Whether another process opening `url` sees the same database (not an in-memory SQLite one)."""
    if not url.startswith("sqlite"):
        return True
    path = url.split("://", 1)[-1].lstrip("/")
    return bool(path) and not path.startswith(":memory:") and "mode=memory" not in url


def wait_for_schema_upgrade(url: str) -> None:
    """Wait for a child started for this (normalised) URL, if there is one."""
    child = _RUNNING.pop(url, None)
    if child is not None:
        try:
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_for_all() -> None:
    """Wait for every child still running (a scan that stopped before opening its database leaves no process)."""
    for url in list(_RUNNING):
        wait_for_schema_upgrade(url)
