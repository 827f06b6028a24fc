"""`--engine spark`: the same per-note check in PySpark, for inputs that outgrow one machine (docs/spark.md).

The input (Parquet, or JSONL read as lines) gets a row number, goes through `mapInPandas` into
`notecheck.scan.worker.check_rows` (one Checker per Python worker process, kept in a module global, so it loads once
per executor process and is reused by every later task), duplicate ids are marked with a window (the first row
keeps the id), and the result is written as Parquet to `--out` (a directory):

    row long, note_id string, decision string, score int, report string (the CONTRACT §2 report as JSON, exactly the
    line `--out` JSONL holds with the local engine), error_field string, error_reason string

A row is either a report (decision and report set) or an input error (error_reason set). The Spark engine writes no
results database and runs no caseload checks (those read the database; see docs/spark.md). Row numbers follow
Spark's read order: the line number for a single JSONL file, the record number for a single Parquet file.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from notecheck.errors import ConfigError, InputError
from notecheck.scan.sources import RawRow, apply_column_map, detect_format, parse_jsonl_line

_REMOTE = re.compile(r"^(hdfs|s3a?|s3n|gs|abfss?|wasbs?|dbfs|viewfs)://", re.IGNORECASE)
INSTALL_HINT = "the Spark engine needs PySpark: pip install 'notecheck[spark]' (and Java 17)"
OUTPUT_SCHEMA = (
    "row long, note_id string, decision string, score int, report string, error_field string, error_reason string"
)


def _pyspark() -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return SparkSession


def spark_session(app: str = "notecheck-scan") -> Any:
    """The active session (spark-submit, a notebook), or a local[*] one (NOTECHECK_SPARK_MASTER overrides)."""
    session_class = _pyspark()
    active = session_class.getActiveSession()
    if active is not None:
        return active
    builder = session_class.builder.appName(app)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit: run locally
        builder = (
            builder.master(os.environ.get("NOTECHECK_SPARK_MASTER", "local[*]"))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", os.environ.get("NOTECHECK_SPARK_DRIVER_MEMORY", "2g"))
        )
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def _plain(value: Any, integral: bool) -> Any:
    """A pandas cell as the Python value pyarrow would give (NaN/NaT -> None, numpy scalars -> Python)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if integral and value.is_integer() else value
    item = getattr(value, "item", None)  # numpy scalars
    if item is not None and not isinstance(value, (str, bytes, dt.date)):
        try:
            return _plain(item(), integral)
        except (TypeError, ValueError):
            return value
    to_py = getattr(value, "to_pydatetime", None)  # pandas Timestamp
    if to_py is not None:
        try:
            return None if value != value else to_py()  # NaT != NaT
        except (TypeError, ValueError):
            return None
    if isinstance(value, list | tuple):
        return [_plain(v, False) for v in value]
    return value


def check_partition(policy: str, fmt: str, column_map: dict[str, str], integral: frozenset[str]):  # type: ignore[no-untyped-def]
    """The mapInPandas function: pandas batches of input rows in, pandas batches of OUTPUT_SCHEMA out."""

    def run(batches):  # type: ignore[no-untyped-def]
        import pandas as pd

        from notecheck.scan.worker import batch_without_gc, check_rows

        for frame in batches:
            raws: list[RawRow] = []
            for record in frame.to_dict("records"):
                number = int(record.pop("_row"))
                if fmt == "jsonl":
                    line = record.get("value") or ""
                    if not line.strip():
                        continue  # a blank line is not a row
                    raws.append(parse_jsonl_line(number, line, column_map))
                else:
                    data = {key: _plain(value, key in integral) for key, value in record.items()}
                    raws.append(RawRow(number, apply_column_map(data, column_map)))
            with batch_without_gc():
                items = check_rows(raws, policy, features=False)
            yield pd.DataFrame(
                {
                    "row": [i.row for i in items],
                    "note_id": [i.note_id for i in items],
                    "decision": [i.decision for i in items],
                    "score": pd.array([i.note_row["score"] if i.note_row else None for i in items], dtype="Int32"),
                    "report": [i.line.decode("utf-8").rstrip("\n") if i.line else None for i in items],
                    "error_field": [i.field for i in items],
                    "error_reason": [i.reason for i in items],
                },
                columns=["row", "note_id", "decision", "score", "report", "error_field", "error_reason"],
            )

    return run


