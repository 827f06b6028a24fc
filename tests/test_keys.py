"""API keys: the library (notecheck.keys), the cache in front of it (api.auth.KeyVerifier) and the `keys` CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from api.auth import KeyVerifier, Principal
from notecheck.errors import InputError
from notecheck.keys import create_key, key_prefix, list_keys, revoke_key, verify_key
from notecheck.server_commands import register
from notecheck.store.db import Database
from notecheck.store.models import ApiKey

KEY_RE = re.compile(r"^nck_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def test_a_key_is_shown_once_and_stored_as_an_argon2_hash(db: Database) -> None:
    with db.session() as session:
        row, key = create_key(session, name="intake-form", role="checker", offices=["Rockville", " Bethesda "])
    assert KEY_RE.match(key)
    with db.session() as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.name == "intake-form"))
        assert stored is not None
        assert stored.key_hash.startswith("$argon2id$") and key not in stored.key_hash
        assert stored.prefix == key[:12] == key_prefix(key)
        assert stored.offices == ["Bethesda", "Rockville"] and stored.role == "checker"
        assert key not in repr(stored.__dict__).replace(stored.prefix, "")


def test_verify_accepts_the_key_and_nothing_else(db: Database) -> None:
    with db.session() as session:
        _, key = create_key(session, name="k", role="admin")
    with db.session() as session:
        row = verify_key(session, key)
        assert row is not None and row.name == "k" and row.offices == ["*"] and row.last_used_at is not None
        assert verify_key(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert verify_key(session, "nck_00000000_" + "a" * 43) is None
        assert verify_key(session, "") is None and verify_key(session, "Bearer " + key) is None


def test_revoked_keys_do_not_verify_but_stay_listed(db: Database) -> None:
    with db.session() as session:
        _, key = create_key(session, name="old", role="checker")
        create_key(session, name="new", role="checker")
    with db.session() as session:
        revoke_key(session, "old")
    with db.session() as session:
        assert verify_key(session, key) is None
        assert [k.name for k in list_keys(session)] == ["old", "new"]
        assert [k.name for k in list_keys(session, include_revoked=False)] == ["new"]
        with pytest.raises(InputError, match="no key named"):
            revoke_key(session, "never")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "x", "role": "superuser"}, "role"),
        ({"name": "has space", "role": "checker"}, "name"),
        ({"name": "", "role": "checker"}, "name"),
        ({"name": "rev", "role": "reviewer"}, "office"),
    ],
)
def test_create_rejects_bad_input(db: Database, kwargs: dict, field: str) -> None:
    with db.session() as session, pytest.raises(InputError) as caught:
        create_key(session, **kwargs)
    assert caught.value.field == field


def test_names_are_unique(db: Database) -> None:
    with db.session() as session:
        create_key(session, name="dup", role="checker")
    with db.session() as session, pytest.raises(InputError, match="already exists"):
        create_key(session, name="dup", role="admin")


def test_principal_roles_and_offices() -> None:
    checker = Principal("c", "checker", ("Rockville",))
    reviewer = Principal("r", "reviewer", ("*",))
    admin = Principal("a", "admin", ())
    assert checker.has_role("checker") and not checker.has_role("reviewer", "admin")
    assert admin.has_role("reviewer") and admin.has_role("checker")
    assert checker.can_access("Rockville") and not checker.can_access("Bethesda") and checker.can_access(None)
    assert reviewer.can_access("Anywhere") and admin.can_access("Anywhere")


def test_verifier_caches_for_the_ttl_then_sees_revocation(db: Database) -> None:
    now = [1000.0]
    verifier = KeyVerifier(db, ttl=30, size=8, clock=lambda: now[0])
    with db.session() as session:
        _, key = create_key(session, name="cached", role="reviewer", offices=["Rockville"])
    assert verifier.verify(key) == Principal("cached", "reviewer", ("Rockville",), "api_key")
    with db.session() as session:
        revoke_key(session, "cached")
    now[0] += 29
    assert verifier.verify(key) is not None  # still cached: revocation takes effect within the TTL
    assert verifier.hits == 1
    now[0] += 2
    assert verifier.verify(key) is None  # expired, hashed again, revoked
    assert verifier.verify(key) is None and verifier.hits == 2  # the refusal is cached too


def test_verifier_cache_is_bounded(db: Database) -> None:
    verifier = KeyVerifier(db, ttl=60, size=3)
    for i in range(10):
        verifier.verify(f"nck_{i:08x}_" + "a" * 43)
    assert len(verifier._cache) == 3


# -- CLI -------------------------------------------------------------------------------------------------------------
@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(cli: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def test_cli_create_list_revoke(cli: typer.Typer, sqlite_url: str) -> None:
    created = run(
        cli, "keys", "create", "--name", "intake", "--role", "checker", "--office", "Rockville", "--db", sqlite_url
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert KEY_RE.match(key)
    listed = run(cli, "keys", "list", "--db", sqlite_url)
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PREFIX", "ROLE", "OFFICES", "CREATED", "LAST", "USED", "REVOKED"]
    assert lines[1].split()[:4] == ["intake", key[:12], "checker", "Rockville"]
    assert key not in listed.stdout and "argon2" not in listed.stdout
    revoked = run(cli, "keys", "revoke", "intake", "--db", sqlite_url)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", run(cli, "keys", "list", "--db", sqlite_url).stdout.splitlines()[1]
    )
    db = Database(sqlite_url)
    with db.session() as session:
        assert verify_key(session, key) is None
    db.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--name", "x", "--role", "root"),
        ("keys", "create", "--name", "r", "--role", "reviewer"),
        ("keys", "revoke", "nobody"),
        ("keys", "create", "--role", "checker"),
    ],
)
def test_cli_usage_errors_exit_2(cli: typer.Typer, sqlite_url: str, args: tuple[str, ...]) -> None:
    result = run(cli, *args, "--db", sqlite_url)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_cli_duplicate_name_exits_2(cli: typer.Typer, sqlite_url: str) -> None:
    assert run(cli, "keys", "create", "--name", "a", "--role", "admin", "--db", sqlite_url).exit_code == 0
    assert run(cli, "keys", "create", "--name", "a", "--role", "admin", "--db", sqlite_url).exit_code == 2


def test_every_command_has_an_example(cli: typer.Typer) -> None:
    from notecheck.server_commands import keys_create, keys_list, keys_revoke, serve

    for command in (serve, keys_create, keys_list, keys_revoke):
        assert "Example: notecheck " in (command.__doc__ or "")
