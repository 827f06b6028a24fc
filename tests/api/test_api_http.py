"""/v1/check and /v1/gate over TestClient: every status code, problem+json bodies, gate records and audit events."""

from __future__ import annotations

import json
import threading

import pytest
from api_support import BLOCKED, CLEAN, Api, build_api
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from api.app import create_app
from api.settings import Settings
from notecheck.store.models import AuditEvent, FindingRow, NoteResult
from notecheck.store.results import GATE_SCAN_ID

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def count(api: Api, model) -> int:  # type: ignore[no-untyped-def]
    with api.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- 200 -------------------------------------------------------------------------------------------------------
def test_check_returns_the_report_and_stores_nothing(api: Api) -> None:
    response = api.post("/v1/check", json={"id": "N-1", "text": BLOCKED, "office": "Rockville"})
    assert response.status_code == 200
    report = response.json()
    assert report["note_id"] == "N-1"
    assert report["decision"] == "block"
    assert set(report["elements"]) == {
        "date",
        "contact_method",
        "participants",
        "location",
        "purpose",
        "substance",
        "next_steps",
    }
    assert {f["category"] for f in report["findings"] if f["kind"] == "prohibited"} >= {"substance_use"}
    assert BLOCKED not in response.text
    assert count(api, NoteResult) == 0 and count(api, AuditEvent) == 0


def test_check_accepts_a_note_without_id_and_keeps_unknown_fields_out(api: Api) -> None:
    response = api.post("/v1/check", json={"text": CLEAN, "case_worker_notes_v2": {"x": 1}})
    assert response.status_code == 200
    assert response.json()["note_id"] is None


def test_gate_allows_a_clean_note(api: Api) -> None:
    response = api.post("/v1/gate", json={"id": "ok-1", "text": CLEAN, "contact_date": "2026-03-04"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["decision"] in ("allow", "warn")
    assert count(api, NoteResult) == 0 and count(api, AuditEvent) == 0


def test_gate_warn_is_200_with_findings(api: Api) -> None:
    text = "Client was very lazy and unmotivated today. Called client at the office about the job fair. Next: 3/8."
    response = api.post("/v1/gate", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "warn"
    assert any(f["severity"] == "warning" for f in body["findings"])


# -- 422 block ---------------------------------------------------------------------------------------------------
def test_gate_blocks_with_problem_json_records_the_note_and_audits(api: Api) -> None:
    response = api.post("/v1/gate", json={"id": "N-42", "text": BLOCKED, "office": "Rockville", "staff": "J. Ortiz"})
    body = assert_problem(response, 422)
    assert body["type"].endswith("/note-blocked")
    assert body["decision"] == "block" and body["note_id"] == "N-42"
    blocking = [f for f in body["findings"] if f["severity"] == "error"]
    assert blocking
    for finding in blocking:
        assert {"category", "start", "end", "message", "policy_ref", "fingerprint"} <= set(finding)
        assert 0 <= finding["start"] < finding["end"] <= len(BLOCKED)
    assert BLOCKED not in response.text

    with api.db.session() as session:
        row = session.scalar(select(NoteResult).where(NoteResult.scan_id == GATE_SCAN_ID))
        assert row is not None and row.note_id == "N-42" and row.decision == "block" and row.office == "Rockville"
        stored = {f.fingerprint for f in session.scalars(select(FindingRow).where(FindingRow.note_pk == row.id))}
        assert {f["fingerprint"] for f in body["findings"]} == stored
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "gate.block"))
        assert event is not None
        assert event.actor == "checker" and event.actor_type == "api_key" and event.note_id == "N-42"
        assert event.at is not None
        assert sorted(event.fingerprints) == sorted(f["fingerprint"] for f in blocking)
        assert "substance_use" in event.detail["categories"]
        assert "drug" not in json.dumps(event.detail) and "probation" not in json.dumps(event.detail)


def test_gate_block_then_fix_replaces_nothing_but_audits_each_block(api: Api) -> None:
    for _ in range(2):
        assert api.post("/v1/gate", json={"id": "N-7", "text": BLOCKED}).status_code == 422
    with api.db.session() as session:
        assert session.scalar(select(func.count()).select_from(NoteResult).where(NoteResult.note_id == "N-7")) == 1
        assert session.scalar(select(func.count()).where(AuditEvent.action == "gate.block")) == 2


def test_blocked_note_without_id_is_recorded_under_a_digest(api: Api) -> None:
    assert api.post("/v1/gate", json={"text": BLOCKED}).status_code == 422
    with api.db.session() as session:
        row = session.scalar(select(NoteResult))
        assert row is not None and len(row.note_id) == 16


# -- override -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["reviewer", "admin"])
def test_reviewer_or_admin_override_lets_the_note_through_and_is_audited(api: Api, who: str) -> None:
    body = {"id": f"O-{who}", "text": BLOCKED, "office": "Rockville", "override_reason": "Supervisor approved: court"}
    response = api.post("/v1/gate", who, json=body)
    assert response.status_code == 200
    assert response.json()["decision"] == "block"
    with api.db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "gate.override"))
        assert event is not None and event.actor == who and event.note_id == f"O-{who}"
        assert event.detail["reason"] == "Supervisor approved: court"
        assert event.fingerprints
        assert session.scalar(select(NoteResult).where(NoteResult.note_id == f"O-{who}")) is not None


