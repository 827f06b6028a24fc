"""Helpers for the HTTP API tests: an app over a fresh SQLite database with one key per role, a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from notecheck.checker import Checker
from notecheck.keys import create_key
from notecheck.store.db import Database

CLEAN = (
    "Phone call with client on 3/4 at the Rockville office about CDL training. Reviewed the provider list and the "
    "schedule. Next steps: I will email the application by 3/8 and the client will bring her ID on 3/10."
)
BLOCKED = "Met client at the Rockville office. He denies drug use and is on probation. Next: call on 3/8."


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    db: Database
    keys: dict[str, str]
    root: Path

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def post(self, path: str, who: str | None = "checker", **kwargs):  # type: ignore[no-untyped-def]
        headers = {**(self.headers(who) if who else {}), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)


KEYS = {
    "checker": ("checker", ["*"]),
    "reviewer": ("reviewer", ["Rockville"]),
    "admin": ("admin", []),
    "bethesda-checker": ("checker", ["Bethesda"]),
}


def make_keys(db: Database) -> dict[str, str]:
    keys = {}
    with db.session() as session:
        for name, (role, offices) in KEYS.items():
            keys[name] = create_key(session, name=name, role=role, offices=offices)[1]
    return keys


@contextmanager
def build_api(root: Path, checker: Checker, **settings: object) -> Iterator[Api]:
    db = Database(f"sqlite:///{root / 'notecheck.db'}")
    keys = make_keys(db)
    runner = settings.pop("scan_runner", None)
    app = create_app(
        checker,
        Settings(db_url=db.url, scan_root=str(root), **settings),  # type: ignore[arg-type]
        db=db,
        scan_runner=runner,  # type: ignore[arg-type]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(app, client, db, keys, root)
    db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    db_url: str
    key: str
    process: subprocess.Popen  # type: ignore[type-arg]


def notecheck_cli() -> list[str]:
    return [sys.executable, "-m", "notecheck.cli"]


@contextmanager
def run_server(root: Path) -> Iterator[LiveServer]:
    """`notecheck serve` as a real process on a free loopback port, with one checker key made by the CLI."""
    db_url = f"sqlite:///{root / 'notecheck.db'}"
    env = {**os.environ, "NOTECHECK_DATABASE_URL": db_url}
    created = subprocess.run(
        [*notecheck_cli(), "keys", "create", "--name", "live", "--role", "checker"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip()
    port = free_port()
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [*notecheck_cli(), "serve", "--port", str(port), "--db", db_url, "--no-access-log"],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"notecheck serve exited: {(root / 'serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("notecheck serve did not answer /healthz")
            time.sleep(0.2)
        yield LiveServer(url, db_url, key, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
