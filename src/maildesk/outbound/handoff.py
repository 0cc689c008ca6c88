"""Handing an incident to the team that must solve it: the technical service, the billing
centre (CDF) or a kind's own address (``[routing]``).

The forward is an outbox row written in the same transaction as its ``handoffs`` row, whose
unique key (incident, address) makes it once per incident and team, whatever the crashes or
the number of daemons. A new incident is handed off in the transaction that creates it; one
that was unsure waits until a person sets its category, and ``handoff_pending`` (after
``incidents set`` and on the daemon's escalation round) hands off whatever is due.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.db.lifecycle import record_event
from maildesk.db.store import Database
from maildesk.db.tables import Handoff, Incident, Message
from maildesk.outbound.compose import (
    OutgoingMail,
    UnwritableAddress,
    compose_forward,
    compose_notice,
    compose_reply,
    queued_row,
)
from maildesk.outbound.render import TemplateRenderer

log = logging.getLogger("maildesk.handoff")

# Spanish and international phone numbers as clients write them (9 digits, spaced or not).
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)34[ .-]?)?[6789](?:[ .-]?\d){8}(?!\d)")
EXCERPT_CHARS = 1200
LANGUAGE_NAMES = {
    "es": "español", "ca": "català", "en": "English", "de": "Deutsch", "fr": "français",
    "pt": "português", "it": "italiano", "nl": "Nederlands", "zh": "中文", "ja": "日本語",
    "ko": "한국어",
}  # fmt: skip


def phones_in(text: str) -> list[str]:
    """The phone numbers a mail mentions, in order, each once."""
    found = (" ".join(m.group().split()) for m in _PHONE.finditer(text))
    return list(dict.fromkeys(found))


def handoff_context(
    config: Config, incident: Any, first_text: str, language: str, note: str = ""
) -> dict[str, Any]:
    """What the ``handoff`` templates see."""
    written = incident.written_language or incident.language
    return {
        "reference": incident.reference,
        "subject": incident.subject,
        "client": incident.client_name or incident.client_address,
        "client_address": incident.client_address,
        "phones": phones_in(f"{incident.subject}\n{first_text}"),
        "kind_label": config.kind_label(incident.kind, language),
        "category": incident.category,
        "priority": incident.priority,
        "first_response_due": incident.first_response_due,
        "deadline": incident.resolution_due,
        "written_language": LANGUAGE_NAMES.get(written, written),
        "reason": incident.category_reason,
        "excerpt": first_text[:EXCERPT_CHARS],
        "cut": len(first_text) > EXCERPT_CHARS,
        "note": note,
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }


def _forward(
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    address: str,
    original: bytes,
    text: str,
    now: datetime,
    note: str = "",
    in_reply_to: str | None = None,
) -> OutgoingMail:
    """The mail that hands ``incident`` (or a later mail of its client) to a team."""
    language = config.routing.language
    context = handoff_context(config, incident, text, language, note)
    return compose_forward(
        rendered=renderer.render("handoff", language, context),
        sender_name=config.company.display_name,
        sender_address=config.company.support_address,
        to_address=address,
        reference=incident.reference,
        language=language,
        original=original,
        now=now,
        zone=config.schedule.zone,
        in_reply_to=in_reply_to,
    )


def queue_handoff(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    original: bytes,
    first_text: str,
    now: datetime,
    reason: str,
) -> Handoff | None:
    """Forward ``incident`` to its team in ``session``'s transaction; None when it has no
    team, is unsure, forwarding is off, or it went to that team already."""
    if not config.routing.forward or incident.unsure:
        return None
    team = config.routing.team_for(incident.category, incident.kind)
    if team is None:
        return None
    name, address = team
    if incident.id is not None and session.scalar(
        select(exists().where(Handoff.incident_id == incident.id, Handoff.address == address))
    ):
        return None
    outgoing = _forward(config, renderer, incident, address, original, first_text, now)
    handoff = Handoff(
        incident=incident,
        team=name,
        address=address,
        message_id=outgoing.message_id,
        reason=reason,
        created_at=now,
    )
    session.add(handoff)
    session.add(queued_row(outgoing, "handoff", now, incident))
    record_event(session, incident, now, "maildesk", "handoff", f"to {name} <{address}>: {reason}")
    return handoff


TEAM_LABELS: dict[str, dict[str, str]] = {
    "technical_service": {"es": "El servicio técnico", "ca": "El servei tècnic",
                          "en": "The technical service"},
    "billing_centre": {"es": "El centro de facturación", "ca": "El centre de facturació",
                       "en": "The billing centre"},
}  # fmt: skip
OTHER_TEAM = {"es": "El departamento que la atiende", "ca": "El departament que l'atén",
              "en": "The team handling it"}  # fmt: skip
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def relay_context(
    config: Config, incident: Any, team: str, answer: str, language: str
) -> dict[str, Any]:
    """What the ``relay`` templates see: the team's new words, with no address of theirs
    (nor any other but ours)."""
    support = str(config.company.support_address)
    scrubbed = _ADDRESS.sub(lambda m: m.group() if m.group() == support else "[…]", answer)
    return {
        "reference": incident.reference,
        "client_name": incident.client_name,
        "subject": incident.subject,
        "team_label": TEAM_LABELS.get(team, OTHER_TEAM).get(language, OTHER_TEAM["en"]),
        "answer": scrubbed.strip(),
        "company": {"name": config.company.name, "support_address": support},
    }


def relay_answer(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    team: str,
    answer: str,
    now: datetime,
) -> int:
    """The team's answer to the client, when ``routing.relay`` says so for that team: in the
    client's language, in reply to the client's last mail (their own thread). 0 or 1."""
    if config.routing.relay.get(team, "never") != "always" or not answer.strip():
        return 0
    context = relay_context(config, incident, team, answer, incident.language)
    if not send_to_client(session, config, renderer, incident, "relay", context, now):
        return 0
    record_event(session, incident, now, "maildesk", "relay", f"{team}'s answer to the client")
    return 1


def send_to_client(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    template: str,
    context: dict[str, Any],
    now: datetime,
) -> bool:
    """Queue ``template`` to the incident's client, in their language, in reply to their last
    mail (their own thread). False, with the reason on the incident, when the address cannot
    carry it."""
    client_mails = list(
        session.scalars(
            select(Message)
            .where(
                Message.incident_id == incident.id,
                Message.direction == "in",
                Message.disposition.in_(("new_incident", "followup")),
            )
            .order_by(Message.id)
        )
    )
    last = client_mails[-1] if client_mails else None
    first_id = client_mails[0].message_id if client_mails else None
    language = incident.language
    try:
        outgoing = compose_reply(
            rendered=renderer.render(template, language, context),
            sender_name=config.company.display_name,
            sender_address=config.company.support_address,
            to_address=incident.client_address,
            to_name=incident.client_name,
            reference=incident.reference,
            language=language,
            in_reply_to=last.message_id if last is not None else None,
            references=tuple(i for i in (first_id,) if i),
            now=now,
            zone=config.schedule.zone,
        )
    except UnwritableAddress as exc:  # what was to be said stays on the incident
        record_event(session, incident, now, "maildesk", "no-reply", f"{template} not sent: {exc}")
        return False
    session.add(queued_row(outgoing, template, now, incident))
    return True


FOLLOWUP_NOTE = {
    "es": "un nuevo correo del cliente sobre esta incidencia",
    "ca": "un nou correu del client sobre aquesta incidència",
    "en": "a further mail from the client about this incident",
}
REOPENED_NOTE = {
    "es": "reabierta: el cliente ha vuelto a escribir sobre esta incidencia ya resuelta",
    "ca": "reoberta: el client ha tornat a escriure sobre aquesta incidència ja resolta",
    "en": "reopened: the client wrote again about this resolved incident",
}


def forward_followup(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    original: bytes,
    text: str,
    now: datetime,
    reopened: bool = False,
) -> int:
    """A client's later mail on a handed-off incident, to the team that has it, on the
    team's thread (in reply to the first forward); in the follow-up's own transaction, so
    once, as the mail itself. The number of forwards queued."""
    if not config.routing.forward or incident.id is None:
        return 0
    handoffs = list(
        session.scalars(
            select(Handoff).where(Handoff.incident_id == incident.id).order_by(Handoff.id)
        )
    )
    if not handoffs:
        return 0
    current = handoffs[-1]  # after a reassignment, the team that has it now
    note = (REOPENED_NOTE if reopened else FOLLOWUP_NOTE)[config.routing.language]
    outgoing = _forward(
        config, renderer, incident, current.address, original, text, now, note,
        in_reply_to=current.message_id,
    )  # fmt: skip
    session.add(queued_row(outgoing, "handoff", now, incident))
    record_event(session, incident, now, "maildesk", "handoff", f"client's mail to {current.team}")
    return 1


def reassigned_context(
    config: Config, incident: Any, old: Handoff, new_team: str, language: str
) -> dict[str, Any]:
    """What the ``reassigned`` templates (to the team that no longer has it) see."""
    return {
        "reference": incident.reference,
        "client": incident.client_name or incident.client_address,
        "kind_label": config.kind_label(incident.kind, language),
        "handed_at": old.created_at,
        "new_team": new_team,
        "note": "",
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }


def _tell_old_team(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    old: Handoff,
    new: Handoff,
    now: datetime,
) -> None:
    language = config.routing.language
    context = reassigned_context(config, incident, old, f"{new.team} <{new.address}>", language)
    outgoing = compose_notice(
        rendered=renderer.render("reassigned", language, context),
        sender_name=config.company.display_name,
        sender_address=config.company.support_address,
        recipients=(old.address,),
        tag=f"reassigned.{incident.reference.lower()}",
        language=language,
        now=now,
        zone=config.schedule.zone,
        reference=incident.reference,
    )
    session.add(queued_row(outgoing, "handoff", now, incident))


def handoff_pending(
    database: Database, config: Config, renderer: TemplateRenderer, now: datetime
) -> list[str]:
    """Hand off every open incident that has a team, is no longer unsure and is not with
    that team yet: a category settled with 'incidents set', a crash between the two, or a
    reassignment (then the team that had it is told). The references handed off."""
    if not config.routing.forward:
        return []
    done: list[str] = []
    with database.session() as session:
        last_handoff = (
            select(func.max(Handoff.created_at))
            .where(Handoff.incident_id == Incident.id)
            .scalar_subquery()
        )
        waiting = session.scalars(
            select(Incident).where(
                Incident.status.in_(("open", "waiting")),
                Incident.unsure.is_(False),
                # only what has a team: the distributor's own (other) are not read each round
                Incident.category.in_(list(config.routing.teams))
                | Incident.kind.in_(list(config.routing.kinds)),
                # never handed off, or changed since: only those can need a (new) team
                ~exists().where(Handoff.incident_id == Incident.id)
                | (Incident.updated_at > last_handoff),
            )
        ).all()
        for incident in waiting:
            team = config.routing.team_for(incident.category, incident.kind)
            if team is None:
                continue
            previous = list(
                session.scalars(
                    select(Handoff).where(Handoff.incident_id == incident.id).order_by(Handoff.id)
                )
            )
            if any(h.address == team[1] for h in previous):
                continue
            first = session.scalars(
                select(Message)
                .where(Message.incident_id == incident.id, Message.direction == "in")
                .order_by(Message.id)
                .limit(1)
            ).first()
            if first is None or first.raw is None:
                # older than hand-offs (no original kept): left to the distributor, quietly
                log.debug(
                    f"{incident.reference}: no original mail kept; not handed off",
                    extra={"reference": incident.reference},
                )
                continue
            reason = (
                f"reassigned from {previous[-1].team}"
                if previous
                else "once its category was settled"
            )
            new = queue_handoff(
                session, config, renderer, incident, first.raw, first.clean_text, now, reason
            )
            if new is None:
                continue
            if previous:
                _tell_old_team(session, config, renderer, incident, previous[-1], new, now)
            done.append(incident.reference)
    for reference in done:
        log.info("incident handed off", extra={"reference": reference})
    return done
