"""Every input format gives the same reports; unknown columns are ignored; columns can be mapped; SQL streams."""

from __future__ import annotations

from pathlib import Path

import pytest
from scan_support import corpus_notes, read_reports, write_csv, write_jsonl, write_parquet, write_sql_table
from sqlalchemy import func, select

from notecheck.errors import InputError
from notecheck.scan import ScanOptions, run_scan
from notecheck.scan.sources import open_source, parse_column_map
from notecheck.store import Database, NoteResult

NOTES = corpus_notes(24)


def _scan(tmp_path: Path, input: str, name: str, **options) -> tuple[list[dict], str]:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / (name + '.db')}"
    out = tmp_path / f"{name}.jsonl"
    summary = run_scan(ScanOptions(input=input, out=str(out), db_url=db, workers=1, batch_size=5, **options))
    assert summary.processed == len(NOTES) and summary.input_errors == 0
    return sorted(read_reports(out), key=lambda r: r["note_id"]), db


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("ref")
    reports, _ = _scan(tmp, str(write_jsonl(tmp / "notes.jsonl", NOTES)), "ref")
    assert len(reports) == len(NOTES)
    return reports


def test_csv_matches_jsonl(tmp_path: Path, reference: list[dict]) -> None:
    reports, _ = _scan(tmp_path, str(write_csv(tmp_path / "notes.csv", NOTES)), "csv")
    assert reports == reference


def test_parquet_matches_jsonl_across_row_groups(tmp_path: Path, reference: list[dict]) -> None:
    path = write_parquet(tmp_path / "notes.parquet", NOTES, row_group_size=7)
    reports, _ = _scan(tmp_path, str(path), "parquet")
    assert reports == reference


def test_parquet_directory_of_part_files(tmp_path: Path, reference: list[dict]) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    write_parquet(folder / "part-0.parquet", NOTES[:10])
    write_parquet(folder / "part-1.parquet", NOTES[10:])
    (folder / "_SUCCESS").write_text("")
    reports, _ = _scan(tmp_path, str(folder), "dir")
    assert reports == reference


def test_parquet_rows_resume_from_any_row(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "notes.parquet", NOTES, row_group_size=5)
    source = open_source(str(path), batch_size=3)
    assert source.total == len(NOTES)
    for start in (1, 5, 6, 12, 24, 25):
        rows = list(source.rows(start))
        assert [r.row for r in rows] == list(range(start, len(NOTES) + 1))
        assert [r.data["id"] for r in rows] == [n["id"] for n in NOTES[start - 1 :]]  # type: ignore[index]


def test_sqlite_query_with_column_map(tmp_path: Path, reference: list[dict]) -> None:
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    write_sql_table(url, NOTES)
    reports, _ = _scan(
        tmp_path,
        url,
        "sql",
        query="SELECT * FROM case_notes ORDER BY pk",
        column_map=parse_column_map("text=body,id=note_id"),
    )
    assert reports == reference


def test_postgres_query_streams_with_a_server_side_cursor(tmp_path: Path, postgres_url: str, reference) -> None:  # type: ignore[no-untyped-def]
    write_sql_table(postgres_url, NOTES)
    source = open_source(
        postgres_url, query="SELECT * FROM case_notes ORDER BY pk", column_map={"text": "body", "id": "note_id"}
    )
    try:
        import psycopg

        cursor = source.result.cursor  # type: ignore[attr-defined]
        assert isinstance(cursor, psycopg.ServerCursor)  # rows come in batches; the table is never loaded whole
        first = next(source.rows(1))
        assert first.row == 1 and first.data["id"] == NOTES[0]["id"]  # type: ignore[index]
    finally:
        source.close()
    reports, db_url = _scan(
        tmp_path,
        postgres_url,
        "pg",
        query="SELECT * FROM case_notes ORDER BY pk",
        column_map={"text": "body", "id": "note_id"},
    )
    assert reports == reference


def test_results_also_go_to_postgres(tmp_path: Path, postgres_url: str) -> None:
    path = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    summary = run_scan(ScanOptions(input=str(path), db_url=postgres_url, workers=2, batch_size=4))
    db = Database(postgres_url)
    try:
        with db.session() as session:
            count = session.scalar(select(func.count()).where(NoteResult.scan_id == summary.scan_id))
    finally:
        db.dispose()
    assert count == summary.processed == len(NOTES)


def test_unknown_columns_are_ignored_and_extra_fields_kept_out_of_reports(tmp_path: Path, reference) -> None:  # type: ignore[no-untyped-def]
    rows = [{**n, "zzz_extra": {"nested": [1, 2]}, "another": 5} for n in NOTES]
    reports, _ = _scan(tmp_path, str(write_jsonl(tmp_path / "notes.jsonl", rows)), "extra")
    assert reports == reference


@pytest.mark.parametrize(
    ("spec", "message"),
    [("text", "FIELD=COLUMN"), ("text=", "FIELD=COLUMN"), ("=body", "FIELD=COLUMN")],
)
def test_bad_column_maps(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_column_map(spec)


def test_unreadable_inputs_raise_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    cases = [
        (str(tmp_path / "missing.jsonl"), None, "no such file"),
        (str(tmp_path / "notes.txt"), None, "unknown input format"),
        (str(tmp_path / "broken.parquet"), None, "not a readable Parquet file"),
        ("sqlite:///" + str(tmp_path / "cms.db"), "SELECT * FROM no_such_table", "cannot run the query"),
        ("postgresql://nobody:secret@127.0.0.1:1/none", "SELECT 1", "cannot connect"),
        ("nosuchdialect://x/y", "SELECT 1", "cannot use the database URL"),
        ("sqlite:///" + str(tmp_path / "cms.db"), None, "needs --query"),
    ]
    for input, query, message in cases:
        with pytest.raises(InputError, match=message) as caught:
            open_source(input, query=query)
        assert "secret" not in str(caught.value)
