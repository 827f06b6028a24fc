"""Caseload checks across notes: contact gaps (program intervals, letters), youth follow-ups, cloned notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scan_support import read_reports, write_jsonl
from sqlalchemy import select

from notecheck.checker import Checker
from notecheck.scan import ScanOptions, run_scan, scan_notes
from notecheck.scan.caseload import CASELOAD_RULES, CLONED_RULE, CONTACT_GAP_RULE, FOLLOW_UP_RULE, add_months
from notecheck.store import Database, FindingRow, NoteResult

CLONE_TEXT = (
    "Phone call with the client about the forklift certification course at the Lowell career center. We reviewed "
    "the schedule, the cost of the course and the bus route, and she chose the Saturday section. She will bring "
    "her paperwork on Monday and I will confirm her seat with the training provider by Friday."
)


def note(note_id: str, client: str, day: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": note_id, "client_id": client, "contact_date": day, "entered_at": f"{day}T10:00:00",
            "staff": extra.pop("staff", f"staff-{client}"), "office": "Lowell", "program": "WIOA Adult",
            "text": text, **extra}  # fmt: skip


def phone(topic: str) -> str:
    return f"Phone call with the client about {topic}. We went over what she needs next. I will email the form today."


NOTES = [
    # C1: 23 days, then 55 days (over 30)
    note("c1-1", "C1", "2024-01-02", phone("the welding program intake")),
    note("c1-2", "C1", "2024-01-25", phone("her resume for the warehouse openings")),
    note("c1-3", "C1", "2024-03-20", phone("the job fair at the community college")),
    # C2: a letter in between: counts by default, not under masshire (60 days)
    note("c2-1", "C2", "2024-01-05", phone("the CNA class waitlist"), program="MassHire Career Center"),
    note(
        "c2-2",
        "C2",
        "2024-02-20",
        "Mailed a letter to the client with the workshop schedule and the sign-up form.",
        program="MassHire Career Center",
    ),  # fmt: skip
    note(
        "c2-3", "C2", "2024-03-25", phone("the interview at the distribution center"), program="MassHire Career Center"
    ),
    # C3: a veteran, 45 days (over masshire's 30 for veterans); C4 the same gap, not a veteran (under 60)
    note("c3-1", "C3", "2024-02-01", phone("the DVOP referral and his DD-214"), program="Veterans Services"),
    note("c3-2", "C3", "2024-03-17", phone("the HVAC apprenticeship application"), program="Veterans Services"),
    note("c4-1", "C4", "2024-02-01", phone("the bank teller training"), program="Career Center"),
    note("c4-2", "C4", "2024-03-17", phone("the teller exam practice test"), program="Career Center"),
    # Y1: youth, exits 2023-11-01; a month-1 follow-up on 2023-11-20, none in month 3 (2024-01-02 to 2024-02-16);
    # month 5 ends 2024-04-16, after the end of the data: not yet due
    note("y1-1", "Y1", "2023-10-10", phone("the summer work experience site"), program="WIOA Youth"),
    note(
        "y1-2",
        "Y1",
        "2023-11-01",
        phone("his exit from the program and the first paycheck"),
        program="WIOA Youth",
        exit_date="2023-11-01",
    ),  # fmt: skip
    note("y1-3", "Y1", "2023-11-20", phone("how the first weeks at the job went"), program="WIOA Youth"),
    # K1: a client's near-copy; K2/K3: two clients of one staff member with the same note
    note("k1-1", "K1", "2024-03-01", CLONE_TEXT),
    note("k1-2", "K1", "2024-03-15", CLONE_TEXT.replace("on Monday", "on Tuesday")),
    note("k2-1", "K2", "2024-03-12", CLONE_TEXT.replace("Lowell", "Lawrence"), staff="S. Clone"),
    note("k3-1", "K3", "2024-03-20", CLONE_TEXT.replace("Lowell", "Lawrence"), staff="S. Clone"),
]
AS_OF = "2024-04-10"


def _findings(db: Database, scan_id: str) -> dict[str, list[FindingRow]]:
    with db.session() as session:
        rows = session.scalars(
            select(FindingRow).where(
                FindingRow.scan_id == scan_id, FindingRow.rule.in_((CONTACT_GAP_RULE, FOLLOW_UP_RULE, CLONED_RULE))
            )
        ).all()
    out: dict[str, list[FindingRow]] = {}
    for row in rows:
        out.setdefault(row.note_id, []).append(row)
    return out


@pytest.fixture
def db(sqlite_url: str):  # type: ignore[no-untyped-def]
    database = Database(sqlite_url)
    yield database
    database.dispose()


def test_default_policy(db: Database, checker: Checker) -> None:
    summary = scan_notes(NOTES, db, checker=checker, as_of=AS_OF)
    found = _findings(db, summary.scan_id)
    rules = {note_id: sorted(f.rule for f in rows) for note_id, rows in found.items()}
    assert rules["c1-3"] == [CONTACT_GAP_RULE] and "c1-2" not in rules
    assert "55 days" in found["c1-3"][0].message and "c1-2" in found["c1-3"][0].message
    assert rules["c2-2"] == [CONTACT_GAP_RULE] and rules["c2-3"] == [CONTACT_GAP_RULE]  # letters count here
    assert rules["c3-2"] == [CONTACT_GAP_RULE] and rules["c4-2"] == [CONTACT_GAP_RULE]
    assert rules["y1-2"] == [FOLLOW_UP_RULE] and "month 3" in found["y1-2"][0].message
    assert rules["k1-2"] == [CLONED_RULE] and "k1-1" in found["k1-2"][0].message
    assert rules["k3-1"] == [CLONED_RULE] and "k2-1" in found["k3-1"][0].message and "staff" in found["k3-1"][0].message
    assert "k1-1" not in rules and "k2-1" not in rules
    assert summary.caseload_findings == sum(len(v) for v in found.values())
    for rows in found.values():
        for f in rows:
            assert f.start is None and f.end is None and f.severity == "warning" and len(f.fingerprint) == 32
    with db.session() as session:
        decision = session.scalar(select(NoteResult.decision).where(NoteResult.note_id == "k1-2"))
    assert decision in ("warn", "block")


def test_masshire_letters_and_veterans(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'nc.db'}"
    out = tmp_path / "out.jsonl"
    path = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    summary = run_scan(
        ScanOptions(input=str(path), out=str(out), db_url=db_url, policy="masshire", workers=1, as_of=AS_OF)
    )
    db = Database(db_url)
    found = _findings(db, summary.scan_id)
    rules = {note_id: sorted(f.rule for f in rows) for note_id, rows in found.items()}
    # the letter is not a contact: one gap of 80 days from c2-1 to c2-3, over 60
    assert "c2-2" not in rules and rules["c2-3"] == [CONTACT_GAP_RULE] and "c2-1" in found["c2-3"][0].message
    assert "80 days" in found["c2-3"][0].message
    assert rules["c3-2"] == [CONTACT_GAP_RULE] and "allows 30" in found["c3-2"][0].message  # veterans: 30
    assert "c4-2" not in rules and "c1-3" not in rules  # 45 and 55 days are within 60
    assert rules["y1-2"] == [FOLLOW_UP_RULE]  # masshire extends default: the youth schedule applies
    # the --out file carries the caseload findings of each affected note, once, with the decision updated
    reports = {r["note_id"]: r for r in read_reports(out)}
    assert len(reports) == len(NOTES)
    for note_id, rows in found.items():
        in_file = [f for f in reports[note_id]["findings"] if f["rule"] in CASELOAD_RULES]
        assert sorted(f["fingerprint"] for f in in_file) == sorted(f.fingerprint for f in rows)
        assert reports[note_id]["decision"] in ("warn", "block")
    with db.session() as session:
        stored = dict(session.execute(select(NoteResult.note_id, NoteResult.decision)).all())
    assert {k: r["decision"] for k, r in reports.items()} == stored
    db.dispose()


def test_fingerprints_are_stable_across_rescans(db: Database, checker: Checker) -> None:
    first = _findings(db, scan_notes(NOTES, db, checker=checker, as_of=AS_OF).scan_id)
    second = _findings(db, scan_notes(list(reversed(NOTES)), db, checker=checker, as_of=AS_OF).scan_id)
    assert {k: sorted(f.fingerprint for f in v) for k, v in first.items()} == {
        k: sorted(f.fingerprint for f in v) for k, v in second.items()
    }


def test_add_months_clamps_to_month_end() -> None:
    import datetime as dt

    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 15), 3) == dt.date(2025, 2, 15)


def test_signatures_are_datasketchs_minhash() -> None:
    """The numpy signatures equal datasketch's affine32 MinHash of the same shingles (stored signatures stay valid)."""
    from datasketch import MinHash

    from notecheck.scan.rows import MIN_SHINGLES, NUM_PERM, shingles, signature, signatures

    texts = [n["text"] for n in NOTES] + ["too short to sign", "", CLONE_TEXT.upper()]
    expected = []
    for text in texts:
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            expected.append(None)
            continue
        minhash = MinHash(num_perm=NUM_PERM, scheme="affine32")
        minhash.update_batch(grams)
        expected.append(minhash.hashvalues.astype("<u4").tobytes())
    assert signatures(texts) == expected
    assert [signature(t) for t in texts] == expected
    assert expected.count(None) == 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab c,.'-_9\tK\u212a\u00e9\u00df\u0130\u4e2d\n")), max_size=80))
