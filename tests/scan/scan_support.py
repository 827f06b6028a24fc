"""Helpers for the bulk-scan tests: sample notes, writers for every input format, the CLI as a subprocess."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from notecheck.scan.synth import generate_notes

FIELDS = ["id", "text", "title", "contact_date", "entered_at", "client_id", "staff", "office", "program"]
RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


def corpus_notes(n: int = 30) -> list[dict[str, Any]]:
    """The first n notes of the development corpus (labels dropped), each with an unknown extra column."""
    rows: list[dict[str, Any]] = []
    for path in sorted(RAW.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                row.pop("labels", None)
                row["source_system"] = "legacy-cms"  # unknown columns are kept and ignored
                rows.append(row)
                if len(rows) >= n:
                    return rows
    return rows


def synthetic(n: int, seed: int = 3) -> list[dict[str, Any]]:
    return list(generate_notes(n, seed=seed))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    columns = columns or sorted({key for row in rows for key in row})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]], row_group_size: int = 7) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = sorted({key for row in rows for key in row})
    table = pa.table({c: [row.get(c) for row in rows] for c in columns})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def write_sql_table(url: str, rows: list[dict[str, Any]], table: str = "case_notes") -> None:
    """A table whose column names differ from the note fields (note_id, body), as a real CMS would have."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    meta = sa.MetaData()
    columns = [sa.Column("pk", sa.Integer, primary_key=True), sa.Column("note_id", sa.String(200)),
               sa.Column("body", sa.Text)]  # fmt: skip
    columns += [sa.Column(name, sa.String(200)) for name in FIELDS if name not in ("id", "text")]
    columns.append(sa.Column("source_system", sa.String(50)))
    notes = sa.Table(table, meta, *columns)
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            notes.insert(),
            [
                {
                    "pk": i,
                    "note_id": row.get("id"),
                    "body": row.get("text"),
                    "source_system": row.get("source_system"),
                    **{k: row.get(k) for k in FIELDS if k not in ("id", "text")},
                }
                for i, row in enumerate(rows, 1)
            ],
        )
    engine.dispose()


def read_reports(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NOTECHECK_DATABASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def notecheck(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `notecheck` CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "notecheck.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
    )


def start_notecheck(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "notecheck.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        start_new_session=True,
    )
