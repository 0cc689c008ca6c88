"""The daemon's scheduled work (APScheduler 3, in the schedule's time zone): the morning
digest and the escalation checks. Both are also run once at start, so that a digest missed
while the daemon was down goes out the same business day; the database keeps them single."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from maildesk.businesstime import BusinessCalendar
from maildesk.clock import Clock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.outbound.handoff import handoff_pending
from maildesk.outbound.render import TemplateRenderer
from maildesk.reports.alerts import Alert, check_escalations
from maildesk.reports.digest import send_digest

log = logging.getLogger("maildesk.jobs")


class ScheduledJobs:
    def __init__(
        self,
        config: Config,
        database: Database,
        calendar: BusinessCalendar,
        renderer: TemplateRenderer,
        clock: Clock,
        wake_sender: Callable[[], object] = lambda: None,
    ) -> None:
        self._config = config
        self._database = database
        self._calendar = calendar
        self._renderer = renderer
        self._clock = clock
        self._wake = wake_sender
        self._scheduler: Any = None

    def digest(self) -> list[str]:
        """Queue today's digest if it is due and not yet sent; wake the sender if queued."""
        queued = send_digest(
            self._database, self._config, self._calendar, self._renderer, self._clock.now()
        )
        if queued:
            self._wake()
        return queued

    def escalations(self) -> list[Alert]:
        alerts = check_escalations(
            self._database, self._config, self._calendar, self._renderer, self._clock.now()
        )
        if alerts:
            self._wake()
        return alerts

    def handoffs(self) -> list[str]:
        """Hand off what waited (a category set by a person, a crash between commit and
        forward); wake the sender if anything was queued."""
        done = handoff_pending(self._database, self._config, self._renderer, self._clock.now())
        if done:
            self._wake()
        return done

    def catch_up(self) -> None:
        """At start: the digest if it was missed today, any alert due, pending hand-offs."""
        self._guarded("digest", self.digest)
        self._guarded("escalation", self.escalations)
        self._guarded("handoff", self.handoffs)

    def start(self) -> None:
        """Schedule both jobs on the running event loop (they run in worker threads)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        zone = self._calendar.zone
        hour, minute = self._config.digest.hour_minute
        scheduler = AsyncIOScheduler(timezone=zone, event_loop=asyncio.get_running_loop())
        # Every day at the digest time: whether it is a business day is the calendar's call
        # (holidays, special periods), made inside the job.
        scheduler.add_job(
            self._threaded("digest", self.digest),
            CronTrigger(hour=hour, minute=minute, timezone=zone),
            id="digest",
            coalesce=True,
            misfire_grace_time=3600,
        )
        scheduler.add_job(
            self._threaded("escalation", self.escalations),
            IntervalTrigger(minutes=self._config.escalation.check_minutes, timezone=zone),
            id="escalation",
            coalesce=True,
            max_instances=1,
        )
        scheduler.add_job(
            self._threaded("handoff", self.handoffs),
            IntervalTrigger(minutes=1, timezone=zone),
            id="handoff",
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "scheduled jobs started",
            extra={
                "digest": f"{self._config.digest.time} {zone.key}",
                "escalation_every_min": self._config.escalation.check_minutes,
            },
        )

    def scheduled(self) -> dict[str, str]:
        """Each scheduled job and its trigger, as APScheduler describes it."""
        if self._scheduler is None:
            return {}
        return {job.id: str(job.trigger) for job in self._scheduler.get_jobs()}

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def _threaded(self, name: str, job: Callable[[], object]) -> Callable[[], Any]:
        async def run() -> None:
            await asyncio.to_thread(self._guarded, name, job)

        return run

    @staticmethod
    def _guarded(name: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            # A failing job must not stop the daemon; the next run tries again.
            log.exception(f"{name} job failed; it runs again at its next time", extra={"job": name})
