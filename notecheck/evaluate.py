"""`notecheck eval`: accuracy on a labeled file (placeholder until the evaluation lands; issue 4)."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def evaluate_file(path: str, checker: Any) -> dict[str, Any]:
    raise NotImplementedError


def render_text(result: dict[str, Any], console: Console) -> None:
    raise NotImplementedError
