"""duplicates recorded, one quarantine row per mail on the server, failing client addresses,
each message's content hash, and the daemons' heartbeats

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's copy of the table has the old unique constraint unnamed: batch mode names it by
# this convention so that it can be dropped (PostgreSQL named it itself).
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("content_hash", sa.String(64), nullable=False, server_default="")
        )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("quarantine", naming_convention=_SQLITE_NAMES) as batch:
            batch.drop_constraint("uq_quarantine_sha256", type_="unique")
            batch.create_unique_constraint("uq_quarantine_mail", ["mailbox", "uidvalidity", "uid"])
    else:
        op.drop_constraint("quarantine_sha256_key", "quarantine", type_="unique")
        op.create_unique_constraint(
            "uq_quarantine_mail", "quarantine", ["mailbox", "uidvalidity", "uid"]
        )
    op.create_index("ix_quarantine_sha256", "quarantine", ["sha256"])
    op.create_table(
        "duplicates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("mailbox", sa.String(200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("matched_message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", "kind", name="uq_duplicates_mail"),
    )
    op.create_index("ix_duplicates_incident_id", "duplicates", ["incident_id"])
    op.create_index("ix_duplicates_created_at", "duplicates", ["created_at"])
    op.create_table(
        "failing_addresses",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=True),
        sa.Column("first_failed_at", sa.DateTime(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_failing_addresses_until", "failing_addresses", ["until"])
    op.create_table(
        "daemon_heartbeats",
        sa.Column("worker", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("event_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=True),
    )
    op.create_index("ix_daemon_heartbeats_updated_at", "daemon_heartbeats", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_daemon_heartbeats_updated_at", table_name="daemon_heartbeats")
    op.drop_table("daemon_heartbeats")
    op.drop_index("ix_failing_addresses_until", table_name="failing_addresses")
    op.drop_table("failing_addresses")
    op.drop_index("ix_duplicates_created_at", table_name="duplicates")
    op.drop_index("ix_duplicates_incident_id", table_name="duplicates")
    op.drop_table("duplicates")
    op.drop_index("ix_quarantine_sha256", table_name="quarantine")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("quarantine") as batch:
            batch.drop_constraint("uq_quarantine_mail", type_="unique")
            batch.create_unique_constraint("uq_quarantine_sha256", ["sha256"])
    else:
        op.drop_constraint("uq_quarantine_mail", "quarantine", type_="unique")
        op.create_unique_constraint("quarantine_sha256_key", "quarantine", ["sha256"])
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("content_hash")
