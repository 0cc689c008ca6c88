"""Read-only views for the CLI: incident rows, one incident in full, the quarantine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from maildesk.config import Config
from maildesk.db.store import Database, incidents_query
from maildesk.db.tables import (
    DuplicateMail,
    FailingAddress,
    Handoff,
    Incident,
    IncidentEvent,
    Message,
    OutboxItem,
    QuarantinedMail,
    SurveyAnswer,
    TimeEntry,
)
from maildesk.desk.commands import REFUSED_COMMAND


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="minutes") if value else ""


def _row(incident: Incident, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "reference": incident.reference,
        "status": incident.status,
        "category": incident.category,
        "confidence": round(incident.category_confidence, 3),
        "unsure": incident.unsure,
        "kind": incident.kind,
        "priority": incident.priority,
        "language": incident.language,
        "written_language": incident.written_language,
        "client": incident.client_address,
        "client_name": incident.client_name,
        "subject": incident.subject,
        "created_at": _local(incident.created_at, zone),
        "acknowledged_at": _local(incident.acknowledged_at, zone),
        "first_response_due": _local(incident.first_response_due, zone),
        "resolution_due": _local(incident.resolution_due, zone),
    }


def incident_rows(
    database: Database,
    config: Config,
    status: str | None,
    search: str | None,
    limit: int,
    unsure: bool = False,
) -> list[dict[str, Any]]:
    with database.session() as session:
        incidents = session.scalars(incidents_query(status, search, unsure).limit(limit)).all()
        return [_row(i, config.schedule.zone) for i in incidents]


_SENT_AS = {
    "ack": "acknowledgement",
    "followup": "follow-up acknowledgement",
    "handoff": "to the team",
    "relay": "team's answer relayed",
    "alert": "alert",
    "resolved": "resolution notice",
    "reply": "staff reply",
    "command": "answer to commands",
}


def _conversation(
    messages: Sequence[Message], replies: Sequence[OutboxItem], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Every mail of the incident in time order: the client's, ours, the team's."""
    entries: list[tuple[Any, int, dict[str, Any]]] = []
    for m in messages:
        who = (
            m.reason if m.disposition == "team_answer"
            else "staff" if m.disposition == "command" or m.reason.startswith(REFUSED_COMMAND)
            else "client"
        )  # fmt: skip
        entries.append((m.received_at, 0, {
            "at": _local(m.received_at, zone), "who": who, "from": m.from_address,
            "what": m.disposition, "subject": m.subject,
            "attachments": (m.attachments or {}).get("files", []),
        }))  # fmt: skip
    for r in replies:
        entries.append((r.created_at, 1, {
            "at": _local(r.created_at, zone), "who": "maildesk", "from": r.mail_from,
            "what": _SENT_AS.get(r.purpose, r.purpose), "to": r.recipients,
            "status": r.status, "attachments": [],
        }))  # fmt: skip
    return [entry for _, _, entry in sorted(entries, key=lambda e: (e[0], e[1]))]


