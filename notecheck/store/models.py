"""The results database. Note text is stored only for flagged notes (for reviewers) and purged after retention;
clean notes keep their report but never their text. The audit log is append-only (enforced by triggers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Scan(Base):
    """One bulk scan (or the pseudo-scan 'gate' that collects inline gate blocks)."""

    __tablename__ = "scans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(500))  # a path or a URL without password; never note text
    policy: Mapped[str] = mapped_column(String(200))
    checker_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    input_errors: Mapped[int] = mapped_column(Integer, default=0)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NoteResult(Base):
    """One checked note: its report summary and, only when flagged, its text."""

    __tablename__ = "notes"
    __table_args__ = (
        UniqueConstraint("scan_id", "note_id", name="uq_notes_scan_note"),
        Index("ix_notes_office_decision", "office", "decision"),
        Index("ix_notes_client", "client_id", "contact_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    note_id: Mapped[str] = mapped_column(String(200), index=True)
    client_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    staff: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    office: Mapped[str | None] = mapped_column(String(200), nullable=True)
    program: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_date: Mapped[dt.date | None] = mapped_column(DateTime, nullable=True)
    entered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decision: Mapped[str] = mapped_column(String(8), index=True)
    score: Mapped[int] = mapped_column(Integer)
    policy: Mapped[str] = mapped_column(String(200))
    checker_version: Mapped[str] = mapped_column(String(32))
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    text_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # flagged notes only
    title: Mapped[str | None] = mapped_column(Text, nullable=True)  # flagged notes only
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    text_purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    findings: Mapped[list[FindingRow]] = relationship(back_populates="note", cascade="all, delete-orphan")


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_note_fp", "note_id", "fingerprint"),
        Index("ix_findings_queue", "office", "kind", "category", "severity"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note_pk: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    scan_id: Mapped[str] = mapped_column(String(64), index=True)
    note_id: Mapped[str] = mapped_column(String(200))
    office: Mapped[str | None] = mapped_column(String(200), nullable=True)
    staff: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(1000))
    policy_ref: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[NoteResult] = relationship(back_populates="findings")


class InputErrorRow(Base):
    """A bad input row: its position and id, and the reason. Never the row's text."""

    __tablename__ = "input_errors"
    __table_args__ = (UniqueConstraint("scan_id", "row_number", name="uq_input_errors_scan_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    note_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str] = mapped_column(String(500))


class Verdict(Base):
    """A reviewer's decision on one finding, keyed by note id and fingerprint so it survives rescans."""

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("note_id", "fingerprint", name="uq_verdicts_note_fp"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note_id: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))  # confirmed | dismissed
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Suppression(Base):
    """Agency suppression list: a dismissed finding's fingerprint is not raised again in any note."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    """An API key: only a salted hash is stored; `prefix` finds the row without scanning every hash."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(16))  # checker | reviewer | admin
    offices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class User(Base):
    """A reviewer or admin who logs in to the web queue; the password is stored as an argon2 hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(16))  # reviewer | admin
    offices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEvent(Base):
    """Append-only: who saw or decided what, when. Fingerprints and ids only, never note text."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_type: Mapped[str] = mapped_column(String(16))  # api_key | user | system
    action: Mapped[str] = mapped_column(String(64), index=True)
    note_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    office: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fingerprints: Mapped[list[Any]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
