"""The agency suppression list: a fingerprint an admin dismissed is not raised again — by the checker, a scan or
the HTTP API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from notecheck.checker import Checker
from notecheck.keys import create_key
from notecheck.scan import scan_notes
from notecheck.store import Database, FindingRow, Suppression

NOTE = "Called client about the Foster Farms opening; she was in county lockup last year. I will call Friday."


def _lockup(report):  # type: ignore[no-untyped-def]
    return next(f for f in report.findings if f.category == "criminal")


def test_checker_drops_suppressed_fingerprints_and_keeps_the_rest() -> None:
    checker = Checker(policy="default", classifier=False)
    before = checker.check(NOTE)
    finding = _lockup(before)
    checker.set_suppressed([finding.fingerprint])
    after = checker.check(NOTE)
    assert finding.fingerprint not in {f.fingerprint for f in after.findings}
    assert {f.fingerprint for f in after.findings} == {f.fingerprint for f in before.findings} - {finding.fingerprint}
    assert before.decision == "block" and after.decision != "block"


def test_a_scan_reads_the_suppression_list_from_the_database(checker, database_url) -> None:  # type: ignore[no-untyped-def]
    db = Database(database_url)
    fingerprint = _lockup(checker.check(NOTE)).fingerprint
    with db.session() as session:
        session.add(Suppression(fingerprint=fingerprint, rule="r", category="criminal", created_by="admin"))
    scan_notes([{"id": "n1", "text": NOTE, "office": "Helena"}], db, checker=Checker(policy="default"))
    with db.session() as session:
        stored = {f.fingerprint for f in session.query(FindingRow).filter(FindingRow.note_id == "n1")}
    assert stored and fingerprint not in stored
    db.dispose()


def test_an_admin_dismissal_with_suppress_stops_the_gate_flagging_it(sqlite_url) -> None:  # type: ignore[no-untyped-def]
    db = Database(sqlite_url)
    with db.session() as session:
        _, admin = create_key(session, name="admin", role="admin")
    app = create_app(Checker(policy="default"), Settings(db_url=sqlite_url))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        blocked = client.post("/v1/gate", json={"id": "n1", "text": NOTE, "office": "Helena"})
        assert blocked.status_code == 422
        with db.session() as session:
            row = session.query(FindingRow).filter(FindingRow.note_id == "n1", FindingRow.category == "criminal").one()
            finding_id, fingerprint = row.id, row.fingerprint
        review = client.post(
            f"/v1/findings/{finding_id}/review",
            json={"verdict": "dismissed", "reason": "agency allows this", "suppress": True},
        )
        assert review.status_code == 200, review.text
        again = client.post("/v1/check", json={"text": NOTE})
        assert again.status_code == 200
        assert fingerprint not in {f["fingerprint"] for f in again.json()["findings"]}
    db.dispose()
