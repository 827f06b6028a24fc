"""Tables of the bulk scanner (migration 0002_scan): per-note caseload features and the resume checkpoint.

Neither holds note text. `scan_notes` keeps what the caseload checks need after the per-note pass, when clean notes'
text is gone: the input row number, whether the note documents a contact and by what kind of method, the client's exit
date when the input gives one, and a MinHash signature of the note's word shingles (for near-duplicate detection; a
signature cannot be turned back into text). `scan_checkpoints` is the single commit point that makes a killed scan
resumable: it moves forward in the same transaction as the batch of results it covers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from notecheck.store.models import Base, utcnow


class ScanNote(Base):
    """Caseload features of one checked note of one scan (unique per scan and note id, like `notes`)."""

    __tablename__ = "scan_notes"
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    note_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer)
    contact: Mapped[str] = mapped_column(String(8))  # none | letter | other (the note's contact method)
    exit_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # uint32 x NUM_PERM, little-endian


class ScanCheckpoint(Base):
    """How far a scan got: rows before `next_row` are committed; `out_offset` bytes of `out_path` match them."""

    __tablename__ = "scan_checkpoints"
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), default="notes")  # notes | caseload | export | done
    next_row: Mapped[int] = mapped_column(Integer, default=1)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    out_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    out_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    key: Mapped[str] = mapped_column(String(64), index=True)  # digest of source, query, column map and policy
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
