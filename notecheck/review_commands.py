"""CLI commands of the reviewer side: users, export-labels, demo. (Placeholder until the queue lands.)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
