"""maildesk on PostgreSQL: schema, timestamps, and several workers sharing one database.

Each test gets an empty database of its own (fixture ``pg_url``). The SMTP side is an
in-memory recorder: what is under test here is the database's concurrency, not SMTP.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import MIGRATIONS, Database, count_auto_replies, next_reference
from maildesk.db.tables import Base, Checkpoint, Incident, Message, OutboxItem, ReferenceCounter
from maildesk.inbound.pipeline import Handled, InboundMail, Outcome, Pipeline
from maildesk.outbound.outbox import OutboxSender
from maildesk.runtime.daemon import build_parts
from maildesk.testing.stackconfig import SUPPORT, write_stack_config

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
LOCK_WAIT_TIMEOUT = 10.0


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def connect() -> Iterator[Callable[[str], Database]]:
    """Open ``Database`` objects (one per simulated worker); all disposed after the test."""
    opened: list[Database] = []

    def open_database(url: str) -> Database:
        database = Database(url)
        opened.append(database)
        return database

    yield open_database
    for database in opened:
        database.dispose()


def make_config(tmp_path: Path, database_url: str, **options: object) -> Config:
    """The stack configuration on ``database_url``; the mail ports are never used here."""
    path = write_stack_config(
        tmp_path / "maildesk.toml",
        imap_port=10143,
        smtp_port=10025,
        database_url=database_url,
        **options,
    )
    return load_config(path)


class RecordingSmtp:
    """A ``SessionFactory`` whose sessions record what they would have sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def __call__(self) -> RecordingSession:
        return RecordingSession(self.sent)


class RecordingSession:
    def __init__(self, sent: list[bytes]) -> None:
        self._sent = sent

    async def send(
        self, mail_from: str, recipients: Sequence[str], raw: bytes, copy_to: str | None = None
    ) -> None:
        await asyncio.sleep(0.001)  # let the other sender's claims interleave with ours
        self._sent.append(raw)

    async def close(self) -> None:
        return None


def client_mails(count: int) -> list[InboundMail]:
    """``count`` first mails from distinct clients (so the loop guard never holds a reply)."""
    mails = []
    for number in range(1, count + 1):
        msg = EmailMessage()
        msg["From"] = f"Cliente {number} <cliente{number}@clientes.test>"
        msg["To"] = SUPPORT
        msg["Subject"] = f"Sin internet en la tienda {number}"
        msg["Message-ID"] = f"<worker-{number}@clientes.test>"
        msg["Date"] = format_datetime(NOW)
        msg.set_content(f"Buenos días,\n\nDesde esta mañana no tenemos internet ({number}).\n")
        raw = msg.as_bytes()
        mails.append(InboundMail("INBOX", 1, number, len(raw), raw))
    return mails


