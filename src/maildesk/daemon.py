"""Wiring: build the parts from the configuration and run them under asyncio.

IMAP intake runs in a worker thread (imapclient blocks); the outbox sender is async.
The intake wakes the sender as soon as a reply has been committed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from maildesk.businesstime import BusinessCalendar
from maildesk.clock import Clock
from maildesk.config import Config, ConfigError
from maildesk.intake import ImapMailbox, IntakeRunner
from maildesk.outbox import AiosmtplibSession, DrainResult, OutboxSender, SessionFactory
from maildesk.pipeline import Pipeline
from maildesk.render import TemplateRenderer
from maildesk.replycontext import check_reply_templates
from maildesk.schedule import build_calendar
from maildesk.store import Database
from maildesk.triage import Triager, default_triager

log = logging.getLogger("maildesk.daemon")


@dataclass
class Parts:
    config: Config
    clock: Clock
    database: Database
    pipeline: Pipeline
    sender: OutboxSender
    mailbox_factory: Callable[[], ImapMailbox]
    calendar: BusinessCalendar


def build_parts(
    config: Config,
    clock: Clock,
    *,
    database: Database | None = None,
    triager: Triager | None = None,
    smtp_sessions: SessionFactory | None = None,
    mailbox_factory: Callable[[], ImapMailbox] | None = None,
) -> Parts:
    """Everything the daemon needs; each part can be replaced (tests, benchmarks)."""
    database = database or Database(config.database.url)
    database.migrate()
    renderer = TemplateRenderer(
        config.templates_dir,
        timezone=config.schedule.timezone,
        languages=config.replies.languages,
        default_language=config.replies.default_language,
    )
    problems = check_reply_templates(config, renderer, clock.now())
    if problems:
        raise ConfigError("reply templates do not render:\n" + "\n".join(problems))
    calendar = build_calendar(config.schedule)
    pipeline = Pipeline(
        config, database, triager or default_triager(config, calendar), renderer, clock, calendar
    )
    if smtp_sessions is None:
        smtp_password = config.smtp.resolve_password()

        def smtp_sessions() -> AiosmtplibSession:
            return AiosmtplibSession(config.smtp, smtp_password)

    if mailbox_factory is None:
        imap_password = config.imap.resolve_password()

        def mailbox_factory() -> ImapMailbox:
            return ImapMailbox(config.imap, imap_password)

    copy_to = config.company.support_address if config.smtp.copy_to_support else None
    sender = OutboxSender(database, config.smtp, smtp_sessions, clock, copy_to)
    return Parts(config, clock, database, pipeline, sender, mailbox_factory, calendar)


@dataclass(frozen=True, slots=True)
class OnceSummary:
    outcomes: dict[str, int]
    sent: DrainResult


class Daemon:
    """``run()`` until stopped (SIGTERM/SIGINT), or ``run_once()`` for what is waiting."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self._stop: asyncio.Event | None = None
        self._runner: IntakeRunner | None = None

    def _runner_for(
        self, wake: Callable[[], None], caught_up: Callable[[], None] = lambda: None
    ) -> IntakeRunner:
        return IntakeRunner(
            self.parts.config.imap,
            self.parts.mailbox_factory,
            self.parts.pipeline,
            self.parts.database,
            on_committed=wake,
            on_caught_up=caught_up,
        )

    async def run_once(self) -> OnceSummary:
        """Handle the waiting mail and send the replies; sending starts while intake runs."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        runner = self._runner_for(lambda: loop.call_soon_threadsafe(wake.set))
        sender = self.parts.sender
        totals = [0, 0, 0]

        def add(result: DrainResult) -> None:
            totals[0] += result.sent
            totals[1] += result.retried
            totals[2] += result.failed

        intake = asyncio.ensure_future(asyncio.to_thread(runner.run_once))
        try:
            while not intake.done():
                waiter = asyncio.ensure_future(wake.wait())
                await asyncio.wait({intake, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                wake.clear()
                if totals[1] == 0:  # after a refusal, wait for the end (no hammering)
                    add(await sender.drain())
            stats = intake.result()
            # After intake: copies that prove an interrupted send was accepted are seen first.
            await asyncio.to_thread(sender.release_expired)
            if totals[1] == 0:
                add(await sender.drain())
        finally:
            await sender.close()
        sent = DrainResult(*totals)
        log.info(
            "run --once finished",
            extra={
                "outcomes": stats.outcomes,
                "sent": sent.sent,
                "retried": sent.retried,
                "failed": sent.failed,
            },
        )
        return OnceSummary(dict(stats.outcomes), sent)

    async def run(self, *, install_signals: bool = True) -> None:
        loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        wake = asyncio.Event()
        caught_up = asyncio.Event()
        self._runner = runner = self._runner_for(
            lambda: loop.call_soon_threadsafe(wake.set),
            lambda: loop.call_soon_threadsafe(caught_up.set),
        )
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        log.info("maildesk started", extra={"folder": self.parts.config.imap.folder})
        intake = asyncio.ensure_future(asyncio.to_thread(runner.run_forever))
        sender = asyncio.ensure_future(self.parts.sender.run(stop, wake, caught_up))
        await stop.wait()
        log.info("stopping: finishing the mail in hand")
        runner.stop()
        await asyncio.gather(intake, sender)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("maildesk stopped")

    def request_stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        if self._stop is not None:
            self._stop.set()