@pytest.mark.parametrize("text", [BLOCKED, CLEAN])
def test_checker_key_may_not_override(api: Api, text: str) -> None:
    body = assert_problem(api.post("/v1/gate", json={"text": text, "override_reason": "please"}), 403)
    assert "override" in body["detail"]
    assert count(api, AuditEvent) == 0


def test_blank_override_reason_is_invalid(api: Api) -> None:
    body = assert_problem(api.post("/v1/gate", "admin", json={"text": BLOCKED, "override_reason": "   "}), 422)
    assert body["errors"][0]["field"] == "override_reason"


# -- 400 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"{not json", b'{"text": "abc"', b"\xff\xfe"])
def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    response = api.post("/v1/gate", content=raw, headers={"Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert body["errors"] == [{"field": "body", "message": "not valid JSON"}]


# -- 401 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nck_00000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
@pytest.mark.parametrize("path", ["/v1/check", "/v1/gate", "/v1/scans"])
def test_missing_or_bad_key_is_401_with_bearer_challenge(api: Api, headers: dict, path: str) -> None:
    response = api.post(path, None, json={"text": CLEAN}, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_key_with_the_right_prefix_but_wrong_secret_is_401(api: Api) -> None:
    good = api.keys["checker"]
    wrong = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert_problem(api.post("/v1/check", None, json={"text": CLEAN}, headers={"Authorization": f"Bearer {wrong}"}), 401)


def test_revoked_key_is_refused_once_the_cache_expires(api: Api) -> None:
    from notecheck.keys import revoke_key

    assert api.post("/v1/check", json={"text": CLEAN}).status_code == 200
    with api.db.session() as session:
        revoke_key(session, "checker")
    api.app.state.notecheck.keys.forget()  # what the TTL does on its own after key_cache_seconds
    assert_problem(api.post("/v1/check", json={"text": CLEAN}), 401)


# -- 403 ----------------------------------------------------------------------------------------------------------
def test_wrong_role_is_403(api: Api) -> None:
    body = assert_problem(api.post("/v1/scans", json={"input": "notes.jsonl"}), 403)
    assert "admin" in body["detail"]


def test_wrong_office_is_403(api: Api) -> None:
    assert_problem(api.post("/v1/gate", "bethesda-checker", json={"text": CLEAN, "office": "Rockville"}), 403)
    assert_problem(api.post("/v1/gate", "reviewer", json={"text": CLEAN, "office": "Bethesda"}), 403)
    assert api.post("/v1/gate", "bethesda-checker", json={"text": CLEAN, "office": "Bethesda"}).status_code == 200
    assert api.post("/v1/gate", "admin", json={"text": CLEAN, "office": "Anywhere"}).status_code == 200


# -- 404, 405 -----------------------------------------------------------------------------------------------------
def test_unknown_path_is_404_problem(api: Api) -> None:
    assert_problem(api.client.get("/v1/nothing-here"), 404)


def test_wrong_method_is_405_problem_with_allow(api: Api) -> None:
    response = api.client.get("/v1/gate", headers=api.headers("checker"))
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"
    assert_problem(api.client.delete("/v1/check"), 405)


# -- 413 ----------------------------------------------------------------------------------------------------------
def test_text_over_the_limit_is_413(api: Api) -> None:
    body = assert_problem(api.post("/v1/gate", json={"text": "word " * 500}), 413)  # 2,500 characters > 2,000
    assert body["errors"][0]["field"] == "text"
    assert "word word" not in json.dumps(body)


def test_body_over_the_byte_cap_is_413_before_parsing(api: Api) -> None:
    response = api.post("/v1/gate", content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


def test_streamed_body_over_the_byte_cap_is_413(api: Api) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = api.post("/v1/gate", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


def test_default_limit_is_64_kib_of_text(tmp_path, checker) -> None:  # type: ignore[no-untyped-def]
    with build_api(tmp_path, checker) as client:
        assert client.app.state.notecheck.max_text_chars == 65536
        assert_problem(client.post("/v1/check", json={"text": "a" * 65537}), 413)


# -- 422 validation -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": 5}, "text"),
        ({"text": ["a"]}, "text"),
        ({}, "text"),
        ({"text": CLEAN, "title": {"a": 1}}, "title"),
        ({"text": CLEAN, "id": 12}, "id"),
        ({"text": CLEAN, "office": False}, "office"),
        ({"text": CLEAN, "contact_date": "next tuesday"}, "contact_date"),
        ({"text": CLEAN, "entered_at": "yesterday-ish"}, "entered_at"),
        ({"text": "   "}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"text": CLEAN, "office": "x" * 201}, "office"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/check", "/v1/gate"])
def test_wrong_field_is_422_naming_the_field(api: Api, body: dict, field: str, path: str) -> None:
    problem = assert_problem(api.post(path, json=body), 422)
    assert field in [e["field"] for e in problem["errors"]]


def test_body_that_is_not_an_object_is_422(api: Api) -> None:
    problem = assert_problem(api.post("/v1/check", json=["text"]), 422)
    assert problem["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "body",
    [
        {"text": 123456789, "title": "SECRET-TITLE-VALUE"},
        {"text": "SECRET-TEXT-VALUE denies drug use", "title": ["SECRET-TITLE-VALUE"]},
        {"text": "SECRET-TEXT-VALUE", "contact_date": "SECRET-DATE-VALUE"},
        {"text": "SECRET-TEXT-VALUE", "id": {"SECRET-ID-VALUE": 1}},
    ],
)
def test_validation_errors_never_echo_the_input(api: Api, body: dict) -> None:
    response = api.post("/v1/gate", json=body)
    assert response.status_code == 422
    assert "SECRET" not in response.text and "123456789" not in response.text
    assert "input" not in response.json()["errors"][0]


# -- 5xx ----------------------------------------------------------------------------------------------------------
class ExplodingChecker:
    """A stand-in checker whose failure message quotes the note, as a careless library might."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.policy = real.policy

    def check_note(self, note):  # type: ignore[no-untyped-def]
        raise ValueError(f"cannot handle {note.text!r}")


def test_internal_error_is_a_bare_500_problem(tmp_path, checker) -> None:  # type: ignore[no-untyped-def]
    with build_api(tmp_path, ExplodingChecker(checker)) as client:
        response = client.post("/v1/check", json={"text": "SECRET-TEXT-VALUE"})
        assert_problem(response, 500)
        assert "SECRET" not in response.text and "ValueError" not in response.text


def test_gate_answers_503_not_200_when_a_block_cannot_be_recorded(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken_session():  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    assert api.post("/v1/gate", json={"text": CLEAN}).status_code == 200  # the key is now cached
    monkeypatch.setattr(api.app.state.notecheck.db, "session", broken_session)
    body = assert_problem(api.post("/v1/gate", json={"text": BLOCKED}), 503)
    assert "not" in body["detail"]
    assert api.post("/v1/gate", json={"text": CLEAN}).status_code == 200  # allow needs no write
    assert_problem(api.post("/v1/gate", "admin", json={"text": CLEAN}), 503)  # an uncached key cannot be checked


# -- concurrency ----------------------------------------------------------------------------------------------------
class SlowChecker:
    """Holds every check until released, to show checks do not run on the event loop."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real, self.policy = real, real.policy
        self.entered, self.release = threading.Event(), threading.Event()

    def check_note(self, note):  # type: ignore[no-untyped-def]
        self.entered.set()
        assert self.release.wait(30)
        return self.real.check_note(note)


def test_a_running_check_does_not_stall_other_requests(tmp_path, checker) -> None:  # type: ignore[no-untyped-def]
    slow = SlowChecker(checker)
    with build_api(tmp_path, slow) as client:
        result: dict = {}
        worker = threading.Thread(
            target=lambda: result.update(response=client.post("/v1/check", json={"text": CLEAN})), daemon=True
        )
        worker.start()
        assert slow.entered.wait(30)
        assert client.client.get("/healthz").status_code == 200  # answered while the check is held
        assert "response" not in result
        slow.release.set()
        worker.join(30)
        assert result["response"].status_code == 200


# -- service routes -------------------------------------------------------------------------------------------------
def test_healthz(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checker_version": response.json()["checker_version"],
        "policy": "default",
    }


def test_metrics_count_decisions_and_never_carry_text(api: Api) -> None:
    api.post("/v1/gate", json={"id": "METRIC-NOTE-ID", "text": BLOCKED})
    api.post("/v1/gate", json={"text": CLEAN})
    api.client.get("/v1/no-such-route-with-a-long-name")
    response = api.client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'notecheck_decisions_total{decision="block",route="/v1/gate"} 1.0' in text
    assert (
        'notecheck_findings_total{category="substance_use",kind="prohibited",route="/v1/gate",severity="error"}' in text
    )
    assert "notecheck_gate_blocks_total 1.0" in text
    assert 'route="unmatched"' in text and "no-such-route" not in text
    assert "METRIC-NOTE-ID" not in text and "probation" not in text
    assert "process_resident_memory_bytes" in text


def test_key_cache_saves_the_hash_on_repeat_requests(api: Api) -> None:
    verifier = api.app.state.notecheck.keys
    for _ in range(5):
        assert api.post("/v1/check", json={"text": CLEAN}).status_code == 200
    assert verifier.hits >= 4


def test_openapi_documents_the_routes_with_problem_json(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    assert {"/v1/check", "/v1/gate", "/v1/scans", "/v1/scans/{scan_id}", "/healthz", "/metrics"} <= set(schema["paths"])
    gate = schema["paths"]["/v1/gate"]["post"]
    for code in ("400", "401", "403", "413", "422"):
        assert list(gate["responses"][code]["content"]) == [PROBLEM]
    assert gate["security"] == [{"HTTPBearer": []}]


def test_js_gate_and_example_page_are_served(api: Api) -> None:
    js = api.client.get("/static/notecheck-gate.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "NotecheckGate" in js.text and "/v1/gate" in js.text
    page = api.client.get("/example")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/notecheck-gate.js" in page.text and "notecheck keys create" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert api.client.get("/static/example.js").status_code == 200
    assert api.client.get("/static/notecheck-gate.css").status_code == 200


def test_create_app_takes_its_settings_not_globals(tmp_path, checker) -> None:  # type: ignore[no-untyped-def]
    one = create_app(checker, Settings(db_url=f"sqlite:///{tmp_path / 'a.db'}", example_page=False))
    two = create_app(checker, Settings(db_url=f"sqlite:///{tmp_path / 'b.db'}", max_text_chars=10))
    assert one.state.notecheck.metrics.registry is not two.state.notecheck.metrics.registry
    assert one.state.notecheck.max_text_chars == 65536 and two.state.notecheck.max_text_chars == 10
    assert not any(getattr(r, "path", None) == "/example" for r in one.routes)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"text": "Called client \\ud800 today about training."}', "text"),
        (b'{"text": "Called client today.", "office": "Rock\\udc00ville"}', "office"),
        (b'{"text": "denies drug use", "override_reason": "ok \\ud800"}', "override_reason"),
    ],
)
def test_unpaired_surrogates_are_422_not_500(api: Api, raw: bytes, field: str) -> None:
    response = api.post("/v1/gate", "admin", content=raw, headers={"Content-Type": "application/json"})
    assert field in [e["field"] for e in assert_problem(response, 422)["errors"]]


def test_deeply_nested_json_is_400_not_500(api: Api) -> None:
    response = api.post("/v1/gate", content=b"[" * 60_000, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