def schema_drift(database: Database) -> list[object]:
    """What Alembic autogenerate would change to make the database match the models."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def migration_head() -> str | None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def wait_for_lock_wait(database: Database, done: Callable[[], bool]) -> None:
    """Block until a session of this database waits for a row lock (or ``done()``)."""
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT
    with database.engine.connect() as connection:
        while not done():
            waiting = connection.execute(
                text(
                    "select count(*) from pg_stat_activity"
                    " where datname = current_database() and wait_event_type = 'Lock'"
                )
            ).scalar_one()
            connection.rollback()  # the statistics views are a snapshot per transaction
            if waiting:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"no session waited for a lock within {LOCK_WAIT_TIMEOUT}s")
            time.sleep(0.02)


# --- schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_migrations_are_idempotent_and_match_the_models(
    dialect: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    connect: Callable[[str], Database],
) -> None:
    url = (
        request.getfixturevalue("pg_url")
        if dialect == "postgresql"
        else f"sqlite:///{tmp_path / 'maildesk.db'}"
    )
    database = connect(url)
    database.migrate()
    assert current_revision(database) == migration_head()
    database.migrate()  # a restarted daemon migrates again: nothing to do, nothing fails
    assert current_revision(database) == migration_head()
    tables = set(inspect(database.engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert schema_drift(database) == []


def test_ping_names_postgresql_and_its_version(
    pg_url: str, connect: Callable[[str], Database]
) -> None:
    assert re.fullmatch(r"postgresql \d+(\.\d+)?\b.*", connect(pg_url).ping())


def test_timestamps_round_trip_as_aware_utc(
    pg_url: str, connect: Callable[[str], Database]
) -> None:
    # A session time zone far from UTC must change nothing: the columns hold UTC wall time.
    database = connect(f"{pg_url}?options=-c%20TimeZone%3DAsia/Tokyo")
    database.migrate()
    written = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Madrid"))
    with database.session() as session:
        session.add(Checkpoint(mailbox="INBOX", uidvalidity=7, last_uid=1, updated_at=written))
        session.add(
            OutboxItem(
                purpose="ack",
                message_id="<tz@maildesk.test>",
                mail_from=SUPPORT,
                recipients="cliente1@clientes.test",
                raw=b"x",
                status="sent",
                attempts=1,
                next_attempt_at=written,
                created_at=written,
                last_error="",
            )
        )
    with database.session() as session:
        assert session.execute(text("show timezone")).scalar_one() == "Asia/Tokyo"
        checkpoint = session.get(Checkpoint, "INBOX")
        assert checkpoint is not None
        assert checkpoint.updated_at == written
        assert checkpoint.updated_at.tzinfo is UTC
        stored = session.execute(text("select updated_at::text from checkpoints")).scalar_one()
        assert stored == "2026-03-29 01:30:15.123456"
        # Aware bounds in another zone compare correctly against the stored UTC.
        tokyo = written.astimezone(ZoneInfo("Asia/Tokyo"))
        one = timedelta(microseconds=1)
        assert count_auto_replies(session, "cliente1@clientes.test", tokyo - one, 5) == 1
        assert count_auto_replies(session, "cliente1@clientes.test", tokyo + one, 5) == 0


# --- several workers on one database ---------------------------------------------------------


def test_two_workers_record_each_mail_exactly_once(
    pg_url: str, tmp_path: Path, connect: Callable[[str], Database]
) -> None:
    config = make_config(tmp_path, pg_url)
    clock = FrozenClock(NOW)
    pipelines = [
        build_parts(config, clock, database=connect(pg_url), smtp_sessions=RecordingSmtp()).pipeline
        for _ in range(2)
    ]
    mails = client_mails(40)
    start = threading.Barrier(len(pipelines))

    def work(pipeline: Pipeline) -> list[Handled]:
        start.wait()
        return [pipeline.handle(mail) for mail in mails]

    with ThreadPoolExecutor(len(pipelines)) as pool:
        first, second = pool.map(work, pipelines)

    for mail, a, b in zip(mails, first, second, strict=True):
        assert {a.outcome, b.outcome} == {Outcome.NEW_INCIDENT, Outcome.DUPLICATE}, (
            f"uid {mail.uid}: {a} / {b}"
        )
    handed_out = {h.reference for h in (*first, *second) if h.outcome is Outcome.NEW_INCIDENT}
    expected = [f"MD-2026-{n:06d}" for n in range(1, 41)]
    with connect(pg_url).session() as session:
        references = session.scalars(select(Incident.reference).order_by(Incident.reference))
        assert list(references) == expected
        assert handed_out == set(expected)
        assert session.scalar(select(func.count()).select_from(Message)) == 40
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 40
        checkpoint = session.get(Checkpoint, "INBOX")
        assert checkpoint is not None
        assert checkpoint.last_uid == 40


def test_two_senders_send_each_queued_row_exactly_once(
    pg_url: str, tmp_path: Path, connect: Callable[[str], Database]
) -> None:
    config = make_config(tmp_path, pg_url)
    clock = FrozenClock(NOW)
    setup = connect(pg_url)
    setup.migrate()
    raws = [f"Message-ID: <out-{n}@maildesk.test>\r\n\r\nrow {n}\r\n".encode() for n in range(60)]
    with setup.session() as session:
        for number, raw in enumerate(raws):
            session.add(
                OutboxItem(
                    purpose="alert",
                    message_id=f"<out-{number}@maildesk.test>",
                    mail_from=SUPPORT,
                    recipients=f"cliente{number}@clientes.test",
                    raw=raw,
                    status="queued",
                    attempts=0,
                    next_attempt_at=NOW - timedelta(seconds=number),
                    created_at=NOW,
                    last_error="",
                )
            )
    # One SMTP connection each: batches of 50, so 60 rows need more than one claim.
    smtp = config.smtp.model_copy(update={"connections": 1})
    recorders = [RecordingSmtp(), RecordingSmtp()]
    senders = [OutboxSender(connect(pg_url), smtp, rec, clock) for rec in recorders]

    async def drain_both() -> list[int]:
        results = await asyncio.gather(*(sender.drain() for sender in senders))
        assert all(r.retried == 0 and r.failed == 0 for r in results), results
        return [r.sent for r in results]

    sent = asyncio.run(drain_both())

    times_sent = Counter(raw for rec in recorders for raw in rec.sent)
    assert sum(sent) == 60
    assert set(times_sent) == set(raws)
    assert [raw for raw, times in times_sent.items() if times > 1] == []
    with setup.session() as session:
        rows = session.execute(select(OutboxItem.status, OutboxItem.attempts)).all()
        assert Counter(rows) == Counter({("sent", 1): 60})


def test_reference_counter_is_consecutive_under_concurrency(
    pg_url: str, connect: Callable[[str], Database]
) -> None:
    database = connect(pg_url)
    database.migrate()
    with database.session() as session:
        session.add(ReferenceCounter(scope="MD-2026", last=0))
    start = threading.Barrier(4)

    def allocate() -> list[str]:
        start.wait()
        references = []
        for _ in range(50):
            with database.session() as session:
                references.append(next_reference(session, "MD", 2026))
        return references

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(allocate) for _ in range(4)]
        allocated = [reference for future in futures for reference in future.result()]

    assert sorted(allocated) == [f"MD-2026-{n:06d}" for n in range(1, 201)]


def test_first_reference_of_a_year_allocated_by_two_workers_at_once(
    pg_url: str, connect: Callable[[str], Database]
) -> None:
    """The year's counter row does not exist yet and two workers need it at the same time."""
    database = connect(pg_url)
    database.migrate()

    def allocate() -> str:
        with database.session() as session:
            return next_reference(session, "MD", 2027)

    with ThreadPoolExecutor(1) as pool:
        with database.session() as session:
            first = next_reference(session, "MD", 2027)  # counter row inserted, not committed
            second = pool.submit(allocate)
            wait_for_lock_wait(database, second.done)
        try:
            later = second.result(timeout=LOCK_WAIT_TIMEOUT)
        except IntegrityError as exc:
            pytest.fail(
                "store.next_reference: the loser of a race for the year's first reference "
                "gets IntegrityError (duplicate counter row), and Pipeline.handle then reports "
                "its mail as a duplicate without recording it. Fix in store.py: allocate with "
                "INSERT ... ON CONFLICT (scope) DO UPDATE SET last = reference_counters.last + 1 "
                f"RETURNING last.\n{type(exc.orig).__name__}: {exc.orig}"
            )
    assert (first, later) == ("MD-2027-000001", "MD-2027-000002")


