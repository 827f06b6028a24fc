"""SQLAlchemy pre-save hook: `protect(Model, text="body")` checks every new or changed note when the session
flushes, and raises `notecheck.NoteBlocked` before anything is written.

    from notecheck.hooks.sqlalchemy import protect

    class CaseNote(Base):
        __tablename__ = "case_notes"
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = mapped_column(Text)
        subject: Mapped[str | None]
        contact_on: Mapped[dt.date | None]

    protect(CaseNote, text="body", title="subject", contact_date="contact_on")

    session.add(CaseNote(body="Client denies drug use."))
    session.commit()      # raises NoteBlocked(report); nothing was written. Fix the text, or session.rollback().

A `before_flush` listener on `Session` (all sessions, or the class given as `session`) checks objects of `Model`
that are new, and objects that are changed when the text (or title) attribute itself changed; a change to other
columns of an already-saved note does not re-check it. Blank text is left to the application's own validation;
text that cannot be checked at all (over the policy's length limit, NUL bytes) raises `InputError`, so the hook
fails closed. `NoteBlocked.instance` is the offending object.

What the hook does NOT see (SQLAlchemy runs no unit-of-work events for these; call `notecheck.guard()` yourself):
bulk INSERT/UPDATE statements (`session.execute(insert(Model), [...])`, `session.execute(update(Model)...)`),
`Session.bulk_save_objects`, `bulk_insert_mappings` and `bulk_update_mappings`, Core `connection.execute(...)`, and
raw SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from notecheck.api import check as check_note
from notecheck.checker import Checker
from notecheck.errors import ConfigError, NoteBlocked
from notecheck.report import Report


@dataclass
class Protection:
    """A registered hook; `remove()` unregisters it."""

    model: type
    text: str
    title: str | None = None
    contact_date: str | None = None
    entered_at: str | None = None
    policy: str = "default"
    checker: Checker | None = None
    session: Any = Session
    _active: bool = field(default=False, repr=False)

    def check(self, obj: Any) -> Report | None:
        """The report for one object's note, or None when its text is blank."""
        text = getattr(obj, self.text)
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        kwargs: dict[str, Any] = {
            "note_id": _note_id(obj),
            "title": _get(obj, self.title),
            "contact_date": _get(obj, self.contact_date),
            "entered_at": _get(obj, self.entered_at),
        }
        if isinstance(kwargs["contact_date"], dt.datetime):
            kwargs["contact_date"] = kwargs["contact_date"].date()
        if self.checker is not None:
            return self.checker.check(text, **kwargs)
        return check_note(text, self.policy, **kwargs)

    def before_flush(self, session: Session, flush_context: Any, instances: Any) -> None:
        deleted = set(session.deleted)
        for obj in [*session.new, *session.dirty]:
            if not isinstance(obj, self.model) or obj in deleted:
                continue
            if obj not in session.new and not self._changed(obj):
                continue
            report = self.check(obj)
            if report is not None and report.decision == "block":
                error = NoteBlocked(report)
                error.instance = obj  # type: ignore[attr-defined]
                raise error

    def _changed(self, obj: Any) -> bool:
        attrs = inspect(obj).attrs
        return any(attrs[name].history.has_changes() for name in (self.text, self.title) if name)

    def remove(self) -> None:
        if self._active:
            event.remove(self.session, "before_flush", self.before_flush)
            self._active = False


def protect(
    model: type,
    text: str = "body",
    *,
    title: str | None = None,
    contact_date: str | None = None,
    entered_at: str | None = None,
    policy: str = "default",
    checker: Checker | None = None,
    session: Any = Session,
) -> Protection:
    """Check `model`'s notes on every flush; raise NoteBlocked before a blocked note is written.

    `text`, `title`, `contact_date` and `entered_at` name the model's attributes. `checker` (a built Checker) wins
    over `policy`; without one, the process-wide checker of `notecheck.check()` for `policy` is used. `session`
    narrows the hook to one Session class or sessionmaker (default: every Session).
    """
    mapper = inspect(model, raiseerr=False)
    if mapper is None or not hasattr(mapper, "attrs"):
        raise ConfigError(f"{getattr(model, '__name__', model)!r} is not a mapped SQLAlchemy model")
    names = set(mapper.attrs.keys())
    for role, name in (("text", text), ("title", title), ("contact_date", contact_date), ("entered_at", entered_at)):
        if name is not None and name not in names:
            raise ConfigError(f"{model.__name__} has no mapped attribute {name!r} (given as {role}=)", key=role)
    protection = Protection(model, text, title, contact_date, entered_at, policy, checker, session)
    event.listen(session, "before_flush", protection.before_flush)
    protection._active = True
    return protection


def _get(obj: Any, name: str | None) -> Any:
    return None if name is None else getattr(obj, name)


def _note_id(obj: Any) -> str | None:
    identity = inspect(obj).identity
    if not identity:
        return None
    return str(identity[0]) if len(identity) == 1 else "/".join(str(part) for part in identity)
