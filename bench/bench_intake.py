"""How fast maildesk turns client mail into acknowledgements, on the real local mail stack.

Starts a private Dovecot + Postfix (``MailStack``) on its own ports, then measures:

a. a bare aiosmtplib loop into Postfix (1 and 4 connections): the reference ceiling;
b. a bare imapclient fetch of the support backlog (``BODY.PEEK[]``, batches of 200);
c. ``Daemon.run_once()`` over a backlog of client mails on a fresh SQLite database, until
   every acknowledgement is accepted by SMTP (intake and sending split with the database
   timestamps) and the delivery copies filed into support's Sent folder; and ``Daemon.run()``
   started on the same kind of backlog (intake and sending overlap);
e. the real daemon (``maildesk run``) started on a backlog: start to ready, and the peak
   memory of all its processes together;
d. the latency of the real daemon (``maildesk run`` as a subprocess, IMAP IDLE) from a
   client's SMTP submission until the acknowledgement is visible in the client's INBOX,
   next to one bare SMTP → LMTP → mailbox hop.

Run: ``python bench/bench_intake.py [--mails 2000] [--latency-mails 50] [--profile]``.
Everything it starts is stopped at the end; the figures are printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import io
import logging
import os
import platform
import pstats
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TextIO

import aiosmtplib
from imapclient import IMAPClient
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cpu_split import CpuSnapshot, CpuSplit
from maildesk.clock import SystemClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, Message, OutboxItem
from maildesk.runtime.daemon import Daemon, OnceSummary, build_parts
from maildesk.runtime.logs import setup_logging
from maildesk.testing.mailstack import (
    DEFAULT_USERS,
    MailStack,
    make_stack_directory,
    remove_stack_directory,
)
from maildesk.testing.stackconfig import BILLING, SUPPORT, TECHNICAL, stack_config_text
from maildesk.testing.support import daemon_running

REPO = Path(__file__).resolve().parents[1]
DEMO_MAILS = REPO / "demo" / "mails"
# The auto-reply (ignored by the loop guard) and the follow-up (joins incident 1) would not
# each open an incident with one acknowledgement, so the backlog leaves them out.
NOT_NEW_INCIDENTS = frozenset({"11-fuera-de-la-oficina.eml", "14-re-sigue-sin-internet.eml"})
CLIENTS: tuple[str, ...] = tuple(  # the stack's client mailboxes that write like people
    user
    for user in DEFAULT_USERS
    if user.endswith("@clientes.test") and user.split("@")[0] not in ("autoreply", "mailer-daemon")
)
TEAMS = (TECHNICAL, BILLING)  # where the forwards go with --handoff
SINK = "bench.sink@clientes.test"  # receives the bare SMTP loop
HOP = "bench.hop@clientes.test"  # receives the bare SMTP → LMTP → mailbox hop
LATENCY_CLIENT = "cliente1@clientes.test"
IMAP_BATCH = 200
BACKLOG_TARGET = 150.0  # mails/s
LATENCY_P50_TARGET = 1.5  # seconds
# One client may get this many automatic replies a day (loop guard); the backlog and the
# latency run send far more per client, so the benchmark configuration lifts the limit.
BENCH_MAX_AUTO_REPLIES = 1_000_000


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """One printed line: what was measured, its value and, when there is one, the target."""

    name: str
    value: str
    note: str = ""
    target: str = ""
    passed: bool | None = None


@dataclass(slots=True)
class Report:
    figures: list[Figure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    backlog_rates: dict[str, list[float]] = field(default_factory=dict)  # by run kind

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(f"  {figure.name}: {figure.value}  {figure.note}".rstrip(), flush=True)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} mails/s" if seconds > 0 else "n/a"


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


@dataclass(frozen=True, slots=True)
class Bench:
    """What every benchmark needs: the running stack, where to write, this run's options."""

    stack: MailStack
    report: Report
    work: Path  # configurations, databases, daemon logs, the profile
    tag: str  # makes this run's Message-IDs unique
    copies: bool  # smtp.copy_to_support, on in config.example.toml
    copies_in_inbox: bool = False  # copies to the support address, not support+Sent@
    separate: bool = False  # smtp.separate_process, off in config.example.toml
    handoff: bool = False  # routing.forward: each sorted incident also forwarded to its team

    @property
    def copies_read_back(self) -> bool:
        """Copies that land in the INBOX are read by intake; those in Sent are not."""
        return self.copies and self.copies_in_inbox

    def config(self, name: str) -> Config:
        """The stack configuration on a fresh SQLite file, loop-guard limit lifted."""
        database = self.work / f"{name}.db"
        for stale in self.work.glob(f"{name}.db*"):
            stale.unlink()
        text = stack_config_text(
            imap_port=self.stack.imap_port,
            smtp_port=self.stack.smtp_port,
            database_url=f"sqlite:///{database}",
            copy_to_support=self.copies,
            copies_in_inbox=self.copies_in_inbox,
            separate_process=self.separate,
            handoff=self.handoff,
        )
        text, count = re.subn(
            r"^max_auto_replies_per_sender\s*=.*$",
            f"max_auto_replies_per_sender = {BENCH_MAX_AUTO_REPLIES}",
            text,
            flags=re.M,
        )
        if count != 1:
            raise RuntimeError("max_auto_replies_per_sender not found in the stack configuration")
        path = self.work / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path)


# --- mails -----------------------------------------------------------------------------------


