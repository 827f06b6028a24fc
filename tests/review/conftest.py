"""Fixtures for the reviewer queue: a scanned database with users and keys, the app, a live uvicorn server and
Debian's chromium driven by Playwright (helpers in review_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from review_support import LiveServer, ReviewEnv, build_env


@pytest.fixture(scope="module")
def env(tmp_path_factory, checker) -> Iterator[ReviewEnv]:  # type: ignore[no-untyped-def]
    built = build_env(tmp_path_factory.mktemp("review") / "review.db", checker)
    yield built
    built.db.dispose()


@pytest.fixture
def client(env: ReviewEnv) -> Iterator[TestClient]:
    with TestClient(env.app) as c:
        yield c


@pytest.fixture(scope="module")
def live(env: ReviewEnv) -> Iterator[LiveServer]:
    with LiveServer(env.app) as server:
        yield server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()
