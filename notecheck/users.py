"""Reviewer and admin accounts for the web queue: argon2id password hashes, office scopes, authentication.

    >>> with db.session() as session:
    ...     create_user(session, "ana", "a long passphrase", role="reviewer", offices=["Rockville"])

Offices are the `office` values of CONTRACT §1; `ALL_OFFICES` ("*") grants every office. Admins see every office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from notecheck.errors import InputError
from notecheck.store.models import User, utcnow

ROLES = ("reviewer", "admin")
ALL_OFFICES = "*"
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) parameters


@cache
def _dummy_hash() -> str:
    return _hasher().hash("notecheck-dummy-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def validate_password(password: str, *, min_chars: int = MIN_PASSWORD_CHARS) -> None:
    if len(password) < min_chars:
        raise InputError(f"the password must be at least {min_chars} characters", field="password")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InputError(f"the password must be at most {MAX_PASSWORD_CHARS} characters", field="password")


def normalise_offices(offices: Iterable[str]) -> list[str]:
    cleaned = sorted({o.strip() for o in offices if o and o.strip()})
    return [ALL_OFFICES] if ALL_OFFICES in cleaned else cleaned


def validate_user(username: str, role: str, offices: list[str]) -> None:
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        raise InputError("the username must be 1-200 characters without spaces", field="username")
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}", field="role")
    if role == "reviewer" and not offices:
        raise InputError("a reviewer needs at least one --office (or '*' for all offices)", field="office")


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    offices: Iterable[str] = (),
    replace: bool = False,
    min_password_chars: int = MIN_PASSWORD_CHARS,
) -> User:
    """Add a user (or, with `replace`, reset an existing one's password, role and offices and re-enable it)."""
    office_list = normalise_offices(offices)
    validate_user(username, role, office_list)
    validate_password(password, min_chars=min_password_chars)
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not replace:
        raise InputError(f"user {username!r} already exists", field="username")
    if user is None:
        user = User(username=username, password_hash="", role=role, offices=[])
        session.add(user)
    user.password_hash = hash_password(password)
    user.role = role
    user.offices = office_list
    user.disabled_at = None
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The enabled user with this username and password, else None. Takes about as long either way."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or user.disabled_at is not None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def disable_user(session: Session, username: str, *, at: dt.datetime | None = None) -> bool:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return False
    user.disabled_at = at or utcnow()
    return True


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sees_all_offices(role: str, offices: Iterable[str]) -> bool:
    return role == "admin" or ALL_OFFICES in offices