def _with_row_numbers(frame: Any) -> Any:
    """Add `_row` (1-based, in Spark's read order) without a global sort: per-partition counts give offsets."""
    from pyspark.sql import functions as F

    frame = frame.withColumn("_pid", F.spark_partition_id()).withColumn("_mid", F.monotonically_increasing_id())
    counts = dict(frame.groupBy("_pid").count().collect())
    offsets, running = [], 0
    for pid in sorted(counts):
        offsets += [F.lit(pid), F.lit(running)]
        running += counts[pid]
    if not offsets:
        return frame.withColumn("_row", F.lit(0).cast("long")).drop("_pid", "_mid")
    within = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
    return frame.withColumn("_row", F.create_map(*offsets)[F.col("_pid")] + within + 1).drop("_pid", "_mid")


def _mark_duplicates(results: Any) -> Any:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ok = F.col("report").isNotNull()
    first = F.min(F.when(ok, F.col("row"))).over(Window.partitionBy("note_id"))
    results = results.withColumn("_first", first)
    duplicate = ok & F.col("note_id").isNotNull() & (F.col("row") > F.col("_first"))
    reason = F.concat(F.lit("duplicate id (first seen at row "), F.col("_first").cast("string"), F.lit(")"))
    return results.select(
        "row",
        "note_id",
        F.when(duplicate, F.lit(None)).otherwise(F.col("decision")).alias("decision"),
        F.when(duplicate, F.lit(None)).otherwise(F.col("score")).alias("score"),
        F.when(duplicate, F.lit(None)).otherwise(F.col("report")).alias("report"),
        F.when(duplicate, F.lit("id")).otherwise(F.col("error_field")).alias("error_field"),
        F.when(duplicate, reason).otherwise(F.col("error_reason")).alias("error_reason"),
    )


def run_spark_scan(options: Any) -> Any:
    """Run a scan with Spark; returns a ScanSummary (no database is written)."""
    from notecheck.checker import Checker
    from notecheck.scan.runner import ScanSummary, new_scan_id

    started = time.monotonic()
    if options.query:
        raise InputError("--query is only for database URL inputs", field="query")
    remote = bool(_REMOTE.match(options.input))
    if remote:  # hdfs://, s3a://, gs://, abfss://...: Spark reads it; the format comes from the name
        fmt = "jsonl" if options.input.rstrip("/").lower().endswith((".jsonl", ".ndjson", ".json")) else "parquet"
        source = options.input
    else:
        fmt = detect_format(options.input)
        if fmt not in ("jsonl", "parquet"):
            raise InputError("the Spark engine reads .jsonl or .parquet inputs", field="input")
        path = Path(options.input.removeprefix("file://"))
        if not path.exists():
            raise InputError(f"{options.input}: no such file", field="input")
        source = str(path.resolve())
    if not options.out or options.out.endswith(".jsonl"):
        raise InputError("--engine spark writes Parquet: give --out a directory path", field="out")
    if options.resume:
        raise InputError("--resume is for the local engine; a Spark job is rerun whole", field="resume")
    Checker(policy=options.policy)  # fail fast on a bad policy, before starting Spark
    spark = spark_session()
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(max(1, options.batch_size)))
    try:
        frame = spark.read.text(source) if fmt == "jsonl" else spark.read.parquet(source)
    except Exception as exc:  # noqa: BLE001 - AnalysisException and friends: the input cannot be read
        raise InputError(f"{options.input}: Spark cannot read it ({type(exc).__name__})", field="input") from None
    integral = frozenset(
        f.name for f in frame.schema.fields if f.dataType.typeName() in ("byte", "short", "integer", "long")
    )
    numbered = _with_row_numbers(frame)
    checked = numbered.mapInPandas(
        check_partition(options.policy, fmt, dict(options.column_map), integral), OUTPUT_SCHEMA
    )
    out = options.out if _REMOTE.match(options.out) else str(Path(options.out).resolve())
    pass_started = time.monotonic()
    _mark_duplicates(checked).write.mode("overwrite").parquet(out)
    pass_seconds = time.monotonic() - pass_started
    written = spark.read.parquet(out)
    counts = {row["decision"]: row["count"] for row in written.groupBy("decision").count().collect()}
    errors = counts.pop(None, 0)
    processed = sum(counts.values())
    return ScanSummary(
        scan_id=options.scan_id or new_scan_id(),
        processed=processed,
        flagged=processed - counts.get("allow", 0),
        input_errors=errors,
        seconds=round(time.monotonic() - started, 3),
        decisions={k: counts.get(k, 0) for k in ("block", "warn", "allow")},
        checked_this_run=processed + errors,
        notes_per_second=round((processed + errors) / pass_seconds, 1) if pass_seconds > 0 else 0.0,
        status="done",
        out=out,
    )