def _header_fields(head: bytes) -> list[bytes]:
    """The header block as logical fields, each with its folded continuation lines."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def rewrite(raw: bytes, *, message_id: str, sender: str, subject_suffix: str) -> bytes:
    """A copy of a demo mail with its own Message-ID, sender address and subject.

    Works on the bytes so that charsets, encodings and folding stay as the client sent them.
    """
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("demo mail without CRLF header/body separator")
    out: list[bytes] = []
    for item in _header_fields(head):
        name = item.split(b":", 1)[0].strip().lower()
        if name == b"message-id":
            item = f"Message-ID: <{message_id}>".encode()
        elif name == b"from":
            item, count = re.subn(rb"<[^<>]*>", f"<{sender}>".encode(), item)
            if count != 1:
                item = f"From: {sender}".encode()
        elif name == b"subject":
            item += f" {subject_suffix}".encode()
        elif name in (b"reply-to", b"return-path"):
            continue
        out.append(item)
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def demo_templates() -> list[bytes]:
    paths = sorted(p for p in DEMO_MAILS.glob("*.eml") if p.name not in NOT_NEW_INCIDENTS)
    if not paths:
        raise RuntimeError(f"no demo mails in {DEMO_MAILS}")
    return [p.read_bytes() for p in paths]


def client_mails(
    count: int, tag: str, senders: Sequence[str] = CLIENTS
) -> list[tuple[str, str, bytes]]:
    """``count`` realistic client mails as (sender, Message-ID, raw), bodies from demo/mails."""
    templates = demo_templates()
    mails: list[tuple[str, str, bytes]] = []
    for i in range(count):
        sender = senders[i % len(senders)]
        message_id = f"bench.{tag}.{i:06d}@clientes.test"
        raw = rewrite(
            templates[i % len(templates)],
            message_id=message_id,
            sender=sender,
            subject_suffix=f"(#{tag}-{i})",
        )
        mails.append((sender, message_id, raw))
    return mails


def small_mail(i: int, sender: str, to: str, tag: str) -> bytes:
    return (
        f"From: Bench <{sender}>\r\n"
        f"To: {to}\r\n"
        f"Subject: bench {tag} {i}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <small.{tag}.{i:06d}@clientes.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Buenos días, esto es una prueba de rendimiento.\r\n".encode()
    )


# --- mailbox observation -----------------------------------------------------------------------


class MailboxWatch:
    """A persistent read-only IMAP session on one INBOX that tells how many messages it holds.

    ``wait_for()`` polls with NOOP (Dovecot syncs the mailbox on NOOP, so the observer adds no
    notification delay); ``idling()`` waits with IDLE instead, as the daemon does.
    """

    def __init__(self, stack: MailStack, user: str) -> None:
        self.user = user
        self._client: IMAPClient = stack.imap_client(user)
        info = self._client.select_folder("INBOX", readonly=True)
        self._exists = int(info[b"EXISTS"])

    def _absorb(self, responses: Sequence[Any]) -> None:
        for response in responses:
            if isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS":
                self._exists = int(response[0])

    def count(self) -> int:
        _, responses = self._client.noop()
        self._absorb(responses)
        return self._exists

    def wait_for(self, count: int, timeout: float, interval: float = 0.005) -> float:
        """Poll until the INBOX holds ``count`` messages; return ``time.perf_counter()``."""
        deadline = time.perf_counter() + timeout
        while True:
            if self.count() >= count:
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.user}: {self._exists} messages, waited for {count}")
            time.sleep(interval)

    @contextlib.contextmanager
    def idling(self) -> Iterator[Callable[[int, float], float]]:
        """Inside: IDLE is active; the yielded function waits for ``count`` like wait_for."""
        self._client.idle()

        def wait(count: int, timeout: float) -> float:
            deadline = time.perf_counter() + timeout
            while self._exists < count:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(f"{self.user}: {self._exists} messages, waited for {count}")
                self._absorb(self._client.idle_check(timeout=min(left, 1.0)))
            return time.perf_counter()

        try:
            yield wait
        finally:
            self._absorb(self._client.idle_done()[1])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.logout()


def wait_total(
    stack: MailStack, users: Sequence[str], total: int, timeout: float, folder: str = "INBOX"
) -> float:
    """Poll STATUS until the users' folders hold ``total`` messages; return perf_counter()."""
    deadline = time.perf_counter() + timeout
    clients = [stack.imap_client(user) for user in users]
    try:
        while True:
            seen = sum(int(c.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]) for c in clients)
            if seen >= total:
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{seen} of {total} messages delivered after {timeout:.0f}s")
            time.sleep(0.05)
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                c.logout()


# --- a. bare SMTP --------------------------------------------------------------------------------


async def _submit(stack: MailStack, mails: Sequence[bytes], to: str, connections: int) -> float:
    """Submit ``mails`` over ``connections`` parallel sessions; seconds until all accepted."""

    async def one(chunk: Sequence[bytes]) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=stack.smtp_host, port=stack.smtp_port, timeout=30, start_tls=False
        )
        await smtp.connect()
        for raw in chunk:
            await smtp.sendmail(SINK, [to], raw)
        return smtp

    chunks = [mails[i::connections] for i in range(connections)]
    start = time.perf_counter()
    sessions = await asyncio.gather(*(one(chunk) for chunk in chunks))
    elapsed = time.perf_counter() - start
    for smtp in sessions:
        await smtp.quit()
    return elapsed


def bench_smtp(bench: Bench, count: int) -> None:
    section(f"a. bare SMTP loop: {count} small mails into Postfix (aiosmtplib)")
    for connections in (1, 4):
        bench.stack.empty(SINK, folders=("INBOX",))
        mails = [small_mail(i, SINK, SINK, f"{bench.tag}c{connections}") for i in range(count)]
        start = time.perf_counter()
        accepted = asyncio.run(_submit(bench.stack, mails, SINK, connections))
        delivered = wait_total(bench.stack, [SINK], count, timeout=300) - start
        bench.report.add(
            Figure(
                f"a. bare SMTP, {connections} connection{'s' if connections > 1 else ''}",
                rate(count, accepted),
                f"accepted: {count} in {accepted:.2f} s; all in the mailbox (LMTP) after "
                f"{delivered:.2f} s = {rate(count, delivered)}",
                "reference",
            )
        )


