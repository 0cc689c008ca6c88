"""Escalation: an alert when an open incident has used a configured share of its resolution
time (business time, pauses excluded), and again at breach — once per threshold and incident,
enforced by a unique row written with the outbox row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import AlertSent, Incident
from maildesk.desk.links import mailto, staff_reply_address
from maildesk.outbound.compose import OutgoingMail, compose_notice, queued_row
from maildesk.outbound.render import TemplateRenderer

log = logging.getLogger("maildesk.alerts")


@dataclass(frozen=True, slots=True)
class Alert:
    reference: str
    threshold: int  # percent
    recipients: tuple[str, ...]
    message_id: str


def used_share(incident: Any, calendar: BusinessCalendar, now: datetime) -> float:
    """Share of the resolution time used: business time since arrival (minus time waiting on
    the client) over business time from arrival to the deadline (minus the same pause)."""
    paused = timedelta(seconds=incident.paused_seconds or 0)
    if incident.paused_at is not None:
        paused += calendar.elapsed(incident.paused_at, now)
    total = calendar.elapsed(incident.created_at, incident.resolution_due) - timedelta(
        seconds=incident.paused_seconds or 0
    )
    used = calendar.elapsed(incident.created_at, now) - paused
    if total <= timedelta(0):
        return float("inf") if now >= incident.resolution_due else 0.0
    return used / total


def named_addresses(config: Config, names: Sequence[str]) -> tuple[str, ...]:
    """The addresses of "distributor", "technical_service", "billing_centre" (in order, once)."""
    addresses = {
        "distributor": config.company.distributor_address,
        "technical_service": config.routing.technical_service,
        "billing_centre": config.routing.billing_centre,
    }
    return tuple(dict.fromkeys(str(addresses[name]) for name in names))


def alert_recipients(config: Config, category: str) -> tuple[str, ...]:
    return named_addresses(config, config.escalation.notify.get(category, ("distributor",)))


def personal_notice(
    config: Config,
    renderer: TemplateRenderer,
    incident: Any,
    recipient: str,
    template: str,
    context: Callable[[str, str], dict[str, Any]],
    tag: str,
    now: datetime,
) -> OutgoingMail:
    """A notice about ``incident`` to one person (escalation and low-score alerts): in their
    language when they are staff (``desk.staff``), else in ``digest.language``; a staff
    member's reply goes to his own secret reply address (``Reply-To``), so a command sent
    back from a phone is obeyed. ``context(language, reply_address)`` builds the template's
    variables; a ``TemplateError`` is the caller's."""
    member = config.desk.staff_member(recipient)
    language = member.language if member is not None else config.digest.language
    personal = staff_reply_address(config, recipient, incident.reference)
    return compose_notice(
        rendered=renderer.render(
            template, language, context(language, personal or str(config.company.support_address))
        ),
        sender_name=config.company.display_name,
        sender_address=config.company.support_address,
        recipients=(recipient,),
        tag=tag,
        language=language,
        now=now,
        zone=config.schedule.zone,
        reference=incident.reference,
        reply_to=personal,
    )


def check_escalations(
    database: Database,
    config: Config,
    calendar: BusinessCalendar,
    renderer: TemplateRenderer,
    now: datetime,
) -> list[Alert]:
    """Queue the alerts due now; each (incident, threshold) at most once, ever."""
    if not config.escalation.enabled:
        return []
    thresholds = [round(100 * t) for t in config.escalation.thresholds]
    with database.session() as session:
        candidates = session.execute(
            select(
                Incident.id,
                Incident.reference,
                Incident.created_at,
                Incident.resolution_due,
                Incident.paused_seconds,
                Incident.paused_at,
                Incident.category,
            ).where(Incident.status == "open")
        ).all()
        sent = {
            (incident_id, threshold)
            for incident_id, threshold in session.execute(
                select(AlertSent.incident_id, AlertSent.threshold).where(
                    AlertSent.incident_id.in_([c.id for c in candidates])
                )
            )
        }
    queued: list[Alert] = []
    for candidate in candidates:
        share = used_share(candidate, calendar, now)
        crossed = [t for t in thresholds if share * 100 >= t and (candidate.id, t) not in sent]
        if not crossed:
            continue
        # Several thresholds crossed at once (the daemon was down): one alert, the highest.
        alert = _queue_alert(database, config, calendar, renderer, now, candidate.id, crossed)
        if alert is not None:
            queued.append(alert)
    return queued


def _queue_alert(
    database: Database,
    config: Config,
    calendar: BusinessCalendar,
    renderer: TemplateRenderer,
    now: datetime,
    incident_id: int,
    crossed: list[int],
) -> Alert | None:
    threshold = max(crossed)
    try:
        with database.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or incident.status != "open":
                return None
            recipients = alert_recipients(config, incident.category)
            subject = f"Re: [{incident.reference}] {incident.subject}"

            def context(language: str, reply: str) -> dict[str, Any]:
                return {
                    **alert_context(config, incident, threshold, now, language),
                    "reply_link": mailto(reply, subject),
                }

            tag = f"alert-{incident.reference.lower()}-{threshold}"
            mails = [
                personal_notice(config, renderer, incident, to, "alert", context, tag, now)
                for to in recipients
            ]
            outgoing = mails[0]
            for value in crossed:
                session.add(
                    AlertSent(
                        incident_id=incident.id,
                        threshold=value,
                        message_id=outgoing.message_id,
                        created_at=now,
                    )
                )
            session.add_all(queued_row(mail, "alert", now, incident) for mail in mails)
    except IntegrityError:
        return None  # another daemon queued it first
    log.info(
        "escalation alert queued",
        extra={"reference": incident.reference, "threshold": threshold, "to": ",".join(recipients)},
    )
    return Alert(incident.reference, threshold, recipients, outgoing.message_id)


def alert_context(
    config: Config, incident: Any, threshold: int, now: datetime, language: str
) -> dict[str, Any]:
    """What the ``alert`` templates see."""
    try:
        labels = config.kind(incident.kind).label
        kind_label = labels.get(language) or incident.kind  # type: ignore[call-overload]
    except KeyError:
        kind_label = incident.kind
    return {
        "now": now,
        "threshold": threshold,
        "breached": threshold >= 100,
        "reference": incident.reference,
        "client": incident.client_name or incident.client_address,
        "client_address": incident.client_address,
        "subject": incident.subject,
        "category": incident.category,
        "kind_label": kind_label,
        "priority": incident.priority,
        "deadline": incident.resolution_due,
        "created_at": incident.created_at,
        "reply_link": mailto(
            str(config.company.support_address), f"Re: [{incident.reference}] {incident.subject}"
        ),
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }
