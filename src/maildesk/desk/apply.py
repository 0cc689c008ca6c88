"""What the staff's commands change on one incident: the one set of rules that the mail
path and the CLI (``maildesk incidents resolve|reopen|wait|note|time …``) share.

Each command is applied on its own and reported (applied, or refused with why); every one
is an incident event naming who gave it and how they were authenticated. Resolving sends
the client the resolution notice (``desk.satisfaction``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.db.lifecycle import InvalidChange, change_status, change_triage, record_event
from maildesk.db.tables import Incident, TimeEntry
from maildesk.desk.answer import reply_context
from maildesk.desk.commands import Command, Outcome
from maildesk.desk.messages import Said, said
from maildesk.desk.satisfaction import send_resolution_notice
from maildesk.outbound.handoff import send_to_client
from maildesk.outbound.render import TemplateRenderer

# assign → the category whose team that is (the hand-off follows the category)
_TEAM_CATEGORY = {"technical_service": "technical", "billing_centre": "billing"}


def apply_commands(
    session: Session,
    config: Config,
    calendar: BusinessCalendar,
    incident: Incident,
    commands: tuple[Command, ...] | list[Command],
    *,
    actor: str,
    how: str,
    now: datetime,
    renderer: TemplateRenderer | None = None,
    staff_name: str = "",
) -> list[Outcome]:
    """Apply each command to ``incident`` in ``session`` (the caller commits). With the
    ``renderer``, ``reply`` writes to the client and ``resolve`` sends the resolution
    notice; without one, ``reply`` is refused."""
    who = f"{actor} ({how})" if how else actor
    outcomes = []
    for command in commands:
        try:
            if command.verb == "reply":
                result = _reply(session, config, renderer, incident, command, staff_name, now)
            else:
                result = _apply(session, config, calendar, incident, command, who, now, actor)
        except InvalidChange as exc:
            result = Refused(said("invalid", reason=str(exc)))
        if isinstance(result, Refused):
            outcomes.append(Outcome(command.line, False, result.said))
            continue
        if (
            renderer is not None
            and command.verb == "resolve"
            and result.code == "status"
            and send_resolution_notice(
                session, config, renderer, incident, command.value, staff_name, now
            )
        ):
            result = said("resolved-notice", status="resolved")
        record_event(session, incident, now, who, f"command:{command.verb}", command.line[:500])
        outcomes.append(Outcome(command.line, True, result))
    return outcomes


def _reply(
    session: Session,
    config: Config,
    renderer: TemplateRenderer | None,
    incident: Incident,
    command: Command,
    staff_name: str,
    now: datetime,
) -> Said | Refused:
    if renderer is None:
        return Refused(said("no-templates"))
    context = reply_context(config, incident, command.value, staff_name)
    sent = send_to_client(session, config, renderer, incident, "reply", context, now)
    return said("reply-sent" if sent else "reply-not-sent")


@dataclass(frozen=True, slots=True)
class Refused:
    said: Said


def _apply(
    session: Session,
    config: Config,
    calendar: BusinessCalendar,
    incident: Incident,
    command: Command,
    who: str,
    now: datetime,
    actor: str,
) -> Said | Refused:
    verb, value = command.verb, command.value
    if verb in ("resolve", "reopen", "wait"):
        status = {"resolve": "resolved", "reopen": "open", "wait": "waiting"}[verb]
        changed = change_status(
            session, incident, status, now=now, calendar=calendar, actor=who, note=value
        )
        return said("status" if changed else "status-already", status=status)
    if verb == "kind" and not any(k.id == value for k in config.kinds):
        known = ", ".join(k.id for k in config.kinds)
        return Refused(said("unknown-kind", value=value, known=known))
    if verb in ("priority", "kind", "category", "assign"):
        field = "category" if verb == "assign" else verb
        wanted = _TEAM_CATEGORY[value] if verb == "assign" else value
        changed = change_triage(
            session, incident, config, calendar, now=now, actor=who, **{field: wanted}
        )
        return said("field" if changed else "field-already", field=field, value=wanted)
    if verb == "note":
        record_event(session, incident, now, who, "note", value[:2000])
        return said("note")
    if verb in ("time", "visit"):
        minutes = int(value) if verb == "time" else 0
        cents = round(float(value) * 100) if verb == "visit" else 0
        session.add(
            TimeEntry(incident=incident, at=now, actor=actor[:320], kind=verb, minutes=minutes,
                      cost_cents=cents)
        )  # fmt: skip
        if verb == "time":
            return said("time", minutes=minutes)
        return said("visit", cost=f"{cents / 100:.2f}")
    return Refused(said("invalid", reason=f"'{verb}' is not a command"))