# --- backlog (appended), b. bare IMAP fetch ------------------------------------------------------


def prepare_backlog(bench: Bench, count: int, tag: str) -> float:
    """Empty support and the clients, then MULTIAPPEND ``count`` fresh client mails."""
    for user in (SUPPORT, *CLIENTS, *TEAMS):
        bench.stack.empty(user)
    mails = client_mails(count, tag)
    client = bench.stack.imap_client(SUPPORT)
    try:
        start = time.perf_counter()
        for i in range(0, len(mails), 100):
            client.multiappend("INBOX", [raw for _, _, raw in mails[i : i + 100]])
        return time.perf_counter() - start
    finally:
        client.logout()


def bench_imap_fetch(bench: Bench, expected: int) -> None:
    section(f"b. bare IMAP fetch of the backlog (BODY.PEEK[], batches of {IMAP_BATCH})")
    client = bench.stack.imap_client(SUPPORT)
    try:
        start = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        size = 0
        for i in range(0, len(uids), IMAP_BATCH):
            fetched = client.fetch(uids[i : i + IMAP_BATCH], ["BODY.PEEK[]"])
            size += sum(len(data[b"BODY[]"]) for data in fetched.values())
        elapsed = time.perf_counter() - start
    finally:
        client.logout()
    if len(uids) != expected:
        raise RuntimeError(f"support INBOX holds {len(uids)} mails, expected {expected}")
    bench.report.add(
        Figure(
            "b. bare IMAP fetch",
            rate(len(uids), elapsed),
            f"{len(uids)} mails, {size / 1e6:.1f} MB in {elapsed:.2f} s",
            "reference",
        )
    )


# --- c. backlog through the daemon ---------------------------------------------------------------


class ThreadProfiler:
    """cProfile for this thread and every thread started while active (``to_thread`` workers).

    cProfile only sees the thread that enabled it; intake runs in an executor thread, so
    ``Thread.run`` is wrapped for the duration and the per-thread profiles are merged.
    """

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._original = threading.Thread.run

    def __enter__(self) -> ThreadProfiler:
        profiles, original = self._profiles, self._original

        def run(thread: threading.Thread) -> None:
            profile = cProfile.Profile()
            profiles.append(profile)
            profile.enable()
            try:
                original(thread)
            finally:
                profile.disable()

        main = cProfile.Profile()
        profiles.append(main)
        threading.Thread.run = run  # type: ignore[method-assign]
        main.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        # Worker threads disable their own profile when they end (asyncio.run joins them).
        self._profiles[0].disable()
        threading.Thread.run = self._original  # type: ignore[method-assign]

    def stats(self, stream: TextIO) -> pstats.Stats:
        stats = pstats.Stats(self._profiles[0], stream=stream)
        for profile in self._profiles[1:]:
            stats.add(profile)
        return stats


@dataclass(frozen=True, slots=True)
class BacklogDb:
    """What the database says about a backlog run (timestamps come from the daemon's clock)."""

    incidents: int
    sent: int  # every outbox row sent: acknowledgements and, with hand-off, forwards
    acks: int  # acknowledgements sent
    forwards: int  # forwards to the teams sent
    unsent: int  # outbox rows not (yet) sent
    copies: int  # our own delivery copies read back (disposition "ignored")
    first_handled: datetime  # client mails only
    last_handled: datetime
    first_claim: datetime
    last_sent: datetime
    last_copy: datetime | None


def _count(session: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def read_backlog_db(config: Config) -> BacklogDb:
    database = Database(config.database.url)
    try:
        with database.session() as session:
            incidents = _count(session, Incident)
            sent = _count(session, OutboxItem, OutboxItem.status == "sent")
            acks = _count(
                session, OutboxItem, OutboxItem.status == "sent", OutboxItem.purpose == "ack"
            )
            forwards = _count(
                session, OutboxItem, OutboxItem.status == "sent", OutboxItem.purpose == "handoff"
            )
            unsent = _count(session, OutboxItem, OutboxItem.status != "sent")
            # A delivery copy read back leaves no message row: it confirms its outbox row.
            copies = _count(session, OutboxItem, OutboxItem.confirmed_at.is_not(None))
            first_handled, last_handled = session.execute(
                select(func.min(Message.received_at), func.max(Message.received_at)).where(
                    Message.disposition != "ignored"
                )
            ).one()
            last_copy = session.scalar(select(func.max(OutboxItem.confirmed_at)))
            first_claim, last_sent = session.execute(
                select(func.min(OutboxItem.claimed_at), func.max(OutboxItem.sent_at))
            ).one()
    finally:
        database.dispose()
    return BacklogDb(
        incidents,
        sent,
        acks,
        forwards,
        unsent,
        copies,
        _utc(first_handled),
        _utc(last_handled),
        _utc(first_claim),
        _utc(last_sent),
        _utc(last_copy) if last_copy is not None else None,
    )


def _utc(value: datetime | str | None) -> datetime:
    """Aggregates bypass the column type: SQLite hands back naive UTC strings."""
    if value is None:
        raise RuntimeError("no rows to time")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BacklogRun:
    seconds: float  # start → every acknowledgement accepted by SMTP (the last sent_at)
    cpu_seconds: float  # this process, all threads
    started: datetime
    db: BacklogDb
    copies_seen: int = 0  # delivery copies confirmed within the same run
    returned_seconds: float = 0.0  # start → the call returned (run_once: copies read too)
    cpu_before: CpuSnapshot | None = None  # at the start, for the CPU split per process


def _with_daemon(
    config: Config, log_path: Path, stack_directory: Path, body: Callable[[Daemon], None]
) -> BacklogRun:
    """Build the daemon (logging to a file, as in production) and time ``body(daemon)``."""
    with log_path.open("a", encoding="utf-8") as log_stream:
        setup_logging(config.logging.level, config.logging.format, stream=log_stream)
        parts = build_parts(config, SystemClock())
        try:
            cpu_before = CpuSnapshot.take(stack_directory)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            started = datetime.now(UTC)
            start = time.perf_counter()
            body(Daemon(parts))
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF)
        finally:
            parts.database.dispose()
            logging.getLogger("maildesk").handlers.clear()
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    db = read_backlog_db(config)
    return BacklogRun(
        (db.last_sent - started).total_seconds(),
        cpu,
        started,
        db,
        returned_seconds=seconds,
        cpu_before=cpu_before,
    )


