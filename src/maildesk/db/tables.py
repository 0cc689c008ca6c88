"""Database schema (SQLAlchemy 2). Changes go through Alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    category_confidence: Mapped[float] = mapped_column(Float)
    category_reason: Mapped[str] = mapped_column(String(200))
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    kind_reason: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(2))
    priority_reason: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))  # the one we answer in
    # the one the client wrote in (German, Chinese…), None when it could not be told
    written_language: Mapped[str | None] = mapped_column(String(8), default=None)
    client_address: Mapped[str] = mapped_column(String(320), index=True)
    client_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(998), default="")
    first_response_due: Mapped[datetime]
    resolution_due: Mapped[datetime] = mapped_column(index=True)
    deadline_reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_client_message_at: Mapped[datetime | None]
    arrived_out_of_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    # the resolved incident a client wrote about again after replies.reopen_days
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    previous: Mapped[Incident | None] = relationship(remote_side="Incident.id")
    paused_at: Mapped[datetime | None]  # waiting on the client since
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)  # business time paused so far
    # times the client brought it back after it was resolved (the reopen rate)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    survey_sent_at: Mapped[datetime | None]  # the resolution notice that asked for a score

    messages: Mapped[list[Message]] = relationship(back_populates="incident", order_by="Message.id")
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id"
    )


class Message(Base):
    """Every mail read from the mailbox (and every reply queued), with what was decided."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" / "out"
    dedup_key: Mapped[str] = mapped_column(String(1000), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    disposition: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    to_addresses: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(998), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    body_text: Mapped[str] = mapped_column(Text, default="")
    clean_text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    defects: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    # The mail without its trace headers: the same mail delivered twice keeps it, a different
    # mail that reuses a Message-ID does not ("" on rows older than migration 0010).
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # The mail as it came, for the first mail of an incident: forwarded byte for byte to the
    # team that must solve it, also when that happens later (an unsure one, a reassignment).
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    mailbox: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]  # the mail's own Date header
    received_at: Mapped[datetime]

    incident: Mapped[Incident | None] = relationship(back_populates="messages")


class IncidentEvent(Base):
    """Audit trail: what happened to an incident, when, by whom and why."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship(back_populates="events")


class Correction(Base):
    """A category or kind set by a person: with the mail's words, it teaches the classifier."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # the client's own words
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    predicted_category: Mapped[str] = mapped_column(String(16))
    predicted_kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class OutboxItem(Base):
    """A mail to send. Written in the same transaction as what caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # ack, followup, digest, alert
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated envelope recipients
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default="queued")  # queued/sending/sent/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]  # our copy came back through the support mailbox

    # Lets a reply be queued with its new incident before either has an id (one flush).
    incident: Mapped[Incident | None] = relationship()

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The loop guard's count, answered from the index alone (migration 0007).
        Index("ix_outbox_recipient_created", "recipients", "created_at", "purpose"),
    )


class Checkpoint(Base):
    """How far the mailbox has been read: the last UID handled under a UIDVALIDITY."""

    __tablename__ = "checkpoints"

    mailbox: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class QuarantinedMail(Base):
    """A mail that could not be turned into anything, kept with the reason (never lost)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One row per mail on the server (twins with the same bytes each keep theirs).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when too large to keep
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_quarantine_mail"),)


class DuplicateMail(Base):
    """A mail judged a duplicate of one already recorded (``same-mail``), or a different mail
    that reused a recorded Message-ID and was handled as new (``reused-message-id``)."""

    __tablename__ = "duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # same-mail / reused-message-id
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998))
    content_hash: Mapped[str] = mapped_column(String(64))
    matched_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)

    incident: Mapped[Incident | None] = relationship()

    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", "kind", name="uq_duplicates_mail"),
    )


class DaemonHeartbeat(Base):
    """What one daemon process (intake or sender) last did, for ``maildesk status`` and the
    metrics of another process; written on a change of state and at least every minute."""

    __tablename__ = "daemon_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid:role
    role: Mapped[str] = mapped_column(String(16))  # intake / sender
    state: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(Text, default="")
    event_at: Mapped[datetime]
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TimeEntry(Base):
    """Time a person spent on an incident, or an operator visit with its cost (``time`` /
    ``visit`` commands), for the per-client report."""

    __tablename__ = "time_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(8))  # time / visit
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    cost_cents: Mapped[int] = mapped_column(Integer, default=0)  # visits: what it cost

    incident: Mapped[Incident] = relationship()


class SurveyAnswer(Base):
    """The client's score (1–5) of how an incident was solved, answered by replying to the
    resolution notice or through one of its links; the latest answer counts."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    how: Mapped[str] = mapped_column(String(8))  # link / reply
    message_id: Mapped[str | None] = mapped_column(String(998))
    answered_at: Mapped[datetime] = mapped_column(index=True)

    incident: Mapped[Incident] = relationship()


class FailingAddress(Base):
    """A client address our mail cannot reach (a bounce, or a permanent SMTP refusal): no
    automatic reply goes to it until ``until``."""

    __tablename__ = "failing_addresses"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # bounce / smtp
    detail: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=1)
    until: Mapped[datetime] = mapped_column(index=True)


class ReferenceCounter(Base):
    """Per-year sequence for human references (MD-2026-000123)."""

    __tablename__ = "reference_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # e.g. "MD-2026"
    last: Mapped[int] = mapped_column(Integer)


class DigestSent(Base):
    """One morning digest per recipient and local day: the unique key makes it so, whatever
    the restarts and however many daemons share the database."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the schedule's zone
    covered_from: Mapped[datetime]
    covered_until: Mapped[datetime]
    message_id: Mapped[str] = mapped_column(String(998))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("recipient", "day", name="uq_digests_recipient_day"),)


class AlertSent(Base):
    """One escalation alert per incident and threshold (percent of resolution time used)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    threshold: Mapped[int] = mapped_column(Integer)  # percent
    message_id: Mapped[str] = mapped_column(String(998))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("incident_id", "threshold", name="uq_alerts_incident_threshold"),
    )


class Handoff(Base):
    """An incident handed to the team that must solve it: one per incident and team (the
    unique key), written in the same transaction as the forward's outbox row."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    team: Mapped[str] = mapped_column(String(64))  # technical_service, billing_centre, kind:…
    address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)  # the forward's, ours
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]  # the team's first answer: its response time

    incident: Mapped[Incident] = relationship()

    __table_args__ = (
        UniqueConstraint("incident_id", "address", name="uq_handoffs_incident_address"),
    )
