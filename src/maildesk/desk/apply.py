"""What the staff's commands change on one incident: the one set of rules that the mail
path and the CLI (``maildesk incidents resolve|reopen|wait|note|time …``) share.

Each command is applied on its own and reported (applied, or refused with why); every one
is an incident event naming who gave it and how they were authenticated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.db.lifecycle import InvalidChange, change_status, change_triage, record_event
from maildesk.db.tables import Incident, TimeEntry
from maildesk.desk.answer import reply_context
from maildesk.desk.commands import Command, Outcome
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
    """Apply each command to ``incident`` in ``session`` (the caller commits); ``reply``
    needs the ``renderer`` (it writes to the client)."""
    who = f"{actor} ({how})" if how else actor
    outcomes = []
    for command in commands:
        try:
            detail = _apply(session, config, calendar, incident, command, who, now, actor)
            if detail is None and command.verb == "reply" and renderer is not None:
                context = reply_context(config, incident, command.value, staff_name)
                sent = send_to_client(session, config, renderer, incident, "reply", context, now)
                detail = "sent to the client" if sent else "not sent: see the incident's history"
        except InvalidChange as exc:
            outcomes.append(Outcome(command.line, False, str(exc)))
            continue
        if detail is None:
            outcomes.append(Outcome(command.line, False, _NOT_YET[command.verb]))
            continue
        record_event(session, incident, now, who, f"command:{command.verb}", command.line[:500])
        outcomes.append(Outcome(command.line, True, detail))
    return outcomes


# Commands the parser knows whose effect is not built yet: refused, saying so.
_NOT_YET = {
    "reply": "no templates here to write to the client with",
}


def _apply(
    session: Session,
    config: Config,
    calendar: BusinessCalendar,
    incident: Incident,
    command: Command,
    who: str,
    now: datetime,
    actor: str,
) -> str | None:
    verb, value = command.verb, command.value
    if verb in ("resolve", "reopen", "wait"):
        status = {"resolve": "resolved", "reopen": "open", "wait": "waiting"}[verb]
        changed = change_status(
            session, incident, status, now=now, calendar=calendar, actor=who, note=value
        )
        return f"status {status}" if changed else f"already {status}"
    if verb in ("priority", "kind", "category", "assign"):
        field = "category" if verb == "assign" else verb
        wanted = _TEAM_CATEGORY[value] if verb == "assign" else value
        changed = change_triage(
            session, incident, config, calendar, now=now, actor=who, **{field: wanted}
        )
        return f"{field} {wanted}" if changed else f"already {field} {wanted}"
    if verb == "note":
        record_event(session, incident, now, who, "note", value[:2000])
        return "note added"
    if verb in ("time", "visit"):
        minutes = int(value) if verb == "time" else 0
        cents = round(float(value) * 100) if verb == "visit" else 0
        session.add(
            TimeEntry(incident=incident, at=now, actor=actor[:320], kind=verb, minutes=minutes,
                      cost_cents=cents)
        )  # fmt: skip
        return f"{minutes} min logged" if verb == "time" else f"visit of {cents / 100:.2f} € logged"
    return None
