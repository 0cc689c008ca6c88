"""Changing an incident: status (with the paused clock) and triage (with new deadlines).

Each change is applied in the caller's session and recorded as an ``IncidentEvent``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from maildesk.db.tables import Correction, Incident, IncidentEvent

if TYPE_CHECKING:  # annotations only: the sender process never loads pydantic
    from maildesk.businesstime import BusinessCalendar
    from maildesk.config import Config

STATUSES = ("open", "waiting", "resolved", "closed")
DONE_STATUSES = frozenset({"resolved", "closed"})


class InvalidChange(ValueError):
    """The change asked for makes no sense (unknown status, kind or priority)."""


AUTOMATIC_ACTORS = frozenset({"maildesk", "client"})


def record_event(
    session: Session, incident: Incident, now: datetime, actor: str, action: str, detail: str
) -> None:
    # By relationship, not id: a new incident gets its events before it is flushed.
    session.add(IncidentEvent(incident=incident, at=now, actor=actor, action=action, detail=detail))
    if actor not in AUTOMATIC_ACTORS and incident.first_response_at is None:
        incident.first_response_at = now  # the first thing a person did about it


def change_status(
    session: Session,
    incident: Incident,
    status: str,
    *,
    now: datetime,
    calendar: BusinessCalendar,
    actor: str,
    note: str = "",
) -> bool:
    """Move to ``status``. Waiting on the client pauses the resolution clock; leaving
    ``waiting`` moves the resolution deadline by the business time spent waiting."""
    if status not in STATUSES:
        raise InvalidChange(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    previous = incident.status
    if status == previous:
        return False
    detail = f"{previous} → {status}"
    if previous == "waiting" and incident.paused_at is not None:
        paused = calendar.elapsed(incident.paused_at, now)
        incident.paused_seconds += int(paused.total_seconds())
        if paused:  # add(t, 0) would move a deadline sitting on a closing time
            incident.resolution_due = calendar.add(incident.resolution_due, paused)
        incident.paused_at = None
        detail += f"; clock resumed after {int(paused.total_seconds() // 60)} business min"
    if status == "waiting":
        incident.paused_at = now
        detail += "; resolution clock paused"
    if previous in DONE_STATUSES and status not in DONE_STATUSES:
        incident.reopened_count = (incident.reopened_count or 0) + 1
    incident.resolved_at = now if status in DONE_STATUSES else None
    incident.status = status
    incident.updated_at = now
    record_event(session, incident, now, actor, "status", detail + (f" ({note})" if note else ""))
    return True


def change_triage(
    session: Session,
    incident: Incident,
    config: Config,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    actor: str,
    kind: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    note: str = "",
) -> bool:
    """Correct kind, priority or category; deadlines are recomputed from arrival.

    A changed category or kind is also kept as a correction, with the client's words, for
    ``maildesk train --with-corrections``."""
    changes = []
    before = (incident.category, incident.kind)
    if kind is not None and kind != incident.kind:
        try:
            new_kind = config.kind(kind)
        except KeyError:
            known = ", ".join(k.id for k in config.kinds)
            raise InvalidChange(f"unknown kind {kind!r}; expected one of {known}") from None
        changes.append(f"kind {incident.kind} → {kind}")
        incident.kind, incident.kind_reason = kind, f"set by {actor}"
        if category is None and new_kind.category != incident.category:
            category = new_kind.category
    if category is not None and category != incident.category:
        if category not in ("technical", "billing", "other"):
            raise InvalidChange(
                f"unknown category {category!r}; expected technical, billing or other"
            )
        changes.append(f"category {incident.category} → {category}")
        incident.category, incident.category_reason = category, f"set by {actor}"
        incident.unsure = False
    if priority is not None and priority != incident.priority:
        if priority not in config.priority.factors:
            raise InvalidChange(f"unknown priority {priority!r}; expected P1, P2, P3 or P4")
        changes.append(f"priority {incident.priority} → {priority}")
        incident.priority, incident.priority_reason = priority, f"set by {actor}"
    if (category is not None or kind is not None) and incident.unsure:
        # A person looked at it and kept the guess: no longer unsure, and it may go to its team.
        incident.unsure = False
        if not changes:
            changes.append(f"category {incident.category} confirmed")
            incident.category_reason = f"confirmed by {actor}"
    if not changes:
        return False
    first, resolution = config.targets(config.kind(incident.kind), incident.priority)
    paused = timedelta(seconds=incident.paused_seconds)
    incident.first_response_due = calendar.add(incident.created_at, timedelta(minutes=first))
    incident.resolution_due = calendar.add(
        incident.created_at, timedelta(minutes=resolution) + paused
    )
    incident.deadline_reason = (
        f"recomputed: kind {incident.kind} at {incident.priority}, {resolution:g} business min"
    )
    incident.updated_at = now
    detail = "; ".join(changes) + f"; due {incident.resolution_due.isoformat()}"
    record_event(session, incident, now, actor, "triage", detail + (f" ({note})" if note else ""))
    if (incident.category, incident.kind) != before:
        first_message = next((m for m in incident.messages if m.direction == "in"), None)
        session.add(
            Correction(
                incident_id=incident.id,
                subject=incident.subject,
                text=first_message.clean_text if first_message is not None else "",
                category=incident.category,
                kind=incident.kind,
                predicted_category=before[0],
                predicted_kind=before[1],
                actor=actor,
                created_at=now,
            )
        )
    return True
