"""The queue index on SQLite and PostgreSQL: latest result per note, risk order, facets, scope, navigation,
verdicts that survive rescans."""

from __future__ import annotations

import time

import pytest
from review_support import synthetic

from api.review.filters import Filters
from api.review.queue_index import Queue
from api.review.scope import Viewer
from api.review.verdicts import findings_of_note, record, reopen
from notecheck.store import Database
from notecheck.store.models import NoteResult

ADMIN = Viewer("ada", "admin", ())
ROCKVILLE = Viewer("rita", "reviewer", ("Rockville",))


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    yield database
    database.dispose()


def pks(db: Database) -> dict[str, int]:
    from sqlalchemy import select

    with db.session() as session:
        rows = session.execute(select(NoteResult.note_id, NoteResult.id).order_by(NoteResult.id)).all()
    return dict(rows)  # the latest row per note id wins


def page_ids(queue: Queue, db: Database, filters: Filters = Filters(), viewer: Viewer = ADMIN) -> list[str]:
    with db.session() as session:
        return [n.note_id for n in queue.page(session, filters, viewer).notes]


def test_risk_order_latest_result_and_scope(db: Database) -> None:
    synthetic(db, "s1", "quality-only", [("quality", "slang", "warning")])
    synthetic(db, "s1", "pii-warn", [("pii", "PHONE_NUMBER", "warning")])
    synthetic(db, "s1", "prohibited", [("prohibited", "criminal", "error"), ("quality", "vague", "info")])
    synthetic(db, "s1", "pii-error", [("pii", "US_SSN", "error")], office="Wheaton")
    synthetic(db, "s1", "late", [("timeliness", "late_entry", "warning")])
    synthetic(db, "s1", "fixed-later", [("prohibited", "medical", "error")])
    synthetic(db, "s1", "clean", [])
    synthetic(db, "gate", "gate-block", [("prohibited", "legal", "error")])  # inline gate blocks count too
    queue = Queue()
    assert page_ids(queue, db)[:3] == ["gate-block", "fixed-later", "prohibited"]  # equal risk: most recent first
    time.sleep(0.01)
    synthetic(db, "s2", "fixed-later", [])  # rescanned after an edit: now allowed, so it leaves the queue
    order = page_ids(queue, db)
    assert order[:2] == ["gate-block", "prohibited"]
    assert order[2:] == ["pii-error", "pii-warn", "quality-only", "late"]
    assert "clean" not in order and "fixed-later" not in order
    assert page_ids(queue, db, viewer=ROCKVILLE) == ["gate-block", "prohibited", "pii-warn", "quality-only", "late"]


def test_facets_count_notes_with_every_other_filter(db: Database) -> None:
    synthetic(db, "s1", "a", [("prohibited", "criminal", "error"), ("pii", "US_SSN", "error")])
    synthetic(db, "s1", "b", [("pii", "PHONE_NUMBER", "warning")], staff="M. Okafor")
    synthetic(db, "s1", "c", [("quality", "opinion", "warning")], office="Wheaton")
    queue = Queue()
    filters = Filters(kind="pii", status=None)
    with db.session() as session:
        facets = queue.facets(session, filters, ADMIN)
        result = queue.page(session, filters, ADMIN)
    assert facets["kind"] == {"pii": 2, "prohibited": 1, "quality": 1}
    assert facets["office"] == {"Rockville": 2}
    assert facets["category"] == {"PHONE_NUMBER": 1, "US_SSN": 1}
    assert facets["staff"] == {"J. Ortiz": 1, "M. Okafor": 1}
    assert facets["status"] == {"open": 2}
    assert (result.total_notes, result.total_findings) == (2, 2)
    with db.session() as session:
        api = queue.facets(session, Filters(status=None), ADMIN, per="finding")
    assert api["kind"] == {"pii": 2, "prohibited": 1, "quality": 1}


def test_verdicts_follow_the_fingerprint_across_rescans(db: Database) -> None:
    synthetic(db, "s1", "n1", [("prohibited", "criminal", "error"), ("pii", "US_SSN", "error")])
    queue = Queue()
    with db.session() as session:
        rows = findings_of_note(session, pks(db)["n1"])
        record(session, ROCKVILLE, [r for r in rows if r.kind == "pii"], "dismissed", reason="x", reason_code="other")
    with db.session() as session:
        assert queue.page(session, Filters(status="dismissed"), ADMIN).total_findings == 1
    time.sleep(0.01)
    synthetic(db, "s2", "n1", [("prohibited", "criminal", "error"), ("pii", "US_SSN", "error")])  # rescan
    with db.session() as session:
        dismissed = queue.page(session, Filters(status="dismissed"), ADMIN)
        open_ = queue.page(session, Filters(), ADMIN)
    assert [n.pk for n in dismissed.notes] == [pks(db)["n1"]]  # the new result carries the old verdict
    assert open_.total_findings == 1 and open_.notes[0].counts == {"open": 1, "confirmed": 0, "dismissed": 1}


