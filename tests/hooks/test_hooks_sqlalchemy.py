"""notecheck.hooks.sqlalchemy.protect(): blocked notes never reach the table, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from notecheck import Checker, ConfigError, InputError, NoteBlocked
from notecheck.hooks.sqlalchemy import Protection, protect
from notecheck.store.db import Database

CLEAN = (
    "Phone call with client on 3/4 at the Rockville office about CDL training. Reviewed the provider list. "
    "Next steps: I will email the application by 3/8."
)
BLOCKED = "Met client at the office. He denies drug use and is on probation. Next: call on 3/8."


class Base(DeclarativeBase):
    pass


class CaseNote(Base):
    __tablename__ = "hook_case_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None] = mapped_column(sa.Text)
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    contact_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    entered: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    staff: Mapped[str | None] = mapped_column(sa.String(200))


class Other(Base):
    __tablename__ = "hook_other"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    db = Database(database_url, upgrade=False)
    Base.metadata.create_all(db.engine)
    try:
        yield sessionmaker(db.engine)
    finally:
        db.dispose()


@pytest.fixture
def protected(checker: Checker) -> Iterator[Protection]:
    protection = protect(CaseNote, text="body", title="subject", contact_date="contact_on", checker=checker)
    try:
        yield protection
    finally:
        protection.remove()


def bodies(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as session:
        return list(session.scalars(sa.select(CaseNote.body).order_by(CaseNote.id)))


def test_blocked_insert_raises_before_anything_is_written(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        note = CaseNote(body=BLOCKED, staff="J. Ortiz")
        session.add(note)
        with pytest.raises(NoteBlocked) as caught:
            session.commit()
        assert caught.value.report.decision == "block"
        assert caught.value.instance is note  # type: ignore[attr-defined]
        assert "substance_use" in {f.category for f in caught.value.report.blocking()}
        assert BLOCKED not in str(caught.value)
        session.rollback()
    assert bodies(sessions) == []


def test_clean_insert_is_saved_and_can_be_fixed_after_a_block(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        note = CaseNote(body=BLOCKED)
        session.add(note)
        with pytest.raises(NoteBlocked):
            session.flush()
        note.body = CLEAN  # the pending object is still in the session: fix it and flush again
        session.commit()
    assert bodies(sessions) == [CLEAN]


def test_update_is_checked_only_when_the_text_changes(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.add(CaseNote(body=CLEAN))
        session.commit()
    # A blocked text that got in around the hook (a bulk insert) is not re-checked when other columns change ...
    with sessions() as session:
        session.execute(sa.insert(CaseNote), [{"body": BLOCKED}])
        session.commit()
    with sessions() as session:
        for note in session.scalars(sa.select(CaseNote)):
            note.staff = "reassigned"
        session.commit()
    # ... but changing the text is checked.
    with sessions() as session:
        note = session.scalars(sa.select(CaseNote).where(CaseNote.body == CLEAN)).one()
        note.body = CLEAN + " He is on probation."
        with pytest.raises(NoteBlocked):
            session.commit()
        session.rollback()
    assert bodies(sessions) == [CLEAN, BLOCKED]


def test_changing_the_title_is_checked(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.add(CaseNote(body=CLEAN, subject="CDL training"))
        session.commit()
    with sessions() as session:
        note = session.scalars(sa.select(CaseNote)).one()
        note.subject = "SSN 123-45-6789"
        with pytest.raises(NoteBlocked) as caught:
            session.commit()
        assert caught.value.report.note_id == str(note.id)
        session.rollback()


def test_contact_date_and_entered_at_reach_the_checker(sessions, checker) -> None:  # type: ignore[no-untyped-def]
    """A note entered weeks after the contact carries the late-entry finding only when the dates are passed on."""
    seen = []

    class Recording:
        def check(self, text, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(kwargs)
            return checker.check(text, **kwargs)

    protection = protect(
        CaseNote,
        text="body",
        contact_date="contact_on",
        entered_at="entered",
        checker=Recording(),  # type: ignore[arg-type]
    )
    try:
        with sessions() as session:
            session.add(CaseNote(body=CLEAN, contact_on=dt.date(2026, 3, 4), entered=dt.datetime(2026, 3, 30, 9)))
            session.commit()
    finally:
        protection.remove()
    assert seen[0]["contact_date"] == dt.date(2026, 3, 4)
    assert seen[0]["entered_at"] == dt.datetime(2026, 3, 30, 9)


def test_other_models_and_blank_text_are_left_alone(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.add_all([Other(body=BLOCKED), CaseNote(body=None), CaseNote(body="   ")])
        session.commit()
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Other)) == 1


def test_text_that_cannot_be_checked_fails_closed(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.add(CaseNote(body="x" * (70 * 1024)))
        with pytest.raises(InputError):
            session.commit()
        session.rollback()
    assert bodies(sessions) == []


def test_bulk_operations_bypass_the_hook_as_documented(sessions, protected) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.execute(sa.insert(CaseNote), [{"body": BLOCKED}])
        session.bulk_save_objects([CaseNote(body=BLOCKED)])
        session.commit()
    assert bodies(sessions) == [BLOCKED, BLOCKED]


def test_remove_unregisters_the_hook(sessions, checker) -> None:  # type: ignore[no-untyped-def]
    protection = protect(CaseNote, text="body", checker=checker)
    protection.remove()
    with sessions() as session:
        session.add(CaseNote(body=BLOCKED))
        session.commit()
    assert bodies(sessions) == [BLOCKED]


def test_protect_checks_attribute_names() -> None:
    with pytest.raises(ConfigError, match="no mapped attribute 'text'"):
        protect(CaseNote, text="text")
    with pytest.raises(ConfigError, match="not a mapped SQLAlchemy model"):
        protect(dict)


def test_protect_without_a_checker_uses_the_shared_one(sessions) -> None:  # type: ignore[no-untyped-def]
    protection = protect(CaseNote, text="body", policy="default")
    try:
        with sessions() as session:
            session.add(CaseNote(body=BLOCKED))
            with pytest.raises(NoteBlocked):
                session.commit()
    finally:
        protection.remove()
