"""CONTRACT §5: GET /v1/findings and POST /v1/findings/{id}/review with reviewer API keys (api.auth)."""

from __future__ import annotations

import json

from review_support import ReviewEnv, load_notes, stored_findings
from sqlalchemy import select

from notecheck.store.models import AuditEvent, Verdict


def bearer(env: ReviewEnv, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.keys[name]}"}


def test_no_key_is_401_and_a_checker_key_is_403(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/v1/findings").status_code == 401
    wrong = client.get("/v1/findings", headers={"Authorization": "Bearer nck_00000000_" + "x" * 43})
    assert wrong.status_code == 401
    checker = client.get("/v1/findings", headers=bearer(env, "checker-key"))
    assert checker.status_code == 403
    assert checker.headers["content-type"].startswith("application/problem+json")


def test_a_reviewer_key_sees_its_offices_only_riskiest_first(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/v1/findings?status=all&limit=500", headers=bearer(env, "rita-key")).json()
    assert body["total"] == len(body["findings"]) > 0
    assert {f["office"] for f in body["findings"]} == {"Rockville"}
    kinds = [f["kind"] for f in body["findings"]]
    order = {"prohibited": 0, "pii": 1, "quality": 2, "timeliness": 3}
    assert kinds == sorted(kinds, key=order.__getitem__)
    assert set(body["counts"]) == {"office", "kind", "category", "severity", "staff", "status"}
    assert body["counts"]["office"] == {"Rockville": body["total"]}
    texts = {n["id"]: n["text"] for n in load_notes()}
    for f in body["findings"]:
        assert "text" not in f
        if f["start"] is not None:
            assert 0 <= f["start"] < f["end"] <= len(texts[f["note_id"]])
    admin = client.get("/v1/findings?status=all&limit=500", headers=bearer(env, "admin-key")).json()
    assert {f["office"] for f in admin["findings"]} == {"Rockville", "Wheaton"}


def test_asking_for_another_office_is_403(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/findings?office=Wheaton", headers=bearer(env, "rita-key"))
    assert response.status_code == 403


def test_filters_and_pagination(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(env, "admin-key")
    pii = client.get("/v1/findings?kind=pii&status=all", headers=headers).json()
    assert pii["total"] == sum(1 for f in stored_findings(env) if f.kind == "pii") >= 2  # a phone number, an SSN
    assert {f["kind"] for f in pii["findings"]} == {"pii"}
    assert pii["counts"]["kind"]["prohibited"] > 0  # the kind facet ignores the kind filter
    first = client.get("/v1/findings?status=all&limit=2&offset=0", headers=headers).json()
    second = client.get("/v1/findings?status=all&limit=2&offset=2", headers=headers).json()
    assert len(first["findings"]) == len(second["findings"]) == 2
    assert not {f["id"] for f in first["findings"]} & {f["id"] for f in second["findings"]}
    bad = client.get("/v1/findings?severity=loud", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "severity"
    assert client.get("/v1/findings?limit=0", headers=headers).status_code == 422


def test_review_confirm_then_dismiss_with_reason(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(env, "rita-key")
    finding = client.get("/v1/findings?kind=pii", headers=headers).json()["findings"][0]
    url = f"/v1/findings/{finding['id']}/review"
    confirmed = client.post(url, json={"verdict": "confirmed"}, headers=headers)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["verdict"]["reviewer"] == "rita-key"
    no_reason = client.post(url, json={"verdict": "dismissed"}, headers=headers)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    dismissed = client.post(url, json={"verdict": "dismissed", "reason": "a staff phone number"}, headers=headers)
    assert dismissed.json()["verdict"]["reason"] == "a staff phone number"
    coded = client.post(url, json={"verdict": "dismissed", "reason_code": "incidental"}, headers=headers)
    assert coded.json()["verdict"]["reason"].startswith("Not about the client")
    open_ids = {f["id"] for f in client.get("/v1/findings", headers=headers).json()["findings"]}
    assert finding["id"] not in open_ids
    with env.db.session() as session:
        rows = session.scalars(select(Verdict).where(Verdict.fingerprint == finding["fingerprint"])).all()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "review.verdict", AuditEvent.actor == "rita-key")
        ).all()
    assert len(rows) == 1 and rows[0].verdict == "dismissed"  # one verdict per (note, fingerprint), updated
    assert events[-1].actor_type == "api_key" and finding["fingerprint"] in events[-1].fingerprints
    assert "555" not in json.dumps(events[-1].detail)


def test_review_another_offices_finding_is_403_and_unknown_is_404(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    wheaton = client.get("/v1/findings", headers=bearer(env, "walt-key")).json()["findings"][0]
    response = client.post(
        f"/v1/findings/{wheaton['id']}/review", json={"verdict": "confirmed"}, headers=bearer(env, "rita-key")
    )
    assert response.status_code == 403
    missing = client.post("/v1/findings/999999/review", json={"verdict": "confirmed"}, headers=bearer(env, "rita-key"))
    assert missing.status_code == 404
    bad = client.post(
        f"/v1/findings/{wheaton['id']}/review", json={"verdict": "maybe"}, headers=bearer(env, "walt-key")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "verdict"
    suppress = client.post(
        f"/v1/findings/{wheaton['id']}/review",
        json={"verdict": "dismissed", "reason": "x", "suppress": True},
        headers=bearer(env, "walt-key"),
    )
    assert suppress.status_code == 403


def test_openapi_documents_the_review_routes(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/v1/findings"] and "post" in paths["/v1/findings/{finding_id}/review"]
    assert not any(p.startswith("/review") for p in paths)