def backlog_run_once(
    config: Config,
    log_path: Path,
    stack_directory: Path,
    expected: dict[str, int],
    profiler: ThreadProfiler | None = None,
) -> BacklogRun:
    """``Daemon.run_once()``: intake of what waits in the INBOX, then the outbox drain."""
    summaries: list[OnceSummary] = []

    def body(daemon: Daemon) -> None:
        with profiler or contextlib.nullcontext():
            summaries.append(asyncio.run(daemon.run_once()))

    run = _with_daemon(config, log_path, stack_directory, body)
    [summary] = summaries
    # Delivery copies may already come back (and be confirmed) within the same run, since
    # sending starts while intake runs: they show up as "ignored" besides what is expected.
    extra = {k: v for k, v in summary.outcomes.items() if k not in expected}
    if any(summary.outcomes.get(k, 0) != v for k, v in expected.items() if k != "ignored") or (
        set(extra) - {"ignored"}
    ):
        raise RuntimeError(f"run_once: outcomes {summary.outcomes}, expected {expected}")
    return dataclasses.replace(run, copies_seen=summary.outcomes.get("ignored", 0))


def backlog_run_forever(
    config: Config, log_path: Path, stack_directory: Path, count: int, read_back: bool
) -> BacklogRun:
    """``Daemon.run()`` started on the backlog; stopped once every mail has its incident and
    every outbox row (acks, and forwards with hand-off) is sent (and, with copies in the
    INBOX, read back).

    Intake and sending overlap here (the intake wakes the sender after each commit). The
    time is taken from the database: start → the last ``sent_at``.
    """

    def body(daemon: Daemon) -> None:
        database = Database(config.database.url)
        stopped = threading.Event()
        try:
            with daemon_running(daemon, stopped):
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline and not stopped.is_set():
                    with database.session() as session:
                        incidents = _count(session, Incident)
                        sent = _count(session, OutboxItem, OutboxItem.status == "sent")
                        unsent = _count(session, OutboxItem, OutboxItem.status != "sent")
                        confirmed = _count(
                            session, OutboxItem, OutboxItem.confirmed_at.is_not(None)
                        )
                    # Forwards are queued in the incident's transaction: with every incident
                    # made and nothing left unsent, they have all gone too.
                    done = incidents == count and sent >= count and not unsent
                    if done and (confirmed == sent or not read_back):
                        break
                    # The figure comes from the daemon's own timestamps, not from this
                    # loop: it looks rarely, to take little CPU (and GIL) from intake.
                    time.sleep(0.25)
        finally:
            database.dispose()

    return _with_daemon(config, log_path, stack_directory, body)


def check_backlog(run: BacklogRun, count: int, log_path: Path, handoff: bool) -> None:
    db = run.db
    if db.incidents != count or db.acks != count or db.unsent:
        raise RuntimeError(
            f"backlog incomplete: {db.incidents} incidents, {db.acks} acknowledgements sent, "
            f"{db.unsent} outbox rows unsent; expected {count}, {count} and 0; see {log_path}"
        )
    if handoff != bool(db.forwards):
        raise RuntimeError(
            f"{db.forwards} forwards sent with hand-off {'on' if handoff else 'off'}; "
            f"see {log_path}"
        )


def report_backlog(bench: Bench, label: str, run: BacklogRun, count: int) -> None:
    db = run.db
    done = time.perf_counter()
    delivered = wait_total(bench.stack, CLIENTS, count, timeout=600) - done
    forwarded = wait_total(bench.stack, TEAMS, db.forwards, timeout=600) - done
    intake = (db.last_handled - run.started).total_seconds()
    pipeline = (db.last_handled - db.first_handled).total_seconds()
    sending = (db.last_sent - db.first_claim).total_seconds()
    bench.report.backlog_rates.setdefault(label, []).append(count / run.seconds)
    bench.report.add(
        Figure(
            f"c. backlog {label}, end to end",
            rate(count, run.seconds),
            f"{count} incidents + {count} acks "
            + (f"+ {db.forwards} forwards " if db.forwards else "")
            + f"accepted by SMTP in {run.seconds:.2f} s; "
            f"returned after {run.returned_seconds:.2f} s; intake process CPU "
            f"{run.cpu_seconds:.1f} s ({100 * run.cpu_seconds / run.returned_seconds:.0f}% "
            "of one core)",
            f">= {BACKLOG_TARGET:.0f} mails/s",
            count / run.seconds >= BACKLOG_TARGET,
        )
    )
    copies = ""
    if db.copies and db.last_copy is not None:
        copies = (
            f"; also read back {db.copies} delivery copies, the last "
            f"{(db.last_copy - run.started).total_seconds():.2f} s after start"
        )
    bench.report.add(
        Figure(
            "   intake (start → last client mail handled)",
            rate(count, intake),
            f"{intake:.2f} s; pipeline alone (first → last client mail) {pipeline:.2f} s = "
            f"{1000 * pipeline / max(count - 1, 1):.2f} ms/mail{copies}",
        )
    )
    bench.report.add(
        Figure(
            "   sending (first claim → last accepted)",
            rate(db.sent, sending),
            f"{db.sent} mails in {sending:.2f} s; first claim "
            f"{(db.first_claim - run.started).total_seconds():.2f} s after start",
        )
    )
    bench.report.add(
        Figure(
            "   acks in client mailboxes",
            f"+{delivered:.2f} s",
            "more, after the run returned, until all are in the clients' INBOXes",
        )
    )
    if db.forwards:
        bench.report.add(
            Figure(
                "   forwards in the teams' mailboxes",
                f"+{max(forwarded, 0.0):.2f} s",
                f"{db.forwards} of {count} incidents handed off (the rest unsure or other); "
                "all there this long after the run returned",
            )
        )
    if bench.copies and not bench.copies_in_inbox:
        filed = wait_total(bench.stack, [SUPPORT], db.sent, timeout=600, folder="Sent") - done
        bench.report.add(
            Figure(
                "   delivery copies in support's Sent",
                f"{db.sent}",
                f"all there {max(filed, 0.0):.2f} s after the run returned (never read: "
                "searched only for a send a crash interrupted)",
            )
        )
    if run.cpu_before is not None:  # every ack and copy delivered: the stack's work is done
        split = CpuSplit.between(run.cpu_before, CpuSnapshot.take(bench.stack.directory))
        value, detail = split.describe(count, os.cpu_count() or 1)
        bench.report.add(Figure("   CPU per mail, all processes", value, detail))


