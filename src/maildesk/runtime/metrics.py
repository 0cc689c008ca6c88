"""Prometheus metrics on a local port: the figures of ``maildesk status``, read at each
scrape, plus the intake's counts of mail handled by outcome since the start.

Off by default (``[metrics] enabled``). The collector reads the database at scrape time, so
the figures are those of every process sharing the database, not only this one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from maildesk.clock import Clock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.reports.status import Status, read_status

log = logging.getLogger("maildesk.metrics")


class StatusCollector(Collector):
    def __init__(
        self,
        database: Database,
        config: Config,
        clock: Clock,
        outcomes: Callable[[], dict[str, int]] = dict,
    ) -> None:
        self._db = database
        self._config = config
        self._clock = clock
        self._outcomes = outcomes

    def collect(self) -> Iterator[Any]:
        status = read_status(self._db, self._config, self._clock.now())
        yield from status_metrics(status)
        handled = CounterMetricFamily(
            "maildesk_mails_handled",
            "Mails handled by this daemon since its start",
            labels=["outcome"],
        )
        for outcome, count in sorted(self._outcomes().items()):
            handled.add_metric([outcome], count)
        yield handled


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def status_metrics(status: Status) -> Iterator[GaugeMetricFamily]:
    now = status.at
    yield _gauge("maildesk_up", "1 while an intake process is alive", float(status.running))
    if status.inbox_waiting is not None:
        yield _gauge(
            "maildesk_inbox_waiting", "Mails above the checkpoint", float(status.inbox_waiting)
        )
    outbox = GaugeMetricFamily("maildesk_outbox_rows", "Outbox rows by status", labels=["status"])
    for state in ("queued", "sending", "sent", "failed"):
        outbox.add_metric([state], float(status.outbox.get(state, 0)))
    yield outbox
    oldest = status.outbox_oldest_unsent
    yield _gauge(
        "maildesk_outbox_oldest_unsent_seconds",
        "Age of the oldest row still to send (0 when none)",
        (now - oldest).total_seconds() if oldest else 0.0,
    )
    yield _gauge("maildesk_failing_addresses", "Client addresses not answered", len(status.failing))
    yield _gauge("maildesk_quarantined_mails", "Mails kept in quarantine", status.quarantined)
    yield _gauge(
        "maildesk_duplicates_today", "Duplicates recognised today", status.duplicates_today
    )
    yield _gauge("maildesk_open_incidents", "Incidents open or waiting", status.open_incidents)
    for process in status.processes:
        if process.role == "intake" and not process.stale:
            yield _gauge(
                "maildesk_last_imap_event_timestamp_seconds",
                "When the intake last saw something happen on the mailbox",
                process.event_at.timestamp(),
            )
            break
    if status.last_digest is not None:
        yield _gauge(
            "maildesk_last_digest_timestamp_seconds",
            "When the last digest was queued",
            status.last_digest.timestamp(),
        )
    model = GaugeMetricFamily("maildesk_model_info", "The classifier in use", labels=["version"])
    model.add_metric([status.model_version], 1.0)
    yield model


def serve_metrics(
    database: Database, config: Config, clock: Clock, outcomes: Callable[[], dict[str, int]]
) -> WSGIServer | None:
    """Start the endpoint when enabled (``shutdown()`` the server to stop it); a port taken
    is said plainly and the daemon runs on."""
    settings = config.metrics
    if not settings.enabled:
        return None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(database, config, clock, outcomes))
    try:
        server, _ = start_http_server(settings.port, addr=settings.host, registry=registry)
    except OSError as exc:
        log.error(
            f"metrics endpoint not started on {settings.host}:{settings.port}: {exc}",
            extra={"host": settings.host, "port": settings.port},
        )
        return None
    log.info(
        f"metrics on http://{settings.host}:{settings.port}/metrics",
        extra={"host": settings.host, "port": settings.port},
    )
    return server