def test_two_daemons_send_one_digest_and_one_alert_per_threshold(
    pg_url: str, tmp_path: Path, connect: Callable[[str], Database]
) -> None:
    from maildesk.db.tables import AlertSent, DigestSent
    from maildesk.outbound.render import TemplateRenderer
    from maildesk.runtime.jobs import ScheduledJobs
    from maildesk.schedule import build_calendar

    config = make_config(tmp_path, pg_url, digest=True)
    calendar = build_calendar(config.schedule)
    # Tuesday 24 November 2026, 18:01 in Madrid: digest due, and an incident created at
    # 10:00 with 8 business hours has used 75 % of them.
    at = datetime(2026, 11, 24, 17, 1, tzinfo=UTC)
    created = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    parts = build_parts(
        config, FrozenClock(created), database=connect(pg_url), smtp_sessions=RecordingSmtp()
    )
    pipeline = parts.pipeline
    [mail] = client_mails(1)
    assert pipeline.handle(mail).outcome is Outcome.NEW_INCIDENT
    with connect(pg_url).session() as session:
        incident = session.scalars(select(Incident)).one()
        incident.resolution_due = calendar.add(incident.created_at, timedelta(hours=8))
    daemons = [
        ScheduledJobs(
            config,
            connect(pg_url),
            calendar,
            TemplateRenderer(config.templates_dir, timezone=config.schedule.timezone),
            FrozenClock(at),
        )
        for _ in range(3)
    ]
    start = threading.Barrier(len(daemons))

    def work(jobs: ScheduledJobs) -> tuple[int, int]:
        start.wait()
        return len(jobs.digest()), len(jobs.escalations())

    with ThreadPoolExecutor(len(daemons)) as pool:
        results = list(pool.map(work, daemons))
    assert sum(d for d, _ in results) == 1
    assert sum(a for _, a in results) == 1
    with connect(pg_url).session() as session:
        assert session.scalar(select(func.count()).select_from(DigestSent)) == 1
        assert session.scalar(select(func.count()).select_from(AlertSent)) == 1
        purposes = sorted(session.scalars(select(OutboxItem.purpose)))
        assert purposes == ["ack", "alert", "alert", "digest"]  # one alert mail a person
