"""CLI commands of the bulk scanner: scan, report, purge (short shells over notecheck.scan)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from notecheck.errors import ConfigError, InputError


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("report")(report)
    app.command("purge")(purge)


def scan(
    input: Annotated[str, typer.Argument(help=".jsonl, .csv, .parquet (file or directory), or a database URL")],
    out: Annotated[str | None, typer.Option("--out", help="write one JSON report per note here (JSONL)")] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="results database URL [default: $NOTECHECK_DATABASE_URL or sqlite:///notecheck.db]"),
    ] = None,  # fmt: skip
    policy: Annotated[str, typer.Option(help="built-in policy name or path to a policy YAML")] = "default",
    workers: Annotated[int | None, typer.Option(help="worker processes [default: the number of cores]")] = None,
    engine: Annotated[str, typer.Option(help="local (process pool) or spark")] = "local",
    resume: Annotated[bool, typer.Option("--resume", help="continue the interrupted scan of the same input")] = False,
    query: Annotated[str | None, typer.Option(help="SQL query when INPUT is a database URL")] = None,
    map: Annotated[str | None, typer.Option("--map", help="note field=input column, e.g. text=body,id=note_id")] = None,
    batch_size: Annotated[int, typer.Option(help="notes per batch")] = 512,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress bar or notices (the summary remains)")
    ] = False,
    scan_id: Annotated[str | None, typer.Option("--scan-id", help="id for the new scan, or the scan to resume")] = None,
    caseload: Annotated[bool, typer.Option("--caseload/--no-caseload", help="run the caseload checks")] = True,
    as_of: Annotated[
        str | None,
        typer.Option(help="end date for open contact gaps and due follow-ups [default: the latest day in the data]"),
    ] = None,  # fmt: skip
) -> None:
    """Check many notes into the results database (and --out); resumable, with caseload checks.

    Exit 0 when done (whatever was found), 2 when the input cannot be read, 1 when the scan stopped part-way
    (a worker died): rerun with --resume.

    Example: notecheck scan notes.parquet --out reports.jsonl --workers 4
    """
    from concurrent.futures.process import BrokenProcessPool

    from notecheck.database_prep import start_schema_upgrade, wait_for_all

    if engine == "local" and (os.path.exists(input) or "://" in input):
        start_schema_upgrade(db)  # on the idle core, while this process imports and builds the Checker
    from notecheck.cli import err, fail
    from notecheck.scan.runner import ScanOptions, run_scan
    from notecheck.scan.sources import parse_column_map

    try:
        options = ScanOptions(
            input=input,
            out=out,
            db_url=db,
            policy=policy,
            workers=workers,
            engine=engine,
            resume=resume,
            query=query,
            column_map=parse_column_map(map),
            batch_size=batch_size,
            quiet=quiet,
            scan_id=scan_id,
            as_of=as_of,
            caseload=caseload,
        )
        summary = run_scan(options)
    except (InputError, ConfigError) as exc:
        raise fail(str(exc)) from None
    except BrokenProcessPool:
        err.print("notecheck: error: a worker process died (out of memory?); continue with --resume", markup=False)
        raise typer.Exit(1) from None
    finally:
        wait_for_all()  # a scan stopped before opening its database leaves no child behind
    for line in summary.lines():
        typer.echo(line)


def report(
    db: Annotated[str | None, typer.Option("--db", help="results database URL")] = None,
    out: Annotated[str, typer.Option("--out", help="the HTML file to write")] = "report.html",
    scan_id: Annotated[str | None, typer.Option("--scan", help="scan id [default: the latest scan]")] = None,
) -> None:
    """Caseload and QA report with charts, as one self-contained HTML file.

    Example: notecheck report --db sqlite:///notecheck.db --out report.html
    """
    from notecheck.cli import fail
    from notecheck.scan.htmlreport import write_report

    try:
        path = write_report(db, out, scan_id=scan_id)
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {path}")


def purge(
    older_than: Annotated[str, typer.Option("--older-than", help="retention, e.g. 90d, 12w, 48h")] = "90d",
    db: Annotated[str | None, typer.Option("--db", help="results database URL")] = None,
) -> None:
    """Remove the stored text of flagged notes checked longer ago than the retention period (reports stay).

    Example: notecheck purge --older-than 90d
    """
    from notecheck.cli import fail
    from notecheck.scan.purge import parse_duration, purge_text

    try:
        purged, cutoff = purge_text(db, parse_duration(older_than))
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"purged the text of {purged} notes checked before {cutoff:%Y-%m-%d %H:%M} UTC")
