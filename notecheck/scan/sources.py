"""Streaming readers of bulk input: JSONL, CSV, Parquet (a file or a directory of part files) and SQL.

Every reader yields `RawRow`s in input order with a 1-based row number (JSONL: the line number; CSV: the record
number after the header; Parquet and SQL: the record number), never holding more than one batch in memory. A row
that cannot even be parsed (bad JSON, bad UTF-8, a line over the size cap) comes out as a RawRow with an error and
the scan goes on; an input that cannot be read at all raises InputError from `open_source` with a one-line reason.
Unknown columns are kept (they end up in `Note.extra`) and ignored by the checker; `column_map` renames input
columns to note fields (`{"text": "body"}` reads the field `text` from the column `body`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notecheck.errors import InputError

MAX_LINE_BYTES = 8 * 1024 * 1024  # a JSONL line or CSV field over this is a bad row, not a reason to run out of memory
FORMATS = ("jsonl", "csv", "parquet", "sql")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class RawRow:
    """One input record: its data, or why it could not be parsed (`error` = (field, reason))."""

    row: int
    data: dict[str, Any] | None
    error: tuple[str | None, str] | None = None

    @property
    def note_id(self) -> str | None:
        if self.data is None:
            return None
        value = self.data.get("id")
        return None if value is None else str(value)[:200]


def parse_column_map(spec: str | None) -> dict[str, str]:
    """`text=body,id=note_id` -> {"text": "body", "id": "note_id"} (note field = input column)."""
    mapping: dict[str, str] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"--map expects FIELD=COLUMN pairs separated by commas, got {part!r}", field="map")
        mapping[field.strip()] = column.strip()
    return mapping


def apply_column_map(data: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    if not mapping:
        return data
    out = dict(data)
    for field, column in mapping.items():
        if column in data:
            out.pop(column, None)
            out[field] = data[column]
    return out


def safe_url(url: str) -> str:
    """A database URL without its password, for messages and the scans table."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown up to its scheme only
        return url.split("://", 1)[0] + "://…"


def detect_format(input: str) -> str:
    if _URL.match(input) and not input.startswith("file://"):
        return "sql"
    path = Path(input.removeprefix("file://"))
    if path.is_dir():
        return "parquet"
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{input}: unknown input format (expected .jsonl, .csv, .parquet, a directory of Parquet files, "
            "or a database URL with --query)",
            field="input",
        )
    return fmt


class Source:
    """A readable input. `rows(start_row)` streams RawRows from `start_row` on (earlier rows are skipped)."""

    format: str = ""
    name: str = ""  # a path or a URL without password: what `scans.source` records
    total: int | None = None  # rows, when cheap to know (for the progress bar and ETA)

    def rows(self, start_row: int = 1) -> Iterator[RawRow]:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def identity(self) -> str | None:
        """Size and a digest of the head and tail of the input file(s): a resumed scan must read the same input."""
        paths = getattr(self, "files", None) or ([self.path] if hasattr(self, "path") else [])
        if not paths:
            return None
        digest = hashlib.sha256()
        for path in paths:
            size = path.stat().st_size
            digest.update(f"{path.name}:{size}:".encode())
            with path.open("rb") as handle:
                digest.update(handle.read(1 << 16))
                handle.seek(max(0, size - (1 << 16)))
                digest.update(handle.read(1 << 16))
        return digest.hexdigest()[:32]


def open_source(
    input: str, *, query: str | None = None, column_map: dict[str, str] | None = None, batch_size: int = 256
) -> Source:
    """Open INPUT (path or database URL); raises InputError when it cannot be read at all."""
    fmt = detect_format(input)
    mapping = dict(column_map or {})
    if fmt == "sql":
        if not query:
            raise InputError(f"{safe_url(input)}: a database input needs --query", field="query")
        return SqlSource(input, query, mapping, batch_size)
    if query:
        raise InputError("--query is only for database URL inputs", field="query")
    path = Path(input.removeprefix("file://"))
    if not path.exists():
        raise InputError(f"{input}: no such file", field="input")
    if fmt == "jsonl":
        return JsonlSource(path, mapping)
    if fmt == "csv":
        return CsvSource(path, mapping)
    return ParquetSource(path, mapping, batch_size)


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a {path.suffix.lstrip('.') or 'data'} file", field="input")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", field="input") from None


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


class JsonlSource(Source):
    format = "jsonl"

    def __init__(self, path: Path, mapping: dict[str, str]):
        _check_readable(path)
        self.path, self.mapping = path, mapping
        self.name = str(path.resolve())
        self.total = _count_lines(path)

    def rows(self, start_row: int = 1) -> Iterator[RawRow]:
        with self.path.open("rb") as handle:
            number = 0
            while True:
                line = handle.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    if number >= start_row:
                        yield RawRow(number, None, ("text", f"the row is over {MAX_LINE_BYTES} bytes"))
                    continue
                if number < start_row or not line.strip():
                    continue
                yield self._parse(number, line)

    def _parse(self, number: int, line: bytes) -> RawRow:
        return parse_jsonl_line(number, line, self.mapping)


