"""satisfaction: survey answers, when a survey was sent, and how often an incident reopened

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("reopened_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("survey_sent_at", sa.DateTime(), nullable=True))
    # Reopenings so far, from the status events ("resolved → open", "closed → waiting" …).
    op.execute(
        "UPDATE incidents SET reopened_count = (SELECT count(*) FROM incident_events e "
        "WHERE e.incident_id = incidents.id AND e.action = 'status' "
        "AND (e.detail LIKE 'resolved → open%' OR e.detail LIKE 'resolved → waiting%' "
        "OR e.detail LIKE 'closed → open%' OR e.detail LIKE 'closed → waiting%'))"
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False, unique=True
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("how", sa.String(8), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_survey_answers_answered_at", "survey_answers", ["answered_at"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_answered_at", table_name="survey_answers")
    op.drop_table("survey_answers")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("survey_sent_at")
        batch.drop_column("reopened_count")
