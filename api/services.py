"""The objects one app shares across requests, built once by create_app and reached through `api.auth.services()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from api.auth import KeyVerifier
from api.metrics import Metrics
from api.problems import Problem, input_problem
from api.schemas import NoteIn
from api.settings import Settings
from notecheck.checker import Checker
from notecheck.errors import InputError
from notecheck.note import KNOWN_FIELDS, Note
from notecheck.store.db import Database

T = TypeVar("T")


@dataclass
class Services:
    checker: Checker
    settings: Settings
    db: Database
    keys: KeyVerifier
    metrics: Metrics
    scans: Any = None  # api.scans.ScanJobs
    _limiter: Any = field(default=None, repr=False)
    _limiter_loop: Any = field(default=None, repr=False)

    @property
    def max_text_chars(self) -> int:
        return min(self.settings.max_text_chars, self.checker.policy.max_chars)

    def to_note(self, body: NoteIn) -> Note:
        """Validate a request body into a Note: 413 for over-long text, 422 naming the field otherwise."""
        limit = self.max_text_chars
        if len(body.text) > limit:
            raise Problem(
                413,
                f"The note text is {len(body.text)} characters, over the limit of {limit}.",
                errors=[{"field": "text", "message": f"longer than {limit} characters"}],
            )
        fields = body.note_fields()
        for name in KNOWN_FIELDS:  # JSON may escape lone surrogates ("\ud800"): not text we can store or hash
            value = fields.get(name)
            if isinstance(value, str) and not encodable(value):
                raise Problem(
                    422,
                    "1 field is invalid",
                    errors=[{"field": name, "message": "not valid Unicode (unpaired surrogate)"}],
                )
        try:
            return Note.from_dict(fields, max_chars=limit)
        except InputError as exc:
            raise input_problem(exc) from None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU or database work on a worker thread, at most `settings.worker_threads` at once."""
        loop = asyncio.get_running_loop()
        if self._limiter_loop is not loop:
            self._limiter = anyio.CapacityLimiter(self.settings.worker_threads)
            self._limiter_loop = loop
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)


def encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
