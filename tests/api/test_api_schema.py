"""Schemathesis against /openapi.json: generated requests (valid and invalid) never get a 5xx, and every answer
matches the documented status codes, content types and schemas. Bounded examples so CI stays quick."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from api_support import Api, build_api
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from notecheck.checker import Checker
from notecheck.policy import load_policy
from notecheck.store.db import Database


def no_scan(**options: Any) -> None:
    """Generated scan requests must not start real scans."""


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory, checker: Checker) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("schemathesis")
    (root / "notes.jsonl").write_text('{"id": "1", "text": "Called client."}\n')
    with build_api(root, checker, max_text_chars=4000, scan_runner=no_scan, max_running_scans=1000) as built:
        yield built


def _document() -> dict[str, Any]:
    """The app's OpenAPI document, built without loading a checker (the routes do not depend on it).

    (schemathesis.pytest.from_fixture would build it from the fixture, but fails under pytest 9: no `_nodeid`.)
    """
    stub = SimpleNamespace(policy=load_policy("default"))
    app = create_app(stub, Settings(db_url="sqlite://"), db=Database("sqlite://", upgrade=False))  # type: ignore[arg-type]
    return app.openapi()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_answers(case, fuzzed_api: Api) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        app=fuzzed_api.app,
        headers=fuzzed_api.headers("admin"),
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_without_a_key(case, fuzzed_api: Api) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        app=fuzzed_api.app,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
