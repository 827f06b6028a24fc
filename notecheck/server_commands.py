"""CLI commands of the HTTP service: `serve`, and `keys create|list|revoke` for its API keys."""

from __future__ import annotations

from typing import Annotated

import typer

DB_HELP = "database URL (default: NOTECHECK_DATABASE_URL, else sqlite:///notecheck.db)"
keys_app = typer.Typer(help="API keys for the HTTP service: shown once, stored hashed.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    policy: Annotated[str, typer.Option(help="policy profile for /v1/check and /v1/gate")] = "default",
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    access_log: Annotated[bool, typer.Option(help="log each request (method, path, status; never a body)")] = True,
) -> None:
    """Serve the HTTP API (CONTRACT §5) and the reviewer UI. Settings come from NOTECHECK_* variables.

    Example: notecheck serve --host 0.0.0.0 --port 8000 --db postgresql://notecheck@db/notecheck
    """
    import uvicorn

    from api.app import create_app
    from api.settings import Settings
    from notecheck.cli import build_checker, err

    _log_to_stderr(log_level)
    settings = Settings.from_env(db_url=db)
    checker = build_checker(policy)
    app = create_app(checker, settings)
    err.print(f"notecheck: serving on http://{host}:{port} (example form at /example)", markup=False)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log, server_header=False)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="a unique name, e.g. the integration using the key")],
    role: Annotated[str, typer.Option("--role", help="checker, reviewer or admin")],
    office: Annotated[list[str] | None, typer.Option("--office", help="office scope (repeat; '*' = all)")] = None,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Create an API key and print it once (only a hash is stored). Checker and admin keys default to all offices.

    Example: notecheck keys create --name intake-form --role checker --office Rockville
    """
    from notecheck.cli import fail
    from notecheck.errors import InputError
    from notecheck.keys import create_key
    from notecheck.store.db import Database

    database = Database(db)
    try:
        with database.session() as session:
            row, key = create_key(session, name=name, role=role, offices=office or ())
            offices = ", ".join(row.offices)
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        database.dispose()
    typer.echo(key)
    typer.echo(f"key {name!r} ({role}; offices: {offices}) created. Store it now: it is not shown again.", err=True)


@keys_app.command("list")
def keys_list(db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None) -> None:
    """List API keys: name, prefix, role, offices, created, last used, revoked. Never the key or its hash.

    Example: notecheck keys list
    """
    from notecheck.keys import list_keys
    from notecheck.store.db import Database

    database = Database(db)
    try:
        with database.session() as session:
            rows = [
                (
                    k.name,
                    k.prefix,
                    k.role,
                    ",".join(k.offices or ()),
                    _when(k.created_at),
                    _when(k.last_used_at),
                    _when(k.revoked_at),
                )
                for k in list_keys(session)
            ]
    finally:
        database.dispose()
    header = ("NAME", "PREFIX", "ROLE", "OFFICES", "CREATED", "LAST USED", "REVOKED")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="the key's name")],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Revoke an API key. A running server stops accepting it within its key cache time (30 s by default).

    Example: notecheck keys revoke intake-form
    """
    from notecheck.cli import fail
    from notecheck.errors import InputError
    from notecheck.keys import revoke_key
    from notecheck.store.db import Database

    database = Database(db)
    try:
        with database.session() as session:
            revoke_key(session, name)
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        database.dispose()
    typer.echo(f"key {name!r} revoked")


def _log_to_stderr(level: str) -> None:
    """The server's own messages (never note text) next to uvicorn's; the library itself only has a NullHandler."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger("notecheck")
    logger.addHandler(handler)
    logger.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")


def _when(value: object) -> str:
    return "-" if value is None else str(value)[:19]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
