"""Fixtures for the HTTP API tests (helpers in api_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, LiveServer, build_api, run_server

from notecheck.checker import Checker


@pytest.fixture
def api(tmp_path: Path, checker: Checker) -> Iterator[Api]:
    """An app with small limits (2,000 characters of text, 64 KiB bodies) and one key per role."""
    with build_api(tmp_path, checker, max_text_chars=2000, max_body_bytes=64 * 1024) as built:
        yield built


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("live")) as server:
        yield server
