"""Terminal rendering of a report: the note with findings highlighted, then the findings and the elements."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from notecheck.report import ELEMENTS, Report

KIND_STYLE = {
    "prohibited": "bold white on red",
    "pii": "bold black on yellow",
    "quality": "underline magenta",
}
DECISION_STYLE = {"block": "bold red", "warn": "bold yellow", "allow": "bold green"}


def render_report(text: str, report: Report, console: Console) -> None:
    header = Text()
    header.append(report.decision.upper(), style=DECISION_STYLE[report.decision])
    header.append(f"  score {report.score}/100  policy {report.policy}  notecheck {report.checker_version}")
    if report.note_id:
        header.append(f"  note {report.note_id}")
    console.print(header)
    body = Text(text.rstrip("\n"))
    for f in report.findings:
        if f.start is not None and f.end is not None and f.kind in KIND_STYLE:
            body.stylize(KIND_STYLE[f.kind], f.start, f.end)
    console.print(body)
    if report.findings:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("severity", "kind", "category", "at", "rule", "source"):
            table.add_column(column)
        for f in report.findings:
            at = f"{f.start}-{f.end}" if f.start is not None else "note"
            table.add_row(f.severity, f.kind, f.category, at, f.rule, f.policy_ref)
        console.print(table)
        for f in report.findings:
            console.print(Text(f"  • {f.category}: {f.message}", style="dim"))
    missing = [name for name in ELEMENTS if not report.elements[name].present]
    line = Text("elements: ")
    for name in ELEMENTS:
        ok = report.elements[name].present
        line.append(("✓ " if ok else "✗ ") + name + "  ", style="green" if ok else "red")
    console.print(line)
    if missing:
        console.print(Text(f"missing: {', '.join(missing)}", style="yellow"))
