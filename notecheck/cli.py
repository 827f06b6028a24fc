"""The `notecheck` command line (CONTRACT §3). Each command is a short shell over a library call.

Exit codes: 0 allow/warn or done, 1 block (`check`), 2 usage or input error (never a traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from notecheck.errors import ConfigError, InputError, NotecheckError
from notecheck.note import DEFAULT_MAX_CHARS

app = typer.Typer(
    name="notecheck",
    help="Check case notes for prohibited content, PII, missing elements, quality and timeliness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_OK, EXIT_BLOCK, EXIT_USAGE = 0, 1, 2


def fail(message: str) -> typer.Exit:
    """Print a one-line reason to stderr and return the exit to raise (code 2)."""
    err.print(f"notecheck: error: {message}", markup=False)
    return typer.Exit(EXIT_USAGE)


def read_note_text(source: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Read a note from a file or '-' (stdin) as UTF-8, rejecting missing, binary, empty or oversized input."""
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except FileNotFoundError:
        raise fail(f"{source}: no such file") from None
    except IsADirectoryError:
        raise fail(f"{source}: is a directory, not a note file") from None
    except OSError as exc:
        raise fail(f"{source}: cannot read ({exc.strerror})") from None
    if b"\x00" in raw:
        raise fail(f"{'stdin' if source == '-' else source}: binary input (NUL bytes); a note must be UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"{'stdin' if source == '-' else source}: not valid UTF-8 (byte offset {exc.start})") from None
    if not text.strip():
        raise fail(f"{'stdin' if source == '-' else source}: the note is empty")
    if len(text) > max_chars:
        raise fail(f"the note is {len(text)} characters, over the limit of {max_chars}")
    return text


def build_checker(policy: str):  # type: ignore[no-untyped-def]
    from notecheck.checker import Checker

    try:
        return Checker(policy=policy)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.command()
def check(
    file: Annotated[str, typer.Argument(help="note file, or - for stdin")] = "-",
    policy: Annotated[str, typer.Option(help="built-in policy name or path to a policy YAML")] = "default",
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    contact_date: Annotated[str | None, typer.Option(help="date of the contact (YYYY-MM-DD)")] = None,
    entered_at: Annotated[str | None, typer.Option(help="when the note was entered (ISO datetime)")] = None,
    title: Annotated[str | None, typer.Option(help="the note's title")] = None,
    note_id: Annotated[str | None, typer.Option("--id", help="note id echoed as note_id")] = None,
) -> None:
    """Check one note (plain text). Exit 0 allow or warn, 1 block, 2 usage or input error.

    Example: notecheck check note.txt --contact-date 2026-03-04 --format json
    """
    if format not in ("text", "json"):
        raise fail(f"--format must be text or json, not {format!r}")
    text = read_note_text(file)
    checker = build_checker(policy)
    try:
        report = checker.check(text, note_id=note_id, contact_date=contact_date, entered_at=entered_at, title=title)
    except InputError as exc:
        raise fail(str(exc)) from None
    if format == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        from notecheck.render import render_report

        render_report(text, report, Console(highlight=False))
    raise typer.Exit(EXIT_BLOCK if report.decision == "block" else EXIT_OK)


@app.command()
def redact(
    file: Annotated[str, typer.Argument(help="note file, or - for stdin")] = "-",
    policy: Annotated[str, typer.Option(help="built-in policy name or path")] = "default",
) -> None:
    """Print the note with prohibited content and PII replaced by <CATEGORY> placeholders.

    Example: notecheck redact note.txt > note.redacted.txt
    """
    from notecheck.redact import redact as redact_text

    text = read_note_text(file)
    report = build_checker(policy).check(text)
    sys.stdout.write(redact_text(text, report))
    if not text.endswith("\n"):
        sys.stdout.write("\n")


@app.command()
def policies(
    name: Annotated[str | None, typer.Argument(help="show one profile in detail")] = None,
    rules: Annotated[bool, typer.Option("--rules", help="list every rule id a profile may override")] = False,
) -> None:
    """List policy profiles and the seed file each rule comes from.

    Example: notecheck policies alaska-dpa
    """
    from notecheck.policy_listing import list_policies

    try:
        list_policies(Console(highlight=False), name, show_rules=rules)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.command("eval")
def eval_command(
    labeled: Annotated[str, typer.Argument(help="labeled JSONL (data/README.md format)")],
    policy: Annotated[str, typer.Option(help="policy profile")] = "default",
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Precision and recall per category, element accuracy and misses on a labeled file.

    Example: notecheck eval data/test.jsonl
    """
    from notecheck.evaluate import evaluate_file, render_text

    if format not in ("text", "json"):
        raise fail(f"--format must be text or json, not {format!r}")
    try:
        result = evaluate_file(labeled, build_checker(policy))
    except (InputError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if format == "json":
        typer.echo(json.dumps(result, indent=2))
    else:
        render_text(result, Console(highlight=False))


def _register_optional_commands() -> None:
    """Commands of the scan, server and review front ends, each in its own module."""
    from notecheck.commands import register

    register(app)


CORE_COMMANDS = frozenset({"check", "redact", "policies", "eval"})


def _invoked_command(argv: list[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main() -> None:
    # The scan, server and review commands import SQLAlchemy, FastAPI and more (about half a second): a note
    # checked from the command line or a pre-save script should not pay for them.
    command = _invoked_command(sys.argv[1:])
    if command in CORE_COMMANDS or command == "scan":  # short-lived processes that only check notes
        from notecheck.startup import skip_unused_library_modules

        skip_unused_library_modules()
    if command not in CORE_COMMANDS:
        _register_optional_commands()
    try:
        app()
    except NotecheckError as exc:
        err.print(f"notecheck: error: {exc}", markup=False)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("notecheck: interrupted", markup=False)
        sys.exit(130)
    except SystemExit as exc:
        if command in CORE_COMMANDS or command == "scan":
            _exit_now(exc.code)
        raise


def _exit_now(code: object) -> None:
    """End a short-lived command without tearing the interpreter down: freeing the Checker's objects one by one
    (spaCy's vocabulary and matchers, the lexicons) took 0.15-0.2 s after the work was done, on every `check` and
    `scan`. Everything a command writes is closed by then (files in `with` blocks, the database disposed, a scan's
    worker processes joined); logging and the standard streams are flushed here."""
    import contextlib
    import logging
    import os

    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
