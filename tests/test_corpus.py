"""The corpus build: validation, the stable split, the written files, the demo sample."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from notecheck import corpus
from notecheck.corpus import (
    CorpusError,
    apply_fixes,
    merge,
    sample_notes,
    split_of,
    statistics,
    validate_bank,
    validate_record,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def _record(**overrides):  # type: ignore[no-untyped-def]
    record = {
        "id": "x-0001",
        "text": "Met client at the office. She has a court date 3/14 and her PO wants a letter.",
        "contact_date": "2025-03-04",
        "entered_at": "2025-03-05T10:00:00",
        "labels": {
            "prohibited": ["legal", "criminal"],
            "evidence": [
                {"category": "legal", "quote": "court date 3/14"},
                {"category": "criminal", "quote": "her PO"},
            ],
            "pii": [],
            "pii_evidence": [],
            "elements": dict.fromkeys(
                ("date", "contact_method", "participants", "location", "purpose", "substance", "next_steps"), True
            ),
            "quality": [],
            "hard_negative": False,
        },
    }
    for key, value in overrides.items():
        if key in record["labels"]:
            record["labels"][key] = value
        else:
            record[key] = value
    return record


def test_a_good_record_passes() -> None:
    assert validate_record(_record()) == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {
                "evidence": [
                    {"category": "legal", "quote": "court date 3/15"},
                    {"category": "criminal", "quote": "her PO"},
                ]
            },
            "not an exact substring",
        ),
        ({"prohibited": ["legal", "criminal", "astrology"]}, "unknown prohibited category"),
        ({"prohibited": ["legal", "criminal", "medical"]}, "medical has no evidence"),
        ({"hard_negative": True}, "hard negative"),
        ({"pii": ["PHONE_NUMBER"]}, "PHONE_NUMBER has no evidence"),
        ({"quality": ["rude"]}, "unknown quality"),
        ({"contact_date": "03/04/2025"}, "contact_date"),
        ({"elements": {"date": True}}, "elements must have exactly"),
    ],
)
def test_bad_records_are_reported_with_their_id(overrides, reason) -> None:  # type: ignore[no-untyped-def]
    problems = validate_record(_record(**overrides))
    assert problems and all(p.startswith("x-0001: ") for p in problems)
    assert any(reason in p for p in problems), problems


def test_split_depends_on_the_id_only_and_is_about_60_20_20() -> None:
    assert split_of("a-0001") == split_of("a-0001")
    counts = Counter(split_of(f"n-{i:05d}") for i in range(5000))
    assert abs(counts["train"] / 5000 - 0.6) < 0.03
    assert abs(counts["dev"] / 5000 - 0.2) < 0.03
    assert abs(counts["test"] / 5000 - 0.2) < 0.03


def _write_raw(tmp_path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "part_a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return raw


def test_merge_rejects_duplicate_ids_and_lists_every_problem(tmp_path: Path) -> None:
    bad = _record(id="x-0002", prohibited=["legal", "criminal", "medical"])
    raw = _write_raw(tmp_path, [_record(), _record(), bad])
    with pytest.raises(CorpusError) as caught:
        merge(raw)
    message = str(caught.value)
    assert "x-0001: duplicate id" in message and "x-0002: category medical has no evidence" in message


def test_label_fixes_are_applied_and_need_a_reason(tmp_path: Path) -> None:
    records = [_record()]
    changed = apply_fixes(records, [{"id": "x-0001", "set": {"quality": ["slang"]}, "reason": "uses 'cx'"}])
    assert changed == ["x-0001"] and records[0]["labels"]["quality"] == ["slang"]
    with pytest.raises(CorpusError):
        apply_fixes(records, [{"id": "x-0001", "set": {"quality": []}, "reason": ""}])
    with pytest.raises(CorpusError):
        apply_fixes(records, [{"id": "nope", "set": {"quality": []}, "reason": "r"}])


def test_build_writes_splits_and_a_sample_without_test_notes(tmp_path: Path) -> None:
    records = [_record(id=f"x-{i:04d}") for i in range(40)]
    raw = _write_raw(tmp_path, records)
    (tmp_path / "README.md").write_text("# data\n", encoding="utf-8")
    sample = tmp_path / "pkg" / "sample_notes.jsonl"
    built = corpus.build(raw.parent, sample)
    written = {s: [json.loads(x) for x in (tmp_path / f"{s}.jsonl").read_text().splitlines()] for s in corpus.SPLITS}
    assert sum(len(v) for v in written.values()) == 40
    for name, rows in written.items():
        assert all(r["split"] == name == split_of(r["id"]) for r in rows)
    demo = [json.loads(x) for x in sample.read_text().splitlines()]
    test_ids = {r["id"] for r in built.split("test")}
    assert demo and not test_ids & {n["id"] for n in demo}
    assert all(set(n) <= set(corpus.NOTE_FIELDS) for n in demo)
    readme = (tmp_path / "README.md").read_text()
    assert corpus.README_BEGIN in readme and "| notes | >= 600 | 40 | **no** |" in readme
    corpus.build(raw.parent, sample)  # rebuilding replaces the counts, it does not append them
    assert (tmp_path / "README.md").read_text().count(corpus.README_BEGIN) == 1


def test_the_committed_corpus_is_what_the_build_makes() -> None:
    built = merge(DATA / "raw", DATA / "label_fixes.json")
    committed = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert committed == built.records
    stats = statistics(built.records)
    assert stats["all"]["notes"] >= 600
    assert stats["all"]["with prohibited content"] >= 250
    assert min(stats["all"]["categories"].values()) >= 20
    assert stats["all"]["hard negatives"] >= 150
    assert stats["all"]["with PII"] >= 60


def test_sample_notes_are_stable_and_unlabeled() -> None:
    built = merge(DATA / "raw", DATA / "label_fixes.json")
    first, second = sample_notes(built.records), sample_notes(built.records)
    assert first == second and len(first) == corpus.SAMPLE_SIZE
    assert all("labels" not in n and "split" not in n for n in first)


def test_sentence_banks_are_validated(tmp_path: Path) -> None:
    rows = [
        {"id": "s-1", "text": "Has court 5/12.", "categories": ["legal"], "hard_negative": False},
        {"id": "s-1", "text": "Another.", "categories": [], "hard_negative": False},
        {"id": "s-2", "text": "has court 5/12.", "categories": [], "hard_negative": False},
        {"id": "s-3", "text": "CNA class.", "categories": ["nursing"], "hard_negative": True},
    ]
    path = tmp_path / "bank.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    problems = validate_bank([path])
    assert any("s-1" in p and "unique" in p for p in problems)
    assert any("s-2" in p and "same text" in p for p in problems)
    assert any("s-3" in p and "categories" in p for p in problems)
    assert any("s-3" in p and "hard negative" in p for p in problems)


def test_the_committed_sentence_banks_are_valid() -> None:
    banks = sorted((DATA / "sentences").glob("*.jsonl"))
    assert banks and validate_bank(banks) == []