def bench_backlog(bench: Bench, count: int, profile_top: int) -> None:
    section(f"backlog: APPEND {count} client mails to {SUPPORT} INBOX")
    appended = prepare_backlog(bench, count, f"{bench.tag}o")
    bench.report.add(
        Figure("   backlog APPEND (setup)", rate(count, appended), f"{appended:.2f} s")
    )

    bench_imap_fetch(bench, count)

    section(f"c. backlog: Daemon.run_once() over {count} mails, fresh SQLite")
    config = bench.config("backlog")
    log_path = bench.work / "backlog.log"
    log_path.unlink(missing_ok=True)
    run = backlog_run_once(config, log_path, bench.stack.directory, {"new_incident": count})
    check_backlog(run, count, log_path, bench.handoff)
    report_backlog(bench, "run_once()", run, count)
    if bench.copies_read_back:
        # The copies arrive while run_once drains the outbox; the next round reads them.
        left = run.db.sent - run.copies_seen
        bench.report.add(
            Figure(
                "   delivery copies read in the same run",
                f"{run.copies_seen}",
                f"of {run.db.sent}; the rest ({left}) by the next run",
            )
        )
        if left:
            wait_total(bench.stack, [SUPPORT], left, timeout=600)
            copies = backlog_run_once(config, log_path, bench.stack.directory, {"ignored": left})
            bench.report.add(
                Figure(
                    "   + next run_once() reading the rest",
                    rate(left, copies.returned_seconds),
                    f"{left} delivery copies confirmed in {copies.returned_seconds:.2f} s",
                )
            )

    section(f"c2. backlog: Daemon.run() started on {count} waiting mails, fresh SQLite")
    prepare_backlog(bench, count, f"{bench.tag}r")
    config = bench.config("backlog-run")
    log_path = bench.work / "backlog-run.log"
    log_path.unlink(missing_ok=True)
    run = backlog_run_forever(
        config, log_path, bench.stack.directory, count, bench.copies_read_back
    )
    check_backlog(run, count, log_path, bench.handoff)
    report_backlog(bench, "run() (overlapped)", run, count)

    if profile_top > 0:
        bench_profile(bench, count, profile_top)


def bench_backlog_repeated(bench: Bench, count: int, repeat: int, profile_top: int) -> None:
    """``repeat`` backlog benchmarks, then each kind's median: one run moves by 10-20 %."""
    for round_number in range(1, repeat + 1):
        if repeat > 1:
            section(f"backlog round {round_number} of {repeat}")
        bench_backlog(bench, count, profile_top if round_number == repeat else 0)
    if repeat == 1:
        return
    for label, rates in bench.report.backlog_rates.items():
        if len(rates) < 2:
            continue
        median = percentile(rates, 50)
        bench.report.add(
            Figure(
                f"c. backlog {label}, median of {len(rates)}",
                f"{median:,.0f} mails/s",
                f"{min(rates):,.0f}–{max(rates):,.0f}; runs: "
                + ", ".join(f"{r:,.0f}" for r in rates),
                f">= {BACKLOG_TARGET:.0f} mails/s",
                median >= BACKLOG_TARGET,
            )
        )


def bench_profile(bench: Bench, count: int, top: int) -> None:
    section(f"c'. profiled run_once() backlog (cProfile, all threads, {count} new mails)")
    prepare_backlog(bench, count, f"{bench.tag}p")
    config = bench.config("backlog-profiled")
    log_path = bench.work / "backlog-profiled.log"
    log_path.unlink(missing_ok=True)
    profiler = ThreadProfiler()
    run = backlog_run_once(
        config, log_path, bench.stack.directory, {"new_incident": count}, profiler
    )
    check_backlog(run, count, log_path, bench.handoff)
    wait_total(bench.stack, CLIENTS, count, timeout=600)
    out = io.StringIO()
    stats = profiler.stats(out)
    dump = bench.work / "backlog.pstats"
    stats.dump_stats(dump)
    # Own time includes idle waits (epoll in the event loop, queue.get in idle workers).
    print("-- own time, all threads --", file=out)
    stats.sort_stats("tottime").print_stats(top)
    print("-- cumulative time, maildesk functions --", file=out)
    stats.sort_stats("cumulative").print_stats(r"maildesk/", top)
    print("-- cumulative time, library functions --", file=out)
    stats.sort_stats("cumulative").print_stats(
        r"(sqlalchemy|email|py3langid|jinja2|babel|sklearn|inscriptis|imapclient)/", top
    )
    print(re.sub(r"/[^\s:]*/(site-packages|lib/python3\.\d+|src)/", "", out.getvalue()))
    bench.report.add(
        Figure(
            "   profiled run_once() (profile only)",
            rate(count, run.seconds),
            f"{run.seconds:.2f} s under cProfile; stats in {dump}",
        )
    )