def parse_jsonl_line(number: int, line: bytes | str, mapping: dict[str, str]) -> RawRow:
    """One JSONL line (bytes, or text already decoded) into a RawRow; shared by the local and Spark engines."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            return RawRow(number, None, (None, f"not valid UTF-8 (byte {exc.start} of the line)"))
    elif number == 1:
        line = line.removeprefix("\ufeff")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return RawRow(number, None, (None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
    if not isinstance(data, dict):
        return RawRow(number, None, (None, f"a row must be a JSON object, not {type(data).__name__}"))
    return RawRow(number, apply_column_map(data, mapping))


class CsvSource(Source):
    format = "csv"

    def __init__(self, path: Path, mapping: dict[str, str]):
        _check_readable(path)
        self.path, self.mapping = path, mapping
        self.name = str(path.resolve())
        self.total = max(0, _count_lines(path) - 1)  # an estimate: quoted fields may span lines
        with self._open() as handle:
            try:
                self.header = next(csv.reader(handle), None)
            except (csv.Error, UnicodeError) as exc:
                raise InputError(f"{path}: cannot read the CSV header ({exc})", field="input") from None
        if not self.header:
            raise InputError(f"{path}: the CSV file has no header row", field="input")

    def _open(self):  # type: ignore[no-untyped-def]
        csv.field_size_limit(MAX_LINE_BYTES)
        return self.path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")

    def rows(self, start_row: int = 1) -> Iterator[RawRow]:
        with self._open() as handle:
            reader = csv.reader(handle)
            header = next(reader)
            number = 0
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    number += 1
                    if number >= start_row:
                        yield RawRow(number, None, (None, f"malformed CSV record ({exc})"))
                    continue
                if not record or (len(record) == 1 and not record[0]):
                    continue  # a blank line is not a record
                number += 1
                if number < start_row:
                    continue
                if any(_has_surrogates(value) for value in record):
                    yield RawRow(number, None, (None, "not valid UTF-8"))
                    continue
                yield RawRow(number, apply_column_map(dict(zip(header, record, strict=False)), self.mapping))


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class ParquetSource(Source):
    """A Parquet file, or a directory of them (Spark's output) read in name order; streamed by record batches."""

    format = "parquet"

    def __init__(self, path: Path, mapping: dict[str, str], batch_size: int):
        import pyarrow.parquet as pq

        self.mapping, self.batch_size = mapping, max(1, batch_size)
        self.name = str(path.resolve())
        files = (
            sorted(p for p in path.rglob("*.parquet") if not p.name.startswith((".", "_"))) if path.is_dir() else [path]
        )
        if path.is_dir() and not files:
            raise InputError(f"{path}: the directory holds no .parquet files", field="input")
        if not path.is_dir():
            _check_readable(path)
        self.files = files
        self.counts: list[list[int]] = []
        for file in files:
            try:
                meta = pq.ParquetFile(file).metadata
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for unreadable files
                raise InputError(f"{file}: not a readable Parquet file ({type(exc).__name__})", field="input") from None
            self.counts.append([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        self.total = sum(sum(c) for c in self.counts)

    def rows(self, start_row: int = 1) -> Iterator[RawRow]:
        import pyarrow.parquet as pq

        first = 1  # row number of the first row of the current row group
        for file, groups in zip(self.files, self.counts, strict=True):
            wanted = []
            for index, count in enumerate(groups):
                if first + count > start_row:
                    wanted.append((index, first))
                first += count
            if not wanted:
                continue
            parquet = pq.ParquetFile(file)
            number = wanted[0][1]
            for batch in parquet.iter_batches(batch_size=self.batch_size, row_groups=[i for i, _ in wanted]):
                for data in batch.to_pylist():
                    if number >= start_row:
                        yield RawRow(number, apply_column_map(data, self.mapping))
                    number += 1


class SqlSource(Source):
    """Rows of a query, streamed with a server-side cursor (`stream_results`, `yield_per`): never the whole table.

    Resuming skips the rows already done by position, so the query needs a stable order (`ORDER BY` a key).
    """

    format = "sql"

    def __init__(self, url: str, query: str, mapping: dict[str, str], batch_size: int):
        from sqlalchemy import create_engine, text

        self.mapping, self.batch_size = mapping, max(1, batch_size)
        self.name = safe_url(url)
        self.ordered = bool(re.search(r"\border\s+by\b", query, re.IGNORECASE))
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        step = "cannot use the database URL"
        try:
            self.engine = create_engine(url)
            step = "cannot connect"
            self.connection = self.engine.connect()
            step = "cannot run the query"
            self.result = self.connection.execution_options(stream_results=True, yield_per=self.batch_size).execute(
                text(query)
            )
            self.keys = list(self.result.keys())
        except Exception as exc:  # noqa: BLE001 - bad URLs, missing drivers, refused connections, SQL errors
            self.close()
            raise InputError(
                f"{self.name}: {step} ({_reason(exc)})", field="input" if step != "cannot run the query" else "query"
            ) from None

    def rows(self, start_row: int = 1) -> Iterator[RawRow]:
        for number, row in enumerate(self.result, 1):
            if number >= start_row:
                yield RawRow(number, apply_column_map(dict(zip(self.keys, row, strict=True)), self.mapping))

    def close(self) -> None:
        for name in ("result", "connection"):
            obj = getattr(self, name, None)
            if obj is not None:
                with contextlib.suppress(Exception):  # closing after an error is best effort
                    obj.close()
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {_first_line(orig)}"


def describe(source: Source) -> str:
    return f"{source.format} {source.name}" + (f" ({source.total} rows)" if source.total is not None else "")


__all__ = ["FORMATS", "RawRow", "Source", "apply_column_map", "open_source", "parse_column_map", "safe_url"]
