"""What the daemon is doing now, for an operator: ``maildesk status`` and the metrics.

Read from the database alone (the daemons' heartbeats, checkpoint, outbox, quarantine,
duplicates, failing addresses, digests) plus, when the caller asks the server, how many
mails wait in the INBOX above the checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.db.store import Database, aware_utc
from maildesk.db.tables import (
    Checkpoint,
    DaemonHeartbeat,
    DigestSent,
    DuplicateMail,
    FailingAddress,
    Incident,
    OutboxItem,
    QuarantinedMail,
)

#: A heartbeat older than this belongs to a process that stopped or hangs.
STALE_AFTER = timedelta(minutes=3)
#: Heartbeats of processes gone for longer than this are not shown at all.
SHOWN_FOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    worker: str
    role: str
    state: str
    event: str
    event_at: datetime
    started_at: datetime
    updated_at: datetime
    stale: bool
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailingStatus:
    address: str
    source: str
    detail: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Status:
    at: datetime
    processes: tuple[ProcessStatus, ...]
    checkpoint_uid: int | None
    checkpoint_at: datetime | None
    inbox_waiting: int | None  # mails above the checkpoint
    inbox_source: str  # "server" (asked now), "heartbeat" (last look), or why unknown
    outbox: dict[str, int]  # status → rows
    outbox_oldest_unsent: datetime | None
    failing: tuple[FailingStatus, ...]
    quarantined: int
    quarantined_today: int
    duplicates_today: int
    reused_ids_today: int
    open_incidents: int
    last_digest: datetime | None
    model_version: str

    @property
    def running(self) -> bool:
        return any(
            p.role == "intake" and not p.stale and p.state != "stopped" for p in self.processes
        )


def model_version(config: Config) -> str:
    """The shipped model's training time and file hash, from its metadata (no loading)."""
    try:
        meta = json.loads((Path(config.models_dir) / "classifier.json").read_text("utf-8"))
    except (OSError, ValueError):
        return "unknown (no model metadata)"
    return f"{meta.get('trained_at', '?')} sha256:{str(meta.get('model_sha256', ''))[:12]}"


def read_status(
    database: Database,
    config: Config,
    now: datetime,
    inbox_waiting: int | None = None,
    inbox_problem: str | None = None,
) -> Status:
    """Everything ``maildesk status`` shows. ``inbox_waiting`` is the count the caller got
    from the server, if it asked; else the intake's last look is used."""
    zone = config.schedule.zone
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    with database.session() as session:
        processes = _processes(session, now)
        checkpoint = session.get(Checkpoint, config.imap.folder)
        outbox = dict(
            session.execute(
                select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            ).all()
        )
        oldest = session.scalar(
            select(func.min(OutboxItem.created_at)).where(
                OutboxItem.status.in_(("queued", "sending"))
            )
        )
        failing = tuple(
            FailingStatus(row.address, row.source, row.detail, row.until)
            for row in session.scalars(
                select(FailingAddress)
                .where(FailingAddress.until > now)
                .order_by(FailingAddress.last_failed_at.desc())
            )
        )
        quarantined = _count(session, QuarantinedMail)
        quarantined_today = _count(session, QuarantinedMail, QuarantinedMail.created_at >= midnight)
        duplicates_today = _count(
            session,
            DuplicateMail,
            DuplicateMail.created_at >= midnight,
            DuplicateMail.kind == "same-mail",
        )
        reused_today = _count(
            session,
            DuplicateMail,
            DuplicateMail.created_at >= midnight,
            DuplicateMail.kind == "reused-message-id",
        )
        open_incidents = _count(session, Incident, Incident.status.in_(("open", "waiting")))
        last_digest = session.scalar(select(func.max(DigestSent.created_at)))
    source = "server"
    if inbox_waiting is None:
        inbox_waiting, source = _estimate_waiting(processes, checkpoint)
        if inbox_problem:
            source = f"{source}; the server was not asked: {inbox_problem}"
    return Status(
        at=now,
        processes=processes,
        checkpoint_uid=checkpoint.last_uid if checkpoint else None,
        checkpoint_at=checkpoint.updated_at if checkpoint else None,
        inbox_waiting=inbox_waiting,
        inbox_source=source,
        outbox={str(k): int(v) for k, v in outbox.items()},
        outbox_oldest_unsent=_aware(oldest),
        failing=failing,
        quarantined=quarantined,
        quarantined_today=quarantined_today,
        duplicates_today=duplicates_today,
        reused_ids_today=reused_today,
        open_incidents=open_incidents,
        last_digest=_aware(last_digest),
        model_version=model_version(config),
    )


