"""Ids and pages beyond what a database integer holds are client errors, never server errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from notecheck.keys import create_key
from notecheck.store import Database


@pytest.fixture
def client(checker, database_url):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    with db.session() as session:
        _, key = create_key(session, name="rev", role="reviewer", offices=["Helena"])
    app = create_app(checker, Settings(db_url=database_url))
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


@pytest.mark.parametrize("path", ["/v1/findings/99999999999999999999999/review", "/v1/findings/0/review"])
def test_out_of_range_finding_ids_are_422(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(path, json={"verdict": "confirmed", "reason": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_out_of_range_offset_is_422(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/v1/findings", params={"offset": 10**30}).status_code == 422


def test_the_queue_index_is_built_at_start_up_not_on_the_first_request(checker, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    import time

    app = create_app(checker, Settings(db_url=sqlite_url))
    with TestClient(app):
        queue = app.state.review.queue
        deadline = time.monotonic() + 30
        while queue.builds == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queue.builds == 1
