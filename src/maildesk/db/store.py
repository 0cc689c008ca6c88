"""Database access: engine and sessions, migrations, and the few queries the pipeline needs."""

from __future__ import annotations

import fcntl
import functools
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    case,
    create_engine,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from maildesk.db.tables import (
    Checkpoint,
    FailingAddress,
    Handoff,
    Incident,
    Message,
    OutboxItem,
    ReferenceCounter,
    UTCDateTime,
)

MIGRATIONS = Path(__file__).with_name("migrations")
_ALEMBIC_LOCK = threading.Lock()
_MIGRATION_LOCK_ID = 0x6D61696C6465736B & 0x7FFFFFFFFFFFFFFF  # "maildesk"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class SchemaError(Exception):
    """The database has no maildesk schema yet, or an older one: one line saying what to run."""


def _alembic_config() -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_REVISION = re.compile(r'^revision: str = "([^"]+)"', re.M)
_DOWN_REVISION = re.compile(r'^down_revision: [^=]+= "([^"]+)"', re.M)


@functools.cache
def head_revision() -> str:
    """The schema revision this maildesk's code expects: the one no migration builds on.

    Read from the migration files without Alembic, so that a daemon whose schema is
    current never loads Alembic (about 11 MB in each process)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(text))
        parents.update(_DOWN_REVISION.findall(text))
    heads = revisions - parents
    if len(heads) != 1:
        raise SchemaError(f"migrations have {len(heads)} heads ({sorted(heads)}), expected one")
    return heads.pop()


class Database:
    """One engine and its session factory; ``session()`` is a unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # A network database may drop idle connections; a SQLite file cannot.
        self.engine: Engine = create_engine(
            url, echo=echo, future=True, pool_pre_ping=not url.startswith("sqlite")
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision.

        Several daemons may start at once: Alembic's module state is guarded by a process
        lock, and the database by an advisory lock (PostgreSQL) or a lock file (SQLite).
        """
        if self.schema_revision() == head_revision():
            return  # the usual start: nothing to do, and Alembic never imported
        from alembic import command

        cfg = _alembic_config()
        with _ALEMBIC_LOCK, self._schema_lock(), self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    @property
    def where(self) -> str:
        """The database for messages: a SQLite file's path, else the URL without password."""
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            return self.engine.url.database
        return self.engine.url.render_as_string(hide_password=True)

    def schema_revision(self) -> str | None:
        """The database's schema revision; ``None`` when it has none. A SQLite file that
        does not exist is not created to find out."""
        path = self.engine.url.database
        on_file = self.engine.dialect.name == "sqlite" and path and path != ":memory:"
        if on_file and not Path(str(path)).exists():
            return None
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            revision = connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).scalar()
        return None if revision is None else str(revision)

    def require_current(self) -> None:
        """For commands that only read (and for everything but ``run`` and ``db upgrade``):
        a ``SchemaError`` instead of creating or changing the schema behind the user's back."""
        current, head = self.schema_revision(), head_revision()
        if current is None:
            raise SchemaError(
                f"no maildesk database at {self.where} yet: run 'maildesk db upgrade' "
                "(or start the daemon) first"
            )
        if current != head:
            raise SchemaError(
                f"the database at {self.where} has schema {current}, this maildesk needs "
                f"{head}: run 'maildesk db upgrade'"
            )

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ping(self) -> str:
        with self.engine.connect() as connection:
            version = connection.exec_driver_sql(
                "select sqlite_version()"
                if self.engine.dialect.name == "sqlite"
                else "show server_version"
            ).scalar()
        return f"{self.engine.dialect.name} {version}"

    def dispose(self) -> None:
        self.engine.dispose()


@functools.lru_cache(maxsize=4)
def _reference_upsert(dialect: str) -> Any:
    """Built once per dialect: the pipeline allocates a reference for every new incident."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    counters = cast(Table, ReferenceCounter.__table__)  # Core, not the ORM's bulk insert: cheaper
    return (
        insert(counters)
        .values(scope=bindparam("scope"), last=1)
        .on_conflict_do_update(
            index_elements=[counters.c.scope], set_={"last": counters.c.last + 1}
        )
        .returning(counters.c.last)
    )


def next_reference(session: Session, prefix: str, year: int) -> str:
    """Allocate the next human reference of the year, e.g. ``MD-2026-000123``.

    One upsert, so two workers opening the first incident of a year cannot collide.
    """
    scope = f"{prefix}-{year}"
    statement = _reference_upsert(session.get_bind().dialect.name)
    # On the session's connection: no autoflush of the batch's pending rows for a counter.
    bumped: int = session.connection().execute(statement, {"scope": scope}).scalar_one()
    return f"{scope}-{bumped:06d}"


_MESSAGES = cast(Table, Message.__table__)
# Core, on the session's connection: the ORM's per-statement overhead was a third of the
# duplicate check, which runs for every mail.
_FIND_MESSAGE = (
    select(_MESSAGES.c.id, _MESSAGES.c.incident_id, _MESSAGES.c.content_hash)
    .where(_MESSAGES.c.dedup_key == bindparam("key"))
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class SeenMessage:
    id: int
    incident_id: int | None
    content_hash: str  # "" for rows recorded before migration 0010


def seen_message(session: Session, dedup_key: str) -> SeenMessage | None:
    """The recorded mail with this deduplication key, in the database or among the
    session's rows not flushed yet (the pipeline flushes once per batch), or None."""
    if any(isinstance(row, Message) and row.dedup_key == dedup_key for row in session.new):
        session.flush()  # rare (a batch holding the same mail twice): give the row its id
    row = session.connection().execute(_FIND_MESSAGE, {"key": dedup_key}).first()
    return SeenMessage(row.id, row.incident_id, row.content_hash) if row is not None else None


