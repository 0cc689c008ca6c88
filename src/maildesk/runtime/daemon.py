"""Wiring: build the parts from the configuration and run them under asyncio.

IMAP intake runs in a worker thread (imapclient blocks); the outbox sender is async.
The intake wakes the sender as soon as a reply has been committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from maildesk.businesstime import BusinessCalendar
from maildesk.clock import Clock
from maildesk.config import Config, ConfigError
from maildesk.db.heartbeat import Heartbeat
from maildesk.db.store import Database
from maildesk.inbound.language import load_model as load_language_model
from maildesk.inbound.pipeline import Pipeline
from maildesk.oauth2.providers import grant_settings, token_source
from maildesk.outbound.interrupted import InterruptedSends
from maildesk.outbound.outbox import AiosmtplibSession, DrainResult, OutboxSender, SessionFactory
from maildesk.outbound.render import TemplateRenderer
from maildesk.outbound.samples import check_templates
from maildesk.outbound.sender_process import SenderProcess
from maildesk.runtime.intake import ImapMailbox, IntakeRunner, IntakeStats
from maildesk.runtime.jobs import ScheduledJobs
from maildesk.runtime.metrics import serve_metrics
from maildesk.runtime.retention import CopyRetention
from maildesk.runtime.wiring import default_triager
from maildesk.schedule import build_calendar
from maildesk.triage.rules import Triager

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
    renderer: TemplateRenderer

    def jobs(self, wake_sender: Callable[[], object] = lambda: None) -> ScheduledJobs:
        return ScheduledJobs(
            self.config, self.database, self.calendar, self.renderer, self.clock, wake_sender
        )


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
    problems = check_templates(config, renderer, clock.now())
    if problems:
        raise ConfigError("templates do not render:\n" + "\n".join(problems))
    calendar = build_calendar(config.schedule)
    load_language_model(config.replies.languages)  # at start, not on the first client's mail
    pipeline = Pipeline(
        config, database, triager or default_triager(config, calendar), renderer, clock, calendar
    )
    # One token source for IMAP and SMTP: one grant, one cached token, one refresh.
    tokens = (
        token_source(grant_settings(config.oauth2, config.imap.username), clock)
        if config.oauth2
        else None
    )
    smtp_tokens = tokens if config.smtp.auth == "oauth2" else None
    imap_tokens = tokens if config.imap.auth == "oauth2" else None
    if smtp_sessions is None:
        smtp_password = config.smtp.resolve_password()

        def smtp_sessions() -> AiosmtplibSession:
            return AiosmtplibSession(config.smtp, smtp_password, smtp_tokens)

    if mailbox_factory is None:
        imap_password = config.imap.resolve_password()

        def mailbox_factory() -> ImapMailbox:
            return ImapMailbox(config.imap, imap_password, imap_tokens)

    sender = OutboxSender(
        database,
        config.smtp,
        smtp_sessions,
        clock,
        config.copy_to,
        failing_address_days=config.replies.failing_address_days,
    )
    return Parts(config, clock, database, pipeline, sender, mailbox_factory, calendar, renderer)


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
        self.jobs: ScheduledJobs | None = None  # while run() runs

    def _runner_for(
        self, wake: Callable[[], object], heartbeat: Heartbeat | None = None
    ) -> IntakeRunner:
        config = self.parts.config
        interrupted = InterruptedSends(
            self.parts.database,
            self.parts.clock,
            config.smtp.sending_lease_seconds,
            config.imap.sent_folder if config.copy_to else None,
        )
        retention = None
        if config.copy_to and config.imap.sent_folder and config.imap.sent_retention_days:
            retention = CopyRetention(
                self.parts.clock,
                config.imap.sent_folder,
                config.imap.sent_retention_days,
                config.company.support_address,  # our loop header's value
            )
        return IntakeRunner(
            config.imap,
            self.parts.mailbox_factory,
            self.parts.pipeline,
            self.parts.database,
            on_committed=wake,
            interrupted=interrupted,
            retention=retention,
            heartbeat=heartbeat,
        )

    def _sender_process(self) -> SenderProcess | None:
        if not self.parts.config.smtp.separate_process:
            return None
        return SenderProcess(self.parts.config, self.parts.clock)

    async def run_once(self) -> OnceSummary:
        """Handle the waiting mail and send the replies; sending starts while intake runs
        (in a second process when ``smtp.separate_process``, else on this event loop)."""
        process = self._sender_process()
        if process is not None:
            process.start()
            runner = self._runner_for(process.wake)
            try:
                stats = await asyncio.to_thread(runner.run_once)
            finally:
                child = await asyncio.to_thread(process.stop)
            totals = [child.sent, child.retried, child.failed]
        else:
            stats, totals = await self._intake_with_local_sender()
        sender = self.parts.sender
        # The digest if it is due today and not yet sent, and the alerts due now.
        await asyncio.to_thread(self.parts.jobs().catch_up)
        try:
            # Intake has settled the interrupted sends by now: the requeued ones go too.
            if totals[1] == 0:  # after a refusal, leave the rest to the retry schedule
                last = await sender.drain()
                totals = [totals[0] + last.sent, totals[1] + last.retried, totals[2] + last.failed]
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

    async def _intake_with_local_sender(self) -> tuple[IntakeStats, list[int]]:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        runner = self._runner_for(lambda: loop.call_soon_threadsafe(wake.set))
        sender = self.parts.sender
        totals = [0, 0, 0]
        intake = asyncio.ensure_future(asyncio.to_thread(runner.run_once))
        while not intake.done():
            waiter = asyncio.ensure_future(wake.wait())
            await asyncio.wait({intake, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            wake.clear()
            if totals[1] == 0:  # after a refusal, wait for the end (no hammering)
                result = await sender.drain()
                totals = [
                    totals[0] + result.sent,
                    totals[1] + result.retried,
                    totals[2] + result.failed,
                ]
        return intake.result(), totals

    async def run(self, *, install_signals: bool = True) -> None:
        loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        wake = asyncio.Event()
        process = self._sender_process()
        # Committed replies wake the sender: the child process, or the local async sender.
        wake_sender = (
            process.wake if process is not None else lambda: loop.call_soon_threadsafe(wake.set)
        )
        heartbeat = Heartbeat(self.parts.database, self.parts.clock, "intake")
        await asyncio.to_thread(heartbeat.forget_old)
        if process is None:
            self.parts.sender.heartbeat = Heartbeat(self.parts.database, self.parts.clock, "sender")
        self._runner = runner = self._runner_for(wake_sender, heartbeat)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        log.info("maildesk started", extra={"folder": self.parts.config.imap.folder})
        if process is not None:
            process.start()
        intake = asyncio.ensure_future(asyncio.to_thread(runner.run_forever))
        self.jobs = jobs = self.parts.jobs(wake_sender)
        await asyncio.to_thread(jobs.catch_up)
        jobs.start()
        if process is None:
            sender = asyncio.ensure_future(self.parts.sender.run(stop, wake))
        else:
            sender = asyncio.ensure_future(self._watch(process, stop))
        beating = asyncio.ensure_future(self._beat(heartbeat, stop))
        metrics = serve_metrics(
            self.parts.database,
            self.parts.config,
            self.parts.clock,
            lambda: dict(runner.stats.outcomes),
        )
        await stop.wait()
        log.info("stopping: finishing the mail in hand")
        jobs.stop()
        runner.stop()
        await asyncio.gather(intake, sender, beating)
        if metrics is not None:
            await asyncio.to_thread(metrics.shutdown)
        if process is not None:
            await asyncio.to_thread(process.stop)
        for beat in (heartbeat, self.parts.sender.heartbeat if process is None else None):
            if beat is not None:
                await asyncio.to_thread(beat.note, "stopped", "maildesk stopped")
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("maildesk stopped")

    @staticmethod
    async def _beat(heartbeat: Heartbeat, stop: asyncio.Event) -> None:
        """Notes held back by the throttle are written within 5 s; a quiet daemon (IDLE for
        half an hour) still shows it lives."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5.0)
            if not stop.is_set():
                await asyncio.to_thread(heartbeat.alive)

    @staticmethod
    async def _watch(process: SenderProcess, stop: asyncio.Event) -> None:
        """Restart the sender process if it dies (its rows stay in the outbox meanwhile)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=2.0)
            if not stop.is_set() and not process.is_alive():
                log.error("sender process died; starting a new one")
                process.start()

    def request_stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        if self._stop is not None:
            self._stop.set()


def send_digest_now(
    config: Config, clock: Clock, at: datetime, database: Database
) -> tuple[list[str], DrainResult | None]:
    """``maildesk digest --send``: queue the digest for ``at`` (again, when today's went
    already) and deliver the outbox now; the recipients and what the delivery did."""
    from maildesk.reports.digest import send_digest

    parts = build_parts(config, clock, database=database)
    queued = send_digest(database, config, parts.calendar, parts.renderer, at, force=True)
    if not queued:
        return [], None

    async def drain() -> DrainResult:
        try:
            return await parts.sender.drain()
        finally:
            await parts.sender.close()

    return list(queued), asyncio.run(drain())
