"""Who is calling: `Authorization: Bearer <key>` resolved to a `Principal`, and `require_role(...)` for routes.

    @router.get("/v1/findings")
    def findings(principal: Principal = Depends(require_role("reviewer"))): ...

No key or a wrong key: 401 with `WWW-Authenticate: Bearer`. A key of another role: 403. `admin` holds every role.
Office scope is checked by the route with `principal.can_access(office)`.

Verifying a key costs an argon2 hash (about 20 ms here); `KeyVerifier` remembers a verified key for
`Settings.key_cache_seconds` (default 30 s), keyed by the key's SHA-256, so a revoked key stops working within that
time and the request path pays a dictionary lookup. Unknown keys are remembered too, so a client retrying a bad key
cannot make the server hash on every request. The cache is bounded (`key_cache_size`, least recently used out).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.problems import Problem
from notecheck.keys import ALL_OFFICES, verify_key
from notecheck.store.db import Database

log = logging.getLogger("notecheck.api")
SCOPE_KEY = "notecheck.services"
ROLES = ("checker", "reviewer", "admin")
BEARER = {"WWW-Authenticate": 'Bearer realm="notecheck"'}
bearer_scheme = HTTPBearer(auto_error=False, description="An API key from `notecheck keys create`.")


@dataclass(frozen=True)
class Principal:
    """The caller: an API key (kind "api_key") or, for the reviewer UI, a logged-in user (kind "user")."""

    name: str
    role: str
    offices: tuple[str, ...]
    kind: str = "api_key"

    def has_role(self, *roles: str) -> bool:
        """True if the principal holds any of `roles`; admin holds them all."""
        return self.role == "admin" or self.role in roles

    def can_access(self, office: str | None) -> bool:
        """True if the principal may act on a note of `office` (a note without an office is anyone's)."""
        if office is None or self.role == "admin" or ALL_OFFICES in self.offices:
            return True
        return office in self.offices


class KeyVerifier:
    """Resolves keys to Principals against the api_keys table, with a short-lived in-memory cache."""

    def __init__(
        self, db: Database, *, ttl: float = 30.0, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ):
        self.db, self.ttl, self.size, self.clock = db, ttl, size, clock
        self._cache: OrderedDict[bytes, tuple[float, Principal | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def cached(self, key: str) -> tuple[bool, Principal | None]:
        """(found, principal) from the cache only; never touches the database."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        now = self.clock()
        with self._lock:
            entry = self._cache.get(digest)
            if entry is None or entry[0] <= now:
                if entry is not None:
                    del self._cache[digest]
                self.misses += 1
                return False, None
            self._cache.move_to_end(digest)
            self.hits += 1
            return True, entry[1]

    def verify(self, key: str) -> Principal | None:
        """The Principal for `key`, or None. Hashes at most once per key per TTL (blocking: call from a thread)."""
        found, principal = self.cached(key)
        if found:
            return principal
        with self.db.session() as session:
            row = verify_key(session, key)
            principal = None if row is None else Principal(row.name, row.role, tuple(row.offices or ()), "api_key")
        self._remember(key, principal)
        return principal

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _remember(self, key: str, principal: Principal | None) -> None:
        if self.ttl <= 0:
            return
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            self._cache[digest] = (self.clock() + self.ttl, principal)
            self._cache.move_to_end(digest)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)


def services(request: Request) -> Any:
    """The app's shared objects (checker, db, keys, metrics); set on every request's scope by create_app."""
    return request.scope[SCOPE_KEY]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers=BEARER)


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The Principal behind the request's bearer key, or raise a 401 Problem."""
    state = services(request)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        state.metrics.auth_failures.labels(reason="missing").inc()
        raise _unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
    key = credentials.credentials
    verifier: KeyVerifier = state.keys
    found, principal = verifier.cached(key)
    state.metrics.key_cache.labels(result="hit" if found else "miss").inc()
    if not found:
        try:
            principal = await run_in_threadpool(verifier.verify, key)
        except SQLAlchemyError as exc:
            log.error("could not verify an API key (%s)", type(exc).__name__)
            raise Problem(503, "Keys cannot be checked right now; try again shortly.") from None
    if principal is None:
        state.metrics.auth_failures.labels(reason="invalid").inc()
        raise _unauthorized("The API key is not valid (unknown, revoked or mistyped).")
    return principal


def require_role(*roles: str) -> Callable[..., object]:
    """A FastAPI dependency returning the caller's Principal if it holds one of `roles` (admin holds all)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"require_role() takes roles from {ROLES}, not {sorted(unknown) or 'nothing'}")
    wanted = tuple(roles)

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Principal:
        principal = await authenticate(request, credentials)
        if not principal.has_role(*wanted):
            services(request).metrics.auth_failures.labels(reason="role").inc()
            raise Problem(403, f"The role {principal.role!r} may not do this; it needs {' or '.join(wanted)}.")
        return principal

    return dependency


def require_office(principal: Principal, offices: Iterable[str | None]) -> None:
    """Raise 403 unless the principal may act on every one of `offices`."""
    for office in offices:
        if not principal.can_access(office):
            raise Problem(403, "This key is not allowed for the note's office.")