def incident_detail(database: Database, config: Config, reference: str) -> dict[str, Any] | None:
    zone = config.schedule.zone
    with database.session() as session:
        incident = session.scalars(
            select(Incident).where(Incident.reference == reference.upper())
        ).first()
        if incident is None:
            return None
        detail = _row(incident, zone)
        detail["follows_on_from"] = incident.previous.reference if incident.previous else None
        detail["reasons"] = {
            "category": incident.category_reason,
            "kind": incident.kind_reason,
            "priority": incident.priority_reason,
            "deadline": incident.deadline_reason,
        }
        messages = session.scalars(
            select(Message).where(Message.incident_id == incident.id).order_by(Message.id)
        ).all()
        detail["messages"] = [
            {
                "received_at": _local(m.received_at, zone),
                "from": m.from_address,
                "subject": m.subject,
                "disposition": m.disposition,
                "message_id": m.message_id,
                "attachments": (m.attachments or {}).get("files", []),
                "defects": [d for d in m.defects.split(", ") if d],
                "text": m.clean_text,
            }
            for m in messages
        ]
        answer = session.scalar(select(SurveyAnswer).where(SurveyAnswer.incident_id == incident.id))
        detail["reopened"] = incident.reopened_count
        detail["survey_sent_at"] = _local(incident.survey_sent_at, zone)
        detail["satisfaction"] = (
            {"score": answer.score, "comment": answer.comment, "how": answer.how,
             "answered_at": _local(answer.answered_at, zone), "sender": answer.sender}
            if answer is not None
            else None
        )  # fmt: skip
        time_entries = session.scalars(
            select(TimeEntry).where(TimeEntry.incident_id == incident.id).order_by(TimeEntry.id)
        ).all()
        detail["time"] = [
            {"at": _local(t.at, zone), "actor": t.actor, "kind": t.kind, "minutes": t.minutes,
             "cost": t.cost_cents / 100}
            for t in time_entries
        ]  # fmt: skip
        failing = session.get(FailingAddress, incident.client_address.lower())
        detail["client_failing"] = (
            {
                "source": failing.source,
                "since": _local(failing.first_failed_at, zone),
                "until": _local(failing.until, zone),
                "failures": failing.failures,
                "detail": failing.detail,
            }
            if failing is not None
            else None
        )
        duplicates = session.scalars(
            select(DuplicateMail)
            .where(DuplicateMail.incident_id == incident.id)
            .order_by(DuplicateMail.id)
        ).all()
        detail["duplicates"] = [
            {
                "at": _local(d.created_at, zone),
                "kind": d.kind,
                "mailbox": d.mailbox,
                "uid": d.uid,
                "message_id": d.message_id,
            }
            for d in duplicates
        ]
        replies = session.scalars(
            select(OutboxItem).where(OutboxItem.incident_id == incident.id).order_by(OutboxItem.id)
        ).all()
        detail["replies"] = [
            {
                "purpose": r.purpose,
                "to": r.recipients,
                "status": r.status,
                "attempts": r.attempts,
                "sent_at": _local(r.sent_at, zone),
                "message_id": r.message_id,
                "last_error": r.last_error,
            }
            for r in replies
        ]
        detail["conversation"] = _conversation(messages, replies, zone)
        handoffs = session.scalars(
            select(Handoff).where(Handoff.incident_id == incident.id).order_by(Handoff.id)
        ).all()
        detail["handoffs"] = [
            {
                "team": h.team,
                "to": h.address,
                "at": _local(h.created_at, zone),
                "answered_at": _local(h.answered_at, zone),
                "reason": h.reason,
                "message_id": h.message_id,
            }
            for h in handoffs
        ]
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        ).all()
        detail["events"] = [
            {"at": _local(e.at, zone), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in events
        ]
        return detail


def quarantine_rows(database: Database) -> list[dict[str, Any]]:
    with database.session() as session:
        rows = session.scalars(select(QuarantinedMail).order_by(QuarantinedMail.id)).all()
        return [
            {
                "id": q.id,
                "reason": q.reason,
                "detail": q.detail,
                "mailbox": q.mailbox,
                "uid": q.uid,
                "size": q.size,
                "kept_bytes": q.raw is not None,
                "at": q.created_at.isoformat(timespec="seconds"),
            }
            for q in rows
        ]


def _console() -> Console:
    """Wide enough for the tables when the output is a file or a pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_incident_table(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or _console()
    table = Table(title=f"{len(rows)} incident(s)", show_lines=False)
    for column in (
        "Reference",
        "Status",
        "Category",
        "Kind",
        "Prio",
        "Lang",
        "Client",
        "Subject",
        "Due",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        category = row["category"] + (" ?" if row["unsure"] else "")
        table.add_row(
            row["reference"],
            row["status"],
            category,
            row["kind"],
            row["priority"],
            row["language"],
            row["client"],
            row["subject"][:60],
            row["resolution_due"].replace("T", " "),
        )
    console.print(table)


def print_incident_detail(detail: dict[str, Any], console: Console | None = None) -> None:
    console = console or _console()
    console.print(f"[bold]{detail['reference']}[/bold]  {detail['subject']}")
    for key in (
        "status",
        "category",
        "confidence",
        "unsure",
        "kind",
        "priority",
        "language",
        "written_language",
        "follows_on_from",
        "client",
        "client_name",
        "created_at",
        "acknowledged_at",
        "first_response_due",
        "resolution_due",
    ):
        console.print(f"  {key:19} {detail[key]}")
    for key, reason in detail["reasons"].items():
        console.print(f"  why {key:15} {reason}")
    if detail.get("reopened"):
        console.print(f"  {'reopened':19} {detail['reopened']}×")
    score = detail.get("satisfaction")
    if score:
        comment = f" — {score['comment'][:120]}" if score["comment"] else ""
        console.print(
            f"  {'satisfaction':19} {score['score']}/5 ({score['how']}, {score['answered_at']})"
            f"{comment}"
        )
    elif detail.get("survey_sent_at"):
        console.print(f"  {'satisfaction':19} asked {detail['survey_sent_at']}, no answer yet")
    if detail.get("time"):
        minutes = sum(t["minutes"] for t in detail["time"])
        visits = [t for t in detail["time"] if t["kind"] == "visit"]
        console.print(
            f"  {'time logged':19} {minutes // 60}h{minutes % 60:02d}"
            + (
                f"; {len(visits)} visit(s), {sum(v['cost'] for v in visits):.2f} €"
                if visits
                else ""
            )
        )
    failing = detail.get("client_failing")
    if failing:
        console.print(
            f"  [bold red]client address failing[/bold red] since {failing['since']} "
            f"({failing['source']}, {failing['failures']}×): no automatic reply until "
            f"{failing['until']} — {failing['detail'][:120]}"
        )
    console.print("[bold]Conversation[/bold]")
    for c in detail["conversation"]:
        if c["who"] == "maildesk":
            console.print(f"  {c['at']}  maildesk → {c['to']}  ({c['what']}, {c['status']})")
        else:
            console.print(f"  {c['at']}  {c['who']} {c['from']}  ({c['what']})  {c['subject']}")
        for a in c["attachments"]:
            console.print(f"      📎 {a['filename']} {a['content_type']} {a['size']} B")
    odd = [m for m in detail["messages"] if m["defects"]]
    if odd:
        console.print("[bold]Read with fallbacks[/bold]")
        for m in odd:
            console.print(f"  {m['received_at']}  {m['subject'][:50]}: {', '.join(m['defects'])}")
    if detail["duplicates"]:
        console.print("[bold]Duplicates[/bold]")
        for d in detail["duplicates"]:
            console.print(
                f"  {d['at']}  {d['kind']}  {d['mailbox']} UID {d['uid']}  <{d['message_id']}>"
            )
    console.print("[bold]Hand-offs[/bold]")
    for h in detail["handoffs"]:
        answered = f"answered {h['answered_at']}" if h["answered_at"] else "not answered yet"
        console.print(f"  {h['at']}  → {h['team']} <{h['to']}>  ({h['reason']}; {answered})")
    if not detail["handoffs"]:
        console.print("  none")
    console.print("[bold]Replies[/bold]")
    for r in detail["replies"]:
        console.print(
            f"  {r['purpose']:8} → {r['to']}  {r['status']} after {r['attempts']} "
            f"attempt(s) {r['sent_at']} {r['last_error']}"
        )
    console.print("[bold]History[/bold]")
    for e in detail["events"]:
        console.print(f"  {e['at']}  {e['actor']:8} {e['action']:10} {e['detail']}")


def print_quarantine_table(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or _console()
    table = Table(title=f"{len(rows)} quarantined mail(s)")
    for column in ("Id", "At", "Reason", "Detail", "Folder", "UID", "Size"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["at"],
            r["reason"],
            r["detail"][:80],
            r["mailbox"],
            str(r["uid"]),
            str(r["size"]),
        )
    console.print(table)