def _count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type: SQLite hands back naive UTC strings."""
    if value is None:
        return None
    return aware_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _processes(session: Session, now: datetime) -> tuple[ProcessStatus, ...]:
    rows = session.scalars(
        select(DaemonHeartbeat)
        .where(DaemonHeartbeat.updated_at >= now - SHOWN_FOR)
        .order_by(DaemonHeartbeat.role, DaemonHeartbeat.updated_at.desc())
    )
    return tuple(
        ProcessStatus(
            worker=row.worker,
            role=row.role,
            state=row.state,
            event=row.event,
            event_at=row.event_at,
            started_at=row.started_at,
            updated_at=row.updated_at,
            stale=now - row.updated_at > STALE_AFTER,
            facts=dict(row.facts or {}),
        )
        for row in rows
    )


def _estimate_waiting(
    processes: tuple[ProcessStatus, ...], checkpoint: Checkpoint | None
) -> tuple[int | None, str]:
    """UIDNEXT − 1 − checkpoint at the intake's last look: an upper bound (UIDs have gaps)."""
    for process in processes:
        uidnext = process.facts.get("inbox_uidnext")
        if process.role == "intake" and isinstance(uidnext, int) and uidnext > 0:
            last = checkpoint.last_uid if checkpoint else 0
            return max(0, uidnext - 1 - last), f"heartbeat at {process.updated_at:%H:%M:%S} UTC"
    return None, "unknown (no intake has looked yet)"


# --- presentation ------------------------------------------------------------------------


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{seconds // 86400} days ago"


def _local(value: datetime | None, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%a %d %b %H:%M") if value else "—"


def format_status(status: Status, zone: tzinfo) -> str:
    now = status.at
    lines: list[str] = []
    if not status.processes:
        lines.append("daemon: no daemon has run against this database in the last day")
    for p in status.processes:
        flag = "  (STALE: not heard of for " + _ago(p.updated_at, now)[:-4] + ")" if p.stale else ""
        lines.append(
            f"{p.role:<7} {p.state:<12} {p.worker}, up since {_local(p.started_at, zone)}{flag}"
        )
        lines.append(f"        last event {_ago(p.event_at, now)}: {p.event}")
    waiting = "unknown" if status.inbox_waiting is None else str(status.inbox_waiting)
    lines.append(
        f"inbox   {waiting} mail(s) above the checkpoint (UID {status.checkpoint_uid or 0}, "
        f"moved {_ago(status.checkpoint_at, now)}); counted by {status.inbox_source}"
    )
    queued = status.outbox.get("queued", 0) + status.outbox.get("sending", 0)
    oldest = (
        f" (oldest {_ago(status.outbox_oldest_unsent, now)})" if status.outbox_oldest_unsent else ""
    )
    lines.append(
        f"outbox  {queued} to send{oldest}, "
        f"{status.outbox.get('failed', 0)} failed for good, {status.outbox.get('sent', 0)} sent"
    )
    lines.append(f"failing addresses  {len(status.failing)} (no automatic reply goes to them)")
    for failing in status.failing[:5]:
        lines.append(
            f"        {failing.address} ({failing.source}, until {_local(failing.until, zone)}): "
            f"{failing.detail[:80]}"
        )
    lines.append(
        f"quarantine  {status.quarantined} kept ({status.quarantined_today} today; "
        "'maildesk quarantine list' shows them)"
    )
    lines.append(
        f"duplicates today  {status.duplicates_today} recognised, "
        f"{status.reused_ids_today} different mail(s) reusing a Message-ID"
    )
    lines.append(f"open incidents  {status.open_incidents}")
    lines.append(
        f"last digest  {_local(status.last_digest, zone)} ({_ago(status.last_digest, now)})"
    )
    lines.append(f"model  {status.model_version}")
    return "\n".join(lines)


def status_json(status: Status) -> str:
    data = asdict(status)
    data["running"] = status.running
    return json.dumps(data, default=_json_value, indent=2, ensure_ascii=False)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