def find_thread_incident(
    session: Session, references: Sequence[str], message_ids: Sequence[str]
) -> Incident | None:
    """The incident a mail answers: by a reference in its subject, else by its thread ids."""
    if references:
        found = session.scalars(
            select(Incident).where(Incident.reference.in_(list(references)))
        ).first()
        if found is not None:
            return found
    if message_ids:
        ids = list(message_ids)
        linked = session.scalars(
            select(Message.incident_id)
            .where(Message.message_id.in_(ids), Message.incident_id.is_not(None))
            .limit(1)
        ).first()
        if linked is None:
            linked = session.scalars(
                select(OutboxItem.incident_id)
                .where(OutboxItem.message_id.in_(ids), OutboxItem.incident_id.is_not(None))
                .limit(1)
            ).first()
        if linked is not None:
            return session.get(Incident, linked)
    return None


def answered_handoff(
    session: Session, incident: Incident, sender: str, message_ids: Sequence[str]
) -> Handoff | None:
    """The hand-off a mail answers: one of this incident's forwards it threads to, else the
    one to the team whose address sent it; None when it is no team's answer."""
    handoffs = list(session.scalars(select(Handoff).where(Handoff.incident_id == incident.id)))
    ids = set(message_ids)
    for handoff in handoffs:
        if handoff.message_id in ids:
            return handoff
    for handoff in handoffs:
        if handoff.address.lower() == sender.lower():
            return handoff
    return None


AUTOMATIC_REPLY_PURPOSES = ("ack", "followup")
_COUNT_AUTO_REPLIES = text(
    "SELECT count(*) FROM (SELECT 1 FROM outbox WHERE recipients = :address "
    f"AND created_at >= :since AND purpose IN {AUTOMATIC_REPLY_PURPOSES!r} LIMIT :cap) "
    "AS recent"
).bindparams(bindparam("since", type_=UTCDateTime()))


def count_auto_replies(session: Session, address: str, since: datetime, cap: int) -> int:
    """Automatic replies queued to one address since an instant, counted up to ``cap``
    (the loop guard only asks whether the limit is reached): those in the database and those
    among the session's rows not flushed yet, each once whenever the session flushes.

    Plain SQL answered from the (recipients, created_at, purpose) index alone: it runs for
    every mail."""
    pending = sum(
        1
        for row in session.new
        if isinstance(row, OutboxItem)
        and row.recipients == address
        and row.purpose in AUTOMATIC_REPLY_PURPOSES
        and row.created_at >= since
    )
    with session.no_autoflush:
        stored = session.execute(
            _COUNT_AUTO_REPLIES, {"address": address, "since": since, "cap": cap}
        ).scalar()
    return min((stored or 0) + pending, cap)


def confirm_sent(session: Session, message_id: str, now: datetime) -> bool:
    """Our copy of one reply came back (see ``confirm_sent_many``); whether its row exists."""
    return bool(confirm_sent_many(session, [message_id], now))


def confirm_sent_many(session: Session, message_ids: Sequence[str], now: datetime) -> set[str]:
    """Our copies of these replies came back: they were accepted by the SMTP server,
    whatever we recorded.

    A row still ``sending`` (a crash after the server's acceptance) becomes ``sent``; a row
    already ``sent`` only gets its confirmation time. Idempotent (a copy may be read twice).
    Returns the Message-IDs that have a row. Two statements for any number of copies, no ORM
    objects: it runs for every reply that leaves.
    """
    if not message_ids:
        return set()
    outbox = cast(Table, OutboxItem.__table__)
    rows = session.execute(
        update(outbox)
        .where(outbox.c.message_id.in_(list(message_ids)))
        .values(
            confirmed_at=func.coalesce(outbox.c.confirmed_at, now),
            sent_at=case(
                (outbox.c.status.in_(("sending", "queued")), func.coalesce(outbox.c.sent_at, now)),
                else_=outbox.c.sent_at,
            ),
            status=case(
                (outbox.c.status.in_(("sending", "queued")), "sent"), else_=outbox.c.status
            ),
        )
        .returning(outbox.c.message_id, outbox.c.incident_id, outbox.c.purpose)
    ).all()
    acknowledged = [r.incident_id for r in rows if r.purpose == "ack" and r.incident_id]
    if acknowledged:
        incidents = cast(Table, Incident.__table__)
        session.execute(
            update(incidents)
            .where(incidents.c.id.in_(acknowledged), incidents.c.acknowledged_at.is_(None))
            .values(acknowledged_at=now)
        )
    return {r.message_id for r in rows}


