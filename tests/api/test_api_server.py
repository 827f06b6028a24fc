"""The real thing: `notecheck serve` in its own process, over loopback, with a key made by `notecheck keys create`."""

from __future__ import annotations

import httpx
from api_support import BLOCKED, CLEAN, LiveServer


def test_gate_over_loopback(live_server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {live_server.key}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as client:
        allowed = client.post("/v1/gate", json={"id": "live-1", "text": CLEAN})
        assert allowed.status_code == 200 and allowed.json()["decision"] in ("allow", "warn")
        blocked = client.post("/v1/gate", json={"id": "live-2", "text": BLOCKED})
        assert blocked.status_code == 422
        assert blocked.headers["content-type"].startswith("application/problem+json")
        assert any(f["category"] == "substance_use" for f in blocked.json()["findings"])
        assert client.post("/v1/gate", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
        assert client.post("/v1/gate", json={"text": "a" * 70_000}).status_code == 413
    assert httpx.post(f"{live_server.url}/v1/gate", json={"text": CLEAN}).status_code == 401
    metrics = httpx.get(f"{live_server.url}/metrics").text
    assert 'notecheck_decisions_total{decision="block",route="/v1/gate"} 1.0' in metrics
    assert httpx.get(f"{live_server.url}/openapi.json").json()["info"]["title"] == "notecheck"


def test_concurrent_requests_over_loopback(live_server: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    headers = {"Authorization": f"Bearer {live_server.key}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as client:

        def one(i: int) -> int:
            return client.post("/v1/check", json={"id": f"c-{i}", "text": CLEAN if i % 2 else BLOCKED}).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(one, range(32))) == {200}