def test_shingles_split_ascii_bytes_as_unicode_words(text: str) -> None:
    """The bytes fast path for ASCII text gives the shingles of the plain Unicode split (Kelvin sign and dotted I
    lowercase to ASCII or to two characters; accents and CJK are word characters only to the Unicode pattern)."""
    import re

    from notecheck.scan.rows import shingles

    words = re.findall(r"\w+", text.lower())
    expected = {f"{a} {b} {c}".encode() for a, b, c in zip(words, words[1:], words[2:], strict=False)}
    grams = shingles(text)
    assert set(grams) == expected
    assert len(grams) == len(expected)


def test_band_index_is_datasketchs_lsh() -> None:
    """Same (bands, rows) as datasketch's MinHashLSH for a range of thresholds, and the same candidates in the
    same order for each query."""
    import random

    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from notecheck.scan.caseload import LSH_WEIGHTS, BandIndex, lsh_params
    from notecheck.scan.rows import NUM_PERM

    for threshold in (0.5, 0.7, 0.8, 0.85, 0.9, 0.95):
        probe = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
        assert lsh_params(threshold, NUM_PERM, LSH_WEIGHTS) == (probe.b, probe.r)
    rng = random.Random(5)
    base = np.array([rng.randrange(1 << 32) for _ in range(NUM_PERM)], dtype="<u4")
    signatures = []
    for _ in range(300):  # near and far variants of one signature, so buckets collide
        values = base.copy()
        for position in rng.sample(range(NUM_PERM), rng.choice((1, 4, 16, 64))):
            values[position] = rng.randrange(1 << 32)
        signatures.append(values.tobytes())
    bands, rows = lsh_params(0.85, NUM_PERM, LSH_WEIGHTS)
    ours, theirs = BandIndex(bands, rows), MinHashLSH(threshold=0.85, num_perm=NUM_PERM, params=(bands, rows))
    for key, data in enumerate(signatures, 1000):
        minhash = MinHash(num_perm=NUM_PERM, hashvalues=np.frombuffer(data, dtype="<u4"), scheme="affine32")
        assert ours.query(ours.bands(data)) == theirs.query(minhash)
        ours.insert(key, ours.bands(data))
        theirs.insert(key, minhash, check_duplication=False)


def test_the_staff_spool_of_a_killed_run_is_removed_and_a_finished_run_leaves_none(tmp_path: Path) -> None:
    """The pool's staff pass spools its findings to a temporary file; a run killed in the caseload phase leaves it
    behind (its worker dies with it), and the scan's next caseload pass removes it."""
    import glob
    import os
    import tempfile

    from notecheck.scan import caseload

    path = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    db_url = f"sqlite:///{tmp_path / 'c.db'}"
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "notecheck-staff-*")))
    summary = run_scan(ScanOptions(input=str(path), db_url=db_url, workers=2, out=str(tmp_path / "o.jsonl")))
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "notecheck-staff-*"))) == before
    stale = Path(tempfile.gettempdir()) / f"{caseload._spool_prefix(summary.scan_id)}999-x.pickle"
    stale.write_bytes(b"")
    db = Database(db_url)
    list(caseload.compute_caseload(db, summary.scan_id, Checker().policy))
    db.dispose()
    assert not stale.exists()
