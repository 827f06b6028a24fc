"""Bulk scans of historical notes (issue 5): JSONL, CSV, Parquet or SQL in; the results database and a JSONL report
file out; a local process pool or Spark; resumable after a kill; caseload checks across notes; an HTML report.

    from notecheck.scan import ScanOptions, run_scan
    summary = run_scan(ScanOptions(input="notes.parquet", out="reports.jsonl", workers=4))

`scan_notes(notes, db)` checks an iterable of note dicts in this process (small jobs, the demo).
"""

from notecheck.scan.runner import ScanOptions, ScanSummary, run_scan, scan_notes

__all__ = ["ScanOptions", "ScanSummary", "run_scan", "scan_notes"]
