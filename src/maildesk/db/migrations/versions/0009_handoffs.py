"""handoffs: incidents handed to their team; the first mail of an incident kept whole; the
incident a late reply follows on from

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False, unique=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("incident_id", "address", name="uq_handoffs_incident_address"),
    )
    op.create_index("ix_handoffs_incident_id", "handoffs", ["incident_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_incidents_previous", "incidents", ["previous_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("fk_incidents_previous", type_="foreignkey")
        batch.drop_column("previous_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("raw")
    op.drop_index("ix_handoffs_incident_id", table_name="handoffs")
    op.drop_table("handoffs")
