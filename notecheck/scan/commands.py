"""CLI commands of the bulk scanner: scan, report, purge. (Placeholder until the scanner lands.)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