# --- d. latency with IDLE ------------------------------------------------------------------------


def bench_hop(bench: Bench, count: int) -> None:
    section(f"d'. bare hop: SMTP submit → LMTP → visible in a mailbox, {count} mails")
    bench.stack.empty(HOP, folders=("INBOX",))
    for mode in ("poll", "idle"):
        watch = MailboxWatch(bench.stack, HOP)
        delays: list[float] = []
        try:
            for i in range(count):
                raw = small_mail(i, SINK, HOP, f"{bench.tag}{mode}")
                expected = watch.count() + 1
                if mode == "poll":
                    start = time.perf_counter()
                    bench.stack.deliver(raw, to=HOP, mail_from=SINK)
                    seen = watch.wait_for(expected, timeout=30)
                else:
                    with watch.idling() as wait:
                        start = time.perf_counter()
                        bench.stack.deliver(raw, to=HOP, mail_from=SINK)
                        seen = wait(expected, 30)
                delays.append(seen - start)
                time.sleep(0.05)
        finally:
            watch.close()
        observer = (
            "observer polls NOOP every 5 ms"
            if mode == "poll"
            else "observer waits in IMAP IDLE, as the daemon does"
        )
        bench.report.add(
            Figure(
                f"d'. bare hop ({mode})",
                f"p50 {percentile(delays, 50):.3f} s",
                f"p90 {percentile(delays, 90):.3f} s, max {max(delays):.3f} s; {observer}",
                "reference",
            )
        )


@dataclass(frozen=True, slots=True)
class Sample:
    message_id: str
    submitted: float  # time.time(), to compare with the database timestamps
    delay: float


