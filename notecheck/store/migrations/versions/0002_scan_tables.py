"""bulk scanner: per-note caseload features (no text) and the resume checkpoint

Revision ID: 0002_scan
Revises: 0001
Create Date: 2026-11-27

A branch off 0001 (Database.upgrade applies every head). Owned by the bulk scanner (notecheck/scan/).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_scan"
down_revision = "0001"
branch_labels = ("scan",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_notes",
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.Column("note_id", sa.String(length=200), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=8), nullable=False),
        sa.Column("exit_date", sa.Date(), nullable=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scan_id", "note_id"),
    )
    op.create_table(
        "scan_checkpoints",
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("next_row", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("out_path", sa.String(length=1000), nullable=True),
        sa.Column("out_offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scan_id"),
    )
    with op.batch_alter_table("scan_checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_scan_checkpoints_key", ["key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_checkpoints_key")
    op.drop_table("scan_checkpoints")
    op.drop_table("scan_notes")
