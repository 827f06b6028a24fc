"""API keys: create, verify, list, revoke. The key is shown once; only an argon2 hash and a short prefix are stored.

A key looks like ``nck_3f9c0a1b_<43 url-safe characters>``. The part up to the second underscore is the *prefix*:
not secret, stored in clear, used to find the row (and shown by ``notecheck keys list``). The rest carries 256 bits
of randomness. Because the secret is random rather than chosen by a person, the argon2 parameters are OWASP's
minimum (19 MiB, 2 passes) instead of argon2-cffi's password defaults (64 MiB, 3 passes, ~370 ms here): stretching
adds nothing against guessing 256 random bits, and the API verifies keys on its request path (then caches them).

    >>> with db.session() as s:
    ...     row, key = create_key(s, name="intake-form", role="checker", offices=["Rockville"])
    >>> with db.session() as s:
    ...     verify_key(s, key).name
    'intake-form'
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from notecheck.errors import InputError
from notecheck.store.models import ApiKey, utcnow

ROLES = ("checker", "reviewer", "admin")
ALL_OFFICES = "*"  # the same convention as reviewer accounts (notecheck/users.py)
KEY_PREFIX = "nck"
_PREFIX_CHARS = 8
_KEY_RE = re.compile(r"^nck_([0-9a-f]{8})_([A-Za-z0-9_-]{20,200})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_key() -> tuple[str, str]:
    """A fresh (prefix, key) pair; the prefix is the key's first 12 characters."""
    prefix = f"{KEY_PREFIX}_{secrets.token_hex(_PREFIX_CHARS // 2)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def key_prefix(key: str) -> str | None:
    """The stored prefix of a well-formed key, or None when the string cannot be a notecheck key."""
    match = _KEY_RE.match(key)
    return f"{KEY_PREFIX}_{match.group(1)}" if match else None


def normalise_offices(offices: Iterable[str]) -> list[str]:
    cleaned = sorted({o.strip() for o in offices if o and o.strip()})
    return [ALL_OFFICES] if ALL_OFFICES in cleaned else cleaned


def create_key(session: Session, *, name: str, role: str, offices: Iterable[str] = ()) -> tuple[ApiKey, str]:
    """Add a key to the session and return (row, key). The key is not stored; show it to the user once.

    Offices scope the key to notes of those offices; '*' means every office. A checker or admin key created
    without offices gets '*'; a reviewer key must name its offices, as reviewer accounts do.
    """
    if not _NAME_RE.match(name):
        raise InputError(
            "a key name is 1-200 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", field="name"
        )
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose from {', '.join(ROLES)}", field="role")
    office_list = normalise_offices(offices)
    if not office_list:
        if role == "reviewer":
            raise InputError("a reviewer key needs at least one --office (or '*' for all offices)", field="office")
        office_list = [ALL_OFFICES]
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise InputError(f"a key named {name!r} already exists (revoke it or choose another name)", field="name")
    prefix, key = new_key()
    row = ApiKey(name=name, prefix=prefix, key_hash=HASHER.hash(key), role=role, offices=office_list)
    session.add(row)
    session.flush()
    return row, key


def verify_key(session: Session, key: str, *, touch: bool = True) -> ApiKey | None:
    """The live (not revoked) key row matching `key`, or None. Costs one argon2 verification per candidate row."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    rows = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))).all()
    for row in rows:
        try:
            HASHER.verify(row.key_hash, key)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
        if touch:
            row.last_used_at = utcnow()
        return row
    return None


def list_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKey]:
    """Every key row, oldest first (hashes included; callers print the prefix, never the hash)."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, name: str) -> ApiKey:
    """Mark the named key revoked (the row stays for the audit trail). Raises InputError if there is no such key."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise InputError(f"no key named {name!r}", field="name")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