def get_checkpoint(session: Session, mailbox: str) -> Checkpoint | None:
    return session.get(Checkpoint, mailbox)


def save_checkpoint(
    session: Session, mailbox: str, uidvalidity: int, uid: int, now: datetime
) -> None:
    """Advance (never rewind) the checkpoint of a mailbox under the given UIDVALIDITY.

    One atomic upsert: concurrent workers cannot overwrite a newer value with an older one.
    """
    table = cast(Table, Checkpoint.__table__)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(
        mailbox=mailbox, uidvalidity=uidvalidity, last_uid=uid, updated_at=now
    )
    new = statement.excluded
    same = table.c.uidvalidity == new.uidvalidity
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.mailbox],
        set_={
            "last_uid": case(
                (same & (table.c.last_uid > new.last_uid), table.c.last_uid),
                else_=new.last_uid,
            ),
            "uidvalidity": new.uidvalidity,
            "updated_at": new.updated_at,
        },
    )
    session.execute(statement)


def incidents_query(
    status: str | None = None, search: str | None = None, unsure: bool = False
) -> Any:
    query = select(Incident).order_by(Incident.id.desc())
    if unsure:
        query = query.where(Incident.unsure.is_(True))
    if status:
        query = query.where(Incident.status == status)
    if search:
        like = f"%{search}%"
        query = query.where(or_(Incident.subject.ilike(like), Incident.client_address.ilike(like)))
    return query


def apply_change(
    database: Database,
    config: Any,
    calendar: Any,
    reference: str,
    *,
    now: datetime,
    actor: str,
    status: str | None = None,
    priority: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    note: str = "",
) -> list[str]:
    """Change one incident in one transaction; returns what changed (its history lines)."""
    from maildesk.db.lifecycle import change_status, change_triage
    from maildesk.db.tables import IncidentEvent

    with database.session() as session:
        incident = session.scalars(
            select(Incident).where(Incident.reference == reference.upper())
        ).first()
        if incident is None:
            raise LookupError(f"no incident {reference}")
        before = len(incident.events)
        change_triage(
            session,
            incident,
            config,
            calendar,
            now=now,
            actor=actor,
            kind=kind,
            priority=priority,
            category=category,
            note=note,
        )
        if status is not None:
            change_status(
                session, incident, status, now=now, calendar=calendar, actor=actor, note=note
            )
        session.flush()
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        ).all()
        return [e.detail for e in events[before:]]


def failing_now(session: Session, now: datetime) -> dict[str, tuple[str, datetime]]:
    """Every address failing at ``now``: address → (source, until). Read once per batch
    (the list is short), so that the check per reply costs a dictionary lookup."""
    table = cast(Table, FailingAddress.__table__)
    rows = session.connection().execute(
        select(table.c.address, table.c.source, table.c.until).where(table.c.until > now)
    )
    return {row.address: (row.source, aware_utc(row.until)) for row in rows}


def mark_failing(
    session: Session,
    address: str,
    source: str,
    detail: str,
    incident: Incident | None,
    now: datetime,
    until: datetime,
) -> FailingAddress:
    """Record that mail to ``address`` fails (a bounce, a permanent refusal): created, or
    its count, detail and end pushed on."""
    address = address.lower()[:320]
    session.flush()  # a row added earlier in this batch is found, not added twice
    row = session.get(FailingAddress, address)
    if row is None:
        row = FailingAddress(
            address=address,
            source=source,
            detail=detail[:2000],
            incident_id=incident.id if incident is not None else None,
            first_failed_at=now,
            last_failed_at=now,
            failures=1,
            until=until,
        )
        session.add(row)
        return row
    row.source, row.detail, row.last_failed_at = source, detail[:2000], now
    row.failures += 1
    row.until = max(aware_utc(row.until), until)
    if incident is not None:
        row.incident_id = incident.id
    return row


def outbox_row(session: Session, message_id: str) -> OutboxItem | None:
    """Our outgoing mail with this Message-ID (what a bounce returns), if we sent it."""
    return session.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).first()


def aware_utc(value: datetime) -> datetime:
    """A stored instant as aware UTC (SQLite may hand back naive UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