def test_pagination_and_neighbours(db: Database) -> None:
    for i in range(7):
        synthetic(db, "s1", f"n{i}", [("prohibited", "criminal", "error")] if i % 2 else [("pii", "US_SSN", "error")])
    queue = Queue()
    with db.session() as session:
        first = queue.page(session, Filters(), ADMIN, page=1, per_page=3)
        third = queue.page(session, Filters(), ADMIN, page=3, per_page=3)
        everything = queue.page(session, Filters(), ADMIN, per_page=50).notes
    assert len(first.notes) == 3 and len(third.notes) == 1 and first.total_notes == 7
    ids = [n.pk for n in everything]
    with db.session() as session:
        walk = [ids[0]]
        while (step := queue.neighbour(session, Filters(), ADMIN, walk[-1], None, forward=True)) is not None:
            walk.append(step)
        back = queue.neighbour(session, Filters(), ADMIN, ids[3], None, forward=False)
        # a note that has left the queue (all decided) still knows its place, from the risk it was shown with
        rows = findings_of_note(session, ids[2])
        record(session, ADMIN, rows, "confirmed", reason=None, reason_code=None)
    with db.session() as session:
        after_decided = queue.neighbour(session, Filters(), ADMIN, ids[2], everything[2].risk, forward=True)
    assert walk == ids and back == ids[2] and after_decided == ids[3]


def test_the_index_notices_new_results_and_verdicts(db: Database) -> None:
    queue = Queue()
    with db.session() as session:
        assert queue.page(session, Filters(), ADMIN).total_notes == 0
    synthetic(db, "s1", "n1", [("quality", "slang", "warning")])
    with db.session() as session:
        assert queue.page(session, Filters(), ADMIN).total_notes == 1
        record(session, ADMIN, findings_of_note(session, pks(db)["n1"]), "confirmed", reason=None, reason_code=None)
    with db.session() as session:
        assert queue.page(session, Filters(), ADMIN).total_notes == 0
        reopen(session, ADMIN, findings_of_note(session, pks(db)["n1"]))  # a removed verdict: open again
    with db.session() as session:
        assert queue.page(session, Filters(), ADMIN).total_notes == 1
        assert queue.page(session, Filters(status="confirmed"), ADMIN).total_notes == 0


def test_appending_new_results_matches_a_rebuild(db: Database) -> None:
    """The long-lived index, extended result by result, answers exactly as one built from scratch."""
    import random

    from notecheck.report import CATEGORIES

    rng = random.Random(3)
    shapes = [(k, c, s) for k, cats in CATEGORIES.items() for c in cats[:2] for s in ("error", "warning", "info")]
    kept = Queue()
    filters = [Filters(), Filters(status=None), Filters(kind="pii", status=None), Filters(office="Wheaton")]
    for step in range(30):
        note_id = f"n{rng.randrange(12)}"
        findings = rng.sample(shapes, rng.choice([0, 1, 2, 3]))
        office = rng.choice(["Rockville", "Wheaton"])
        synthetic(db, rng.choice(["s1", "s2", "gate"]), note_id, findings, office=office)
        if step % 5 == 4:
            with db.session() as session:
                some = findings_of_note(session, max(pks(db).values()))
                if some:
                    record(session, ADMIN, some[:1], "confirmed", reason=None, reason_code=None)
        with db.session() as session:
            extended = kept.view(session)
            fresh = Queue().view(session)
            for f in filters:
                a, b = extended.page(f, ADMIN), fresh.page(f, ADMIN)
                assert [(n.note_id, n.risk, n.counts) for n in a.notes] == [
                    (n.note_id, n.risk, n.counts) for n in b.notes
                ]
                assert (a.total_notes, a.total_findings) == (b.total_notes, b.total_findings)
                assert extended.facets(f, ADMIN) == fresh.facets(f, ADMIN)
    assert kept.extensions > kept.builds  # it really was extended, not rebuilt each time