def start_daemon(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """``maildesk run`` in a subprocess, returned once it is connected to the mailbox."""
    with log_path.open("wb") as log_file:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "maildesk.cli", "--config", str(config_path), "run"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 60
    while "connected to mailbox" not in log_path.read_text(errors="replace"):
        if daemon.poll() is not None:
            raise RuntimeError(f"maildesk run exited with {daemon.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            stop_daemon(daemon)
            raise RuntimeError(f"maildesk run did not connect within 60 s; see {log_path}")
        time.sleep(0.05)
    return daemon


def stop_daemon(daemon: subprocess.Popen[bytes]) -> None:
    if daemon.poll() is not None:
        return
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(timeout=10)


def bench_latency(bench: Bench, count: int, gap: float, jitter: float) -> None:
    section(
        f"d. latency: {count} mails from {LATENCY_CLIENT}, one at a time, "
        "daemon running (maildesk run, IDLE)"
    )
    bench.stack.empty(SUPPORT)
    bench.stack.empty(LATENCY_CLIENT, folders=("INBOX",))
    config = bench.config("latency")
    mails = client_mails(count, f"{bench.tag}l", senders=(LATENCY_CLIENT,))
    log_path = bench.work / "latency-daemon.log"
    daemon = start_daemon(bench.work / "latency.toml", log_path)
    samples: list[Sample] = []
    # Random pauses: a mail lands at any moment of Dovecot's 0.5 s IDLE notification timer,
    # which the daemon's own MOVE and delivery copies may have started (see README).
    pause = random.Random(count).uniform
    try:
        watch = MailboxWatch(bench.stack, LATENCY_CLIENT)
        try:
            for _, message_id, raw in mails:
                time.sleep(pause(gap, gap + jitter))
                expected = watch.count() + 1
                wall = time.time()
                start = time.perf_counter()
                bench.stack.deliver(raw, to=SUPPORT, mail_from=LATENCY_CLIENT)
                try:
                    seen = watch.wait_for(expected, timeout=60)
                except TimeoutError as exc:
                    why = diagnose(bench, config, message_id, log_path)
                    raise RuntimeError(f"no acknowledgement of {message_id}: {why}") from exc
                samples.append(Sample(message_id, wall, seen - start))
        finally:
            watch.close()
    finally:
        stop_daemon(daemon)
    delays = [s.delay for s in samples]
    p50 = percentile(delays, 50)
    bench.report.add(
        Figure(
            "d. latency submit → ack visible",
            f"p50 {p50:.3f} s",
            f"p90 {percentile(delays, 90):.3f} s, p99 {percentile(delays, 99):.3f} s, "
            f"max {max(delays):.3f} s (first mail {delays[0]:.3f} s; n={len(delays)})",
            f"p50 <= {LATENCY_P50_TARGET} s",
            p50 <= LATENCY_P50_TARGET,
        )
    )
    for name, values in latency_segments(config, samples).items():
        bench.report.add(
            Figure(
                f"   {name}",
                f"p50 {percentile(values, 50):.3f} s",
                f"p90 {percentile(values, 90):.3f} s, max {max(values):.3f} s",
            )
        )


def diagnose(bench: Bench, config: Config, message_id: str, log_path: Path) -> str:
    """Where a mail that got no acknowledgement stopped: database, daemon log, mail stack."""
    notes: list[str] = []
    database = Database(config.database.url)
    try:
        with database.session() as session:
            mail = session.execute(
                select(Message.disposition, Message.reason, Message.incident_id).where(
                    Message.message_id == message_id
                )
            ).first()
            ack = session.execute(
                select(OutboxItem.status, OutboxItem.attempts, OutboxItem.last_error).where(
                    OutboxItem.incident_id == (mail.incident_id if mail else None),
                    OutboxItem.purpose == "ack",
                )
            ).first()
    finally:
        database.dispose()
    if mail is None:
        notes.append("not in the database (never read from the INBOX)")
    else:
        notes.append(f"handled as {mail.disposition} {mail.reason}".rstrip())
        notes.append(
            "no ack in the outbox"
            if ack is None
            else f"ack {ack.status} after {ack.attempts} attempt(s) {ack.last_error}".rstrip()
        )
    notes += [
        line.strip()
        for line in log_path.read_text(errors="replace").splitlines()
        if message_id in line and (" ERROR " in line or " WARNING " in line)
    ]
    notes.append(f"support INBOX holds {bench.stack.message_count(SUPPORT)} mail(s)")
    queue = subprocess.run(
        ["postqueue", "-c", str(bench.stack.directory / "postfix"), "-p"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.splitlines()
    notes.append(f"Postfix queue: {queue[-1] if queue else '?'}")
    return "; ".join(notes)


def latency_segments(config: Config, samples: Sequence[Sample]) -> dict[str, list[float]]:
    """Split each delay with the daemon's own timestamps (pipeline start, SMTP accept)."""
    database = Database(config.database.url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(Message.message_id, Message.received_at, OutboxItem.sent_at)
                .join(OutboxItem, OutboxItem.incident_id == Message.incident_id)
                .where(Message.direction == "in", OutboxItem.purpose == "ack")
            ).all()
    finally:
        database.dispose()
    by_id = {mid: (handled, sent) for mid, handled, sent in rows}
    segments: dict[str, list[float]] = {
        "submit → pipeline picks the mail up (SMTP, LMTP, IDLE wake, fetch)": [],
        "pipeline → ack accepted by SMTP (pipeline, commit, wake, claim, send)": [],
        "accepted → ack visible to the client (Postfix, LMTP)": [],
    }
    names = list(segments)
    for sample in samples:
        found = by_id.get(sample.message_id)
        if found is None or found[1] is None:
            raise RuntimeError(f"no acknowledgement recorded for {sample.message_id}")
        handled, sent = found[0].timestamp(), found[1].timestamp()
        segments[names[0]].append(handled - sample.submitted)
        segments[names[1]].append(sent - handled)
        segments[names[2]].append(sample.submitted + sample.delay - sent)
    return segments


# --- e. footprint: the real daemon on a backlog ------------------------------------------------


READY_TARGET = 2.0  # seconds from start to connected and reading
RSS_TARGET = 200.0  # MB, every maildesk process together


def _proc_children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the RSS of a process and its children every ``interval``; keeps the largest
    sum seen and each process's own peak (VmHWM), read before it exits."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_sum_kb = 0
        self.peaks_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [self.pid, *_proc_children(self.pid)]
            total = sum(_status_kb(pid, "VmRSS") for pid in pids)
            self.peak_sum_kb = max(self.peak_sum_kb, total)
            for pid in pids:
                self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), _status_kb(pid, "VmHWM"))
            self._stop.wait(self.interval)


def bench_footprint(bench: Bench, count: int) -> None:
    section(f"e. footprint: maildesk run started on {count} waiting mails (real processes)")
    prepare_backlog(bench, count, f"{bench.tag}f")
    config = bench.config("footprint")
    log_path = bench.work / "footprint-daemon.log"
    database = Database(config.database.url)
    database.migrate()  # as 'maildesk db upgrade' would have, before the timed start
    start = time.perf_counter()
    with log_path.open("wb") as log_file:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "maildesk.cli", "--config", str(bench.work / "footprint.toml"),
             "run"],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    ready = done = 0.0
    try:
        with RssSampler(daemon.pid) as sampler:
            deadline = time.monotonic() + 600
            while not ready:
                if "connected to mailbox" in log_path.read_text(errors="replace"):
                    ready = time.perf_counter() - start
                elif daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"maildesk run did not connect; see {log_path}")
                time.sleep(0.01)
            while not done:
                with database.session() as session:
                    incidents = _count(session, Incident)
                    unsent = _count(session, OutboxItem, OutboxItem.status != "sent")
                if incidents == count and not unsent:
                    done = time.perf_counter() - start
                elif daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"backlog not done ({incidents} incidents); see {log_path}")
                else:
                    time.sleep(0.25)
    finally:
        stop_daemon(daemon)
        database.dispose()
    peaks = sorted(sampler.peaks_kb.values(), reverse=True)
    peak_sum = sampler.peak_sum_kb / 1024
    bench.report.add(
        Figure(
            "e. start to ready (connected, reading)",
            f"{ready:.2f} s",
            "from spawning 'maildesk run' to its 'connected to mailbox' line",
            f"<= {READY_TARGET:.0f} s",
            ready <= READY_TARGET,
        )
    )
    bench.report.add(
        Figure(
            "e. peak RSS, all maildesk processes",
            f"{peak_sum:.0f} MB",
            "largest sum sampled every 50 ms; each process's own peak: "
            + ", ".join(f"{kb / 1024:.0f} MB" for kb in peaks)
            + f"; {count} mails done {done:.1f} s after start ({rate(count, done - ready)})",
            f"<= {RSS_TARGET:.0f} MB",
            peak_sum <= RSS_TARGET,
        )
    )


# --- main ------------------------------------------------------------------------------------


def _first_word(command: Sequence[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=10, check=False, cwd=REPO
        )
        if out.stdout.split():
            return out.stdout.split()[0]
    return "?"


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"Dovecot {_first_word(['dovecot', '--version'])}, "
        f"Postfix {_first_word(['postconf', '-h', 'mail_version'])}"
    )


def code_version() -> str:
    dirty = _first_word(["git", "status", "--porcelain", "--untracked-files=no"]) != "?"
    return _first_word(["git", "rev-parse", "--short", "HEAD"]) + (" + local changes" * dirty)


def file_system(path: Path) -> str:
    """The type of the file system holding ``path`` (the longest mount point above it)."""
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                mount = fields[1]
                inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, kind = mount, fields[2]
    return kind


