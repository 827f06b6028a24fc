"""review queue: index verdicts by decided_at

Revision ID: 0003_review
Revises: 0002_review
Create Date: 2026-11-27

On the review branch (after 0002_review). The queue index asks for the newest verdict on every page and reads only
the verdicts decided since its last look; both are index lookups with this.
"""

from alembic import op

revision = "0003_review"
down_revision = "0002_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index("ix_verdicts_decided_at", ["decided_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index("ix_verdicts_decided_at")
