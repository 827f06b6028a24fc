"""CLI commands of the reviewer side: `users create|list|disable`, `export-labels`, and `demo` (`make run`)."""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

DB_HELP = "database URL (default: NOTECHECK_DATABASE_URL, else sqlite:///notecheck.db)"
DEMO_DB = "sqlite:///notecheck-demo.db"
DEMO_SOURCE = "demo: bundled sample notes"
DEMO_USER, DEMO_PASSWORD = "demo", "demo"
DEMO_KEY_PREFIX = "demo-reviewer-"
users_app = typer.Typer(help="Reviewer and admin accounts for the web review queue.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option("--username", help="the login name")],
    role: Annotated[str, typer.Option("--role", help="reviewer or admin")],
    office: Annotated[
        list[str] | None, typer.Option("--office", help="office the user reviews (repeat; '*' = all)")
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    update: Annotated[
        bool, typer.Option("--update", help="reset an existing user's password, role and offices")
    ] = False,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Create a reviewer or admin who signs in at /review. The password is stored as an argon2id hash.

    Example: notecheck users create --username ana --role reviewer --office Rockville --password-stdin < pw.txt
    """
    from notecheck.cli import fail
    from notecheck.errors import InputError
    from notecheck.store.db import Database
    from notecheck.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    database = Database(db)
    try:
        with database.session() as session:
            user = create_user(session, username, password, role=role, offices=office or (), replace=update)
            offices = ", ".join(user.offices) or "none"
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        database.dispose()
    typer.echo(f"user {username!r} ({role}; offices: {offices}) {'updated' if update else 'created'}")


@users_app.command("list")
def users_list(db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None) -> None:
    """List accounts: username, role, offices, created, disabled. Never the password hash.

    Example: notecheck users list
    """
    from sqlalchemy import select

    from notecheck.store.db import Database
    from notecheck.store.models import User

    database = Database(db)
    try:
        with database.session() as session:
            for u in session.scalars(select(User).order_by(User.username)):
                disabled = f"  disabled {u.disabled_at:%Y-%m-%d}" if u.disabled_at else ""
                typer.echo(f"{u.username}\t{u.role}\t{','.join(u.offices) or '-'}\t{u.created_at:%Y-%m-%d}{disabled}")
    finally:
        database.dispose()


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Option("--username", help="the login name")],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end.

    Example: notecheck users disable --username ana
    """
    from notecheck.cli import fail
    from notecheck.store.db import Database
    from notecheck.users import disable_user

    database = Database(db)
    try:
        with database.session() as session:
            if not disable_user(session, username):
                raise fail(f"no user named {username!r}")
    finally:
        database.dispose()
    typer.echo(f"user {username!r} disabled")


def export_labels(
    out: Annotated[str, typer.Option("--out", help="JSONL file to write")],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    include_partial: Annotated[
        bool, typer.Option("--include-partial", help="also notes with some findings still open")
    ] = False,
) -> None:
    """Write reviewed notes as labeled data in the development-corpus format (data/README.md), for retraining.

    Example: notecheck export-labels --db postgresql://notecheck@db/notecheck --out reviewed.jsonl
    """
    from api.review.labels import export_labels as export
    from notecheck.cli import fail
    from notecheck.store.db import Database

    database = Database(db)
    try:
        summary = export(database, out, include_partial=include_partial)
    except OSError as exc:
        raise fail(f"{out}: cannot write ({exc.strerror})") from None
    finally:
        database.dispose()
    typer.echo(
        f"wrote {summary.written} reviewed notes to {out}"
        f" ({summary.partial_skipped} with open findings skipped, {summary.no_text} without text skipped)"
    )


def demo(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="default: NOTECHECK_DATABASE_URL, else " + DEMO_DB)] = None,
    notes: Annotated[
        str | None, typer.Option("--notes", help="JSONL notes to scan (default: the bundled samples)")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="start the server after preparing")] = True,
) -> None:
    """Prepare a demo database (sample notes scanned, a demo reviewer, a demo API key) and serve the review queue.

    Example: notecheck demo --port 8000
    """
    from notecheck.cli import build_checker, err, fail

    url = db or os.environ.get("NOTECHECK_DATABASE_URL") or DEMO_DB
    source = Path(notes) if notes else Path(str(resources.files("notecheck") / "data" / "sample_notes.jsonl"))
    if not source.is_file():
        raise fail(f"{source}: no sample notes to scan (pass --notes FILE.jsonl)")
    from notecheck.store.db import Database

    database = Database(url)
    checker = build_checker("default")
    scanned, key = prepare_demo(database, checker, source)
    url_shown = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/review"
    typer.echo(scanned)
    typer.echo(
        f"\n  Review queue:  {url_shown}\n  Sign in as:    {DEMO_USER} / {DEMO_PASSWORD}  (reviewer, all offices)"
    )
    typer.echo(
        f"  API key:       {key}  (reviewer; try: curl -H 'Authorization: Bearer {key}' {url_shown[:-7]}/v1/findings)"
    )
    typer.echo(f"  Database:      {database.url}\n")
    if host not in ("127.0.0.1", "::1", "localhost"):
        err.print("notecheck: warning: the demo login is public knowledge; do not expose it on a network", markup=False)
    if not serve:
        database.dispose()
        return
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    app = create_app(checker, Settings.from_env(db_url=url), db=database)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def prepare_demo(database, checker, source: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Scan the notes once, (re)create the demo reviewer, and a fresh demo API key. Returns (what happened, key)."""
    import json

    from sqlalchemy import select

    from notecheck.keys import create_key, revoke_key
    from notecheck.scan import scan_notes
    from notecheck.store.models import ApiKey, Scan
    from notecheck.users import create_user

    with database.session() as session:
        done = session.scalar(select(Scan.id).where(Scan.source == DEMO_SOURCE, Scan.status == "done").limit(1))
    if done:
        scanned = f"sample notes already scanned (scan {done})"
    else:
        with source.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        for row in rows:
            row.pop("labels", None)
        summary = scan_notes(rows, database, source=DEMO_SOURCE, checker=checker)
        scanned = f"scanned {summary.processed} sample notes: {summary.flagged} flagged for review"
    with database.session() as session:
        create_user(
            session, DEMO_USER, DEMO_PASSWORD, role="reviewer", offices=["*"], replace=True, min_password_chars=4
        )
        names = session.scalars(select(ApiKey.name).where(ApiKey.name.like(DEMO_KEY_PREFIX + "%"))).all()
        for name in names:
            revoke_key(session, name)
        _, key = create_key(session, name=f"{DEMO_KEY_PREFIX}{len(names) + 1}", role="reviewer", offices=["*"])
    return scanned, key


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.command("export-labels")(export_labels)
    app.command("demo")(demo)
