"""CLI commands of the HTTP service: serve, keys. (Placeholder until the API lands.)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
