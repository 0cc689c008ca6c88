"""digests and alerts: what was sent, unique per recipient-day and incident-threshold

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("covered_from", sa.DateTime(), nullable=False),
        sa.Column("covered_until", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("recipient", "day", name="uq_digests_recipient_day"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "threshold", name="uq_alerts_incident_threshold"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("digests")
