"""Registers the commands that live beside their front ends (scan, server, keys, users, review, demo)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from notecheck.review_commands import register as register_review
    from notecheck.scan import commands as scan_commands
    from notecheck.server_commands import register as register_server

    scan_commands.register(app)
    register_server(app)
    register_review(app)