def stack_base(choice: str) -> Path:
    """Where the stack's directory goes: ``auto`` is /dev/shm when it is a writable tmpfs.

    This machine's root ext4 has no journal; ext4 then skips, at every file creation, each
    inode freed in the last minute or more (``recently_deleted()``), and Postfix frees one
    queue file per mail: on disk Dovecot and Postfix spend 4-54 % more CPU per mail (6
    paired runs), more in the second of two back-to-back runs. A journalled file system does not."""
    if choice != "auto":
        return Path(choice)
    shm = Path("/dev/shm")
    if file_system(shm) == "tmpfs" and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path("/tmp")


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(report: Report, args: argparse.Namespace, load_before: str) -> None:
    print("\n" + "=" * 100)
    print(
        f"maildesk intake benchmark — mails={args.mails}, latency-mails={args.latency_mails}, "
        f"smtp-mails={args.smtp_mails}, copy_to_support={not args.no_copies}, "
        f"copies_in_inbox={args.copies_in_inbox}, "
        f"separate_process={args.separate_sender}, handoff={args.handoff}"
    )
    print(f"code: {code_version()}")
    print(f"machine: {machine()}")
    print(f"mail stack in: {args.stack_base} ({file_system(args.stack_base)})")
    print(f"load average (1/5/15 min): {load_before} before, {load()} after")
    print("=" * 100)
    width = max((len(f.name) for f in report.figures), default=10)
    value_width = max((len(f.value) for f in report.figures), default=10)
    print(f"{'figure':<{width}}  {'value':>{value_width}}  {'target':<20} verdict")
    for f in report.figures:
        verdict = "" if f.passed is None else ("PASS" if f.passed else "MISS")
        print(f"{f.name:<{width}}  {f.value:>{value_width}}  {f.target:<20} {verdict}")
        if f.note:
            print(f"{'':<{width}}    {f.note}")
    for error in report.errors:
        print(f"ERROR: {error}")
    print("Targets are informational: the exit status only reports errors.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=2000, help="backlog size (default 2000)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the backlog benchmarks this many times and report each one's median",
    )
    parser.add_argument(
        "--latency-mails", type=int, default=50, help="mails timed one by one (default 50)"
    )
    parser.add_argument(
        "--latency-gap",
        type=float,
        default=0.25,
        help="least pause before each latency mail, seconds (default 0.25)",
    )
    parser.add_argument(
        "--latency-jitter",
        type=float,
        default=1.0,
        help="random extra pause, up to this many seconds (default 1.0)",
    )
    parser.add_argument(
        "--smtp-mails", type=int, default=500, help="mails in the bare SMTP loop (default 500)"
    )
    parser.add_argument(
        "--hop-mails", type=int, default=20, help="mails in the bare hop (default 20)"
    )
    parser.add_argument(
        "--only",
        default="smtp,backlog,latency,footprint",
        help="comma-separated subset of smtp,backlog,latency,footprint (backlog includes the "
        "IMAP fetch)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=25,
        default=0,
        metavar="TOP",
        help="after the timed backlogs, run one more under cProfile and print the TOP "
        "functions (default 25)",
    )
    parser.add_argument(
        "--no-copies",
        action="store_true",
        help="smtp.copy_to_support = false (the shipped default is true)",
    )
    parser.add_argument(
        "--copies-in-inbox",
        action="store_true",
        help="copies to the support address itself (a server without plus addressing into "
        "folders): intake reads each one back; the shipped default files them into Sent",
    )
    parser.add_argument(
        "--handoff",
        action="store_true",
        help="routing.forward = true: each sorted incident is also forwarded to its team "
        "(on in config.example.toml; off here by default so figures compare with earlier runs)",
    )
    parser.add_argument(
        "--separate-sender",
        action="store_true",
        help="smtp.separate_process = true: send from a second process (off as shipped)",
    )
    parser.add_argument(
        "--stack-base",
        default="auto",
        help="where the mail stack's directory is made (default auto: /dev/shm when it is a "
        "tmpfs, else /tmp; /tmp puts it on this machine's disk)",
    )
    parser.add_argument("--imap-port", type=int, default=13143)
    parser.add_argument("--smtp-port", type=int, default=13025)
    parser.add_argument("--lmtp-port", type=int, default=13024)
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO / "var" / "bench",
        help="configs, databases, logs and the profile (default var/bench)",
    )
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - {"smtp", "backlog", "latency", "footprint"}
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        parser.error("--repeat: at least 1")

    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    report = Report()
    load_before = load()
    args.stack_base = stack_base(args.stack_base)
    directory = make_stack_directory("maildesk-bench-", args.stack_base)
    print(f"starting the mail stack in {directory} (work files in {work})", flush=True)
    stack: MailStack | None = None
    try:
        stack = MailStack.start(
            directory,
            imap_port=args.imap_port,
            smtp_port=args.smtp_port,
            lmtp_port=args.lmtp_port,
            extra_users=(SINK, HOP),
        )
        bench = Bench(
            stack,
            report,
            work,
            secrets.token_hex(3),
            copies=not args.no_copies,
            copies_in_inbox=args.copies_in_inbox,
            separate=args.separate_sender,
            handoff=args.handoff,
        )
        benches: list[tuple[str, Callable[[], None]]] = [
            ("smtp", lambda: bench_smtp(bench, args.smtp_mails)),
            (
                "backlog",
                lambda: bench_backlog_repeated(bench, args.mails, args.repeat, args.profile),
            ),
            ("footprint", lambda: bench_footprint(bench, args.mails)),
            ("latency", lambda: bench_hop(bench, args.hop_mails)),
            (
                "latency",
                lambda: bench_latency(
                    bench, args.latency_mails, args.latency_gap, args.latency_jitter
                ),
            ),
        ]
        for name, run in benches:
            if name not in only:
                continue
            try:
                run()
            except Exception as exc:
                traceback.print_exc()
                report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        # The script stops whatever a failed start left running; stop() is idempotent.
        (stack or MailStack(directory, "127.0.0.1", args.imap_port, "127.0.0.1", 0)).stop()
        remove_stack_directory(directory)
    print_table(report, args, load_before)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
