"""The outbox sender in a process of its own: SMTP gets the second core while intake parses.

The parent (intake) and the child (sender) share only the database. The parent nudges the
child through a pipe: ``w`` new rows are committed, ``q`` stop. End of file means the
parent is gone.

The child gets plain settings, not the configuration: it never imports pydantic, the
classifier or the templates, and stays small (``bench_intake.py``'s footprint figure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from maildesk.clock import Clock
from maildesk.db.heartbeat import Heartbeat
from maildesk.db.store import Database
from maildesk.oauth2.providers import grant_settings, token_source
from maildesk.outbound.outbox import AiosmtplibSession, DrainResult, OutboxSender

if TYPE_CHECKING:
    from maildesk.config import Config, SmtpConfig

log = logging.getLogger("maildesk.senderproc")
COALESCE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class ChildSettings:
    """What the child needs, in plain types (pickled for a spawned process)."""

    smtp: dict[str, Any]  # SmtpConfig's fields but the secret ones
    password: str
    database_url: str
    copy_to: str | None
    failing_address_days: int
    log_level: str
    log_format: str
    oauth2: dict[str, Any] | None = None  # the grant, when smtp.auth = "oauth2"

    @classmethod
    def of(cls, config: Config) -> ChildSettings:
        return cls(
            smtp=config.smtp.model_dump(exclude={"password", "password_env"}),
            password=config.smtp.resolve_password(),
            database_url=config.database.url,
            copy_to=config.copy_to,
            failing_address_days=config.replies.failing_address_days,
            log_level=config.logging.level,
            log_format=config.logging.format,
            oauth2=(
                grant_settings(config.oauth2, config.imap.username)
                if config.oauth2 is not None and config.smtp.auth == "oauth2"
                else None
            ),
        )


class SenderProcess:
    """Starts, nudges and stops the child; restartable if it dies."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._write_fd: int | None = None
        self._writer: Any = None
        self._results: Any = None  # the reading end of the child's totals

    def start(self) -> None:
        # A multiprocessing pipe only to carry the descriptors to the child; single bytes
        # are written and read on them directly, so a non-blocking write never splits one.
        reader, writer = self._context.Pipe(duplex=False)
        # A plain pipe for the totals (a queue would start a semaphore tracker process).
        self._results, results = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=_child_main,
            args=(ChildSettings.of(self._config), self._clock, reader, results),
            name="maildesk-sender",
            daemon=True,
        )
        self._process.start()
        reader.close()
        results.close()
        self._writer = writer
        os.set_blocking(writer.fileno(), False)
        self._write_fd = writer.fileno()
        log.info("sender process started", extra={"pid": self._process.pid})

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _signal(self, code: bytes) -> None:
        if self._write_fd is None:
            return
        # A full pipe already holds a wake-up for the child: nothing is lost by skipping.
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._write_fd, code)

    def wake(self) -> None:
        self._signal(b"w")

    def stop(self, timeout: float = 30.0) -> DrainResult:
        """Ask the child to finish its round and exit; what it sent in its lifetime."""
        self._signal(b"q")
        if self._write_fd is not None:
            self._writer.close()
            self._write_fd = None
        result = DrainResult(0, 0, 0)
        if self._process is None:
            return result
        self._process.join(timeout)
        if self._process.is_alive():
            log.error("sender process did not stop in time; terminating it")
            self._process.terminate()
            self._process.join(5)
        if self._results is not None:
            with contextlib.suppress(EOFError, OSError):
                if self._results.poll():
                    result = DrainResult(*self._results.recv())
            self._results.close()
            self._results = None
        self._process = None
        return result


def _child_main(settings: ChildSettings, clock: Clock, reader: Any, results: Any) -> None:
    from maildesk.runtime.logs import setup_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    setup_logging(settings.log_level, settings.log_format)
    database = Database(settings.database_url)
    # The outbox reads these settings by attribute: plain values stand in for SmtpConfig.
    smtp = cast("SmtpConfig", SimpleNamespace(**settings.smtp))
    tokens = token_source(settings.oauth2, clock) if settings.oauth2 else None
    sender = OutboxSender(
        database,
        smtp,
        lambda: AiosmtplibSession(smtp, settings.password, tokens),
        clock,
        settings.copy_to,
        failing_address_days=settings.failing_address_days,
    )
    sender.heartbeat = Heartbeat(database, clock, "sender")
    try:
        totals = asyncio.run(_serve(sender, reader.fileno()))
        sender.heartbeat.note("stopped", "sender stopped")
    finally:
        database.dispose()
    results.send((totals.sent, totals.retried, totals.failed))
    results.close()


async def _serve(sender: OutboxSender, read_fd: int) -> DrainResult:
    loop = asyncio.get_running_loop()
    stop, wake = asyncio.Event(), asyncio.Event()

    pending: list[asyncio.TimerHandle] = []

    def readable() -> None:
        try:
            data = os.read(read_fd, 4096)
        except OSError:
            data = b""
        if not data or b"q" in data:
            stop.set()
            loop.remove_reader(read_fd)
            wake.set()
            return
        # Gather the wake-ups of a burst: one claim for many rows instead of one each
        # (fewer write transactions competing with intake for the SQLite lock).
        if not pending or pending[-1].cancelled() or pending[-1].when() < loop.time():
            pending[:] = [loop.call_later(COALESCE_SECONDS, wake.set)]

    loop.add_reader(read_fd, readable)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await sender.run(stop, wake)
    return sender.totals
