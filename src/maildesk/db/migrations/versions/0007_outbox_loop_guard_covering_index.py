"""outbox: the loop guard's index also holds the purpose, so its count reads no rows

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_recipient_created", table_name="outbox")
    op.create_index(
        "ix_outbox_recipient_created", "outbox", ["recipients", "created_at", "purpose"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient_created", table_name="outbox")
    op.create_index("ix_outbox_recipient_created", "outbox", ["recipients", "created_at"])
