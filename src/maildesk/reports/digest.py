"""The morning digest: what came in, what is due, what is late, and the service levels.

``gather_digest`` reads the database for one instant; ``digest_context`` turns that into what
the ``digest`` templates see; ``send_digest`` queues it once per recipient and local day (a
unique row written in the same transaction as the outbox row, so restarts and several daemons
can never send it twice).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import (
    DigestSent,
    FailingAddress,
    Handoff,
    Incident,
    Message,
    SurveyAnswer,
)
from maildesk.desk.commands import REFUSED_COMMAND
from maildesk.desk.links import mailto, staff_reply_address
from maildesk.outbound.compose import compose_notice, queued_row
from maildesk.outbound.render import RenderedMail, TemplateRenderer
from maildesk.reports.levels import (
    OPEN_STATUSES,
    HandoffRecord,
    IncidentRecord,
    ServiceLevels,
    service_levels,
)

log = logging.getLogger("maildesk.digest")

CATEGORY_ORDER = ("technical", "billing", "other")


@dataclass(frozen=True, slots=True)
class DigestLine:
    reference: str
    client: str
    subject: str
    category: str
    kind: str
    priority: str
    deadline: datetime
    status: str
    unsure: bool
    created_at: datetime
    team: str = ""  # the team it was handed to and has not answered yet
    handed_at: datetime | None = None
    late: bool = False  # waiting on that team longer than its target


@dataclass(frozen=True, slots=True)
class DigestData:
    at: datetime
    since: datetime
    new: list[DigestLine]
    due_today: list[DigestLine]
    overdue: list[DigestLine]
    waiting: list[DigestLine]
    unsure: list[DigestLine]
    levels: list[ServiceLevels]
    chart: list[tuple[date, dict[str, int]]] = field(default_factory=list)
    open_count: int = 0
    first_incident_at: datetime | None = None  # since when there are figures at all
    with_teams: list[DigestLine] = field(default_factory=list)  # handed off, no answer yet
    failing: list[FailingLine] = field(default_factory=list)  # client addresses that bounce


@dataclass(frozen=True, slots=True)
class FailingLine:
    address: str
    source: str  # bounce / smtp
    since: datetime
    until: datetime
    reference: str | None
    detail: str


def _line(row: Any) -> DigestLine:
    return DigestLine(
        reference=row.reference,
        client=row.client_name or row.client_address,
        subject=row.subject,
        category=row.category,
        kind=row.kind,
        priority=row.priority,
        deadline=row.resolution_due,
        status=row.status,
        unsure=row.unsure,
        created_at=row.created_at,
    )


_LINE_COLUMNS = (
    Incident.id,
    Incident.reference,
    Incident.client_name,
    Incident.client_address,
    Incident.subject,
    Incident.category,
    Incident.kind,
    Incident.priority,
    Incident.resolution_due,
    Incident.status,
    Incident.unsure,
    Incident.created_at,
)


def local_midnight(day: date, calendar: BusinessCalendar) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.zone)


# The periods the digest reports service levels for: days back from today, and their label.
LEVEL_PERIODS = ((1, "yesterday"), (7, "7 days"), (30, "30 days"))


def period_levels(
    records: Sequence[IncidentRecord], today: date, calendar: BusinessCalendar
) -> list[ServiceLevels]:
    """The service levels of each of ``LEVEL_PERIODS``, all ending at today's midnight."""
    start_today = local_midnight(today, calendar)
    return [
        service_levels(
            records,
            local_midnight(today - timedelta(days=days), calendar),
            start_today,
            calendar,
            calendar.zone,
            label,
        )
        for days, label in LEVEL_PERIODS
    ]


def gather_digest(
    session: Session,
    config: Config,
    calendar: BusinessCalendar,
    at: datetime,
    since: datetime | None = None,
) -> DigestData:
    """Everything the digest shows at instant ``at``; new incidents are those since
    ``since`` (the previous digest; a day before ``at`` when there was none)."""
    zone = calendar.zone
    today = at.astimezone(zone).date()
    start_today = local_midnight(today, calendar)
    end_today = local_midnight(today + timedelta(days=1), calendar)
    since = since or at - timedelta(days=1)
    open_rows = [
        _line(r)
        for r in session.execute(
            select(*_LINE_COLUMNS)
            .where(Incident.status.in_(OPEN_STATUSES))
            .order_by(Incident.resolution_due)
        )
    ]
    new = [
        _line(r)
        for r in session.execute(
            select(*_LINE_COLUMNS)
            .where(Incident.created_at >= since, Incident.created_at < at)
            .order_by(Incident.created_at)
        )
    ]
    targets = config.team_targets()
    with_teams = []
    for row in session.execute(
        select(*_LINE_COLUMNS, Handoff.team, Handoff.created_at.label("handed_at"))
        .join(Handoff, Handoff.incident_id == Incident.id)
        .where(Incident.status.in_(OPEN_STATUSES), Handoff.answered_at.is_(None))
        .order_by(Handoff.created_at)
    ):
        target = targets.get(row.team)
        late = target is not None and calendar.elapsed(row.handed_at, at) > target
        with_teams.append(replace(_line(row), team=row.team, handed_at=row.handed_at, late=late))
    longest = max(days for days, _ in LEVEL_PERIODS)
    window_start = local_midnight(today - timedelta(days=longest), calendar)
    levels = period_levels(incident_records(session, window_start, start_today), today, calendar)
    chart_start = today - timedelta(days=config.digest.chart_days - 1)
    volume: dict[date, dict[str, int]] = defaultdict(dict)
    for created_at, category in session.execute(
        select(Incident.created_at, Incident.category).where(
            Incident.created_at >= local_midnight(chart_start, calendar),
            Incident.created_at < end_today,
        )
    ):
        day = created_at.astimezone(zone).date()
        volume[day][category] = volume[day].get(category, 0) + 1
    chart = [
        (chart_start + timedelta(days=i), volume.get(chart_start + timedelta(days=i), {}))
        for i in range(config.digest.chart_days)
    ]
    live = [line for line in open_rows if line.status == "open"]
    return DigestData(
        at=at,
        since=since,
        new=new,
        due_today=[line for line in live if at <= line.deadline < end_today],
        overdue=[line for line in live if line.deadline < at],
        waiting=[line for line in open_rows if line.status == "waiting"],
        unsure=[line for line in open_rows if line.unsure],
        levels=levels,
        chart=chart,
        open_count=len(open_rows),
        first_incident_at=session.scalar(select(func.min(Incident.created_at))),
        with_teams=with_teams,
        failing=[
            FailingLine(
                row.address, row.source, row.first_failed_at, row.until, reference, row.detail[:160]
            )
            for row, reference in session.execute(
                select(FailingAddress, Incident.reference)
                .outerjoin(Incident, Incident.id == FailingAddress.incident_id)
                .where(FailingAddress.until > at)
                .order_by(FailingAddress.last_failed_at.desc())
            )
        ],
    )


def handoff_records(session: Session, start: datetime, end: datetime) -> list[HandoffRecord]:
    """Hand-offs made in [start, end), with when their team first answered."""
    return [
        HandoffRecord(team, created_at, answered_at)
        for team, created_at, answered_at in session.execute(
            select(Handoff.team, Handoff.created_at, Handoff.answered_at).where(
                Handoff.created_at >= start, Handoff.created_at < end
            )
        )
    ]


# A client's own mail: not a staff member's command mail (applied: "command"; refused: a
# "followup" whose reason says so), a team's answer, a bounce nor a survey answer.
CLIENT_DISPOSITIONS = ("new_incident", "followup")
_CHUNK = 5000  # ids per IN (…): well under SQLite's limit on bound parameters


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    return (ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK))


def incident_records(session: Session, start: datetime, end: datetime) -> list[IncidentRecord]:
    """Incidents opened or resolved in [start, end), open at its end, or whose satisfaction
    survey was sent or answered in it, for the levels."""
    answered_in_window = select(SurveyAnswer.incident_id).where(SurveyAnswer.answered_at >= start)
    rows = session.execute(
        select(
            Incident.id,
            Incident.reference,
            Incident.category,
            Incident.kind,
            Incident.status,
            Incident.created_at,
            Incident.resolution_due,
            Incident.acknowledged_at,
            Incident.first_response_at,
            Incident.resolved_at,
            Incident.reopened_count,
            Incident.survey_sent_at,
        ).where(
            Incident.created_at < end,
            or_(
                Incident.created_at >= start,
                Incident.resolved_at >= start,
                Incident.status.in_(OPEN_STATUSES),
                Incident.survey_sent_at >= start,
                Incident.id.in_(answered_in_window),
            ),
        )
    ).all()
    resolved_ids = [r.id for r in rows if r.resolved_at is not None]
    client_messages: dict[int, int] = {}
    for ids in _chunks(resolved_ids):
        client_messages.update(
            (incident_id, messages)
            for incident_id, messages in session.execute(
                select(Message.incident_id, func.count())
                .join(Incident, Incident.id == Message.incident_id)
                .where(
                    Message.incident_id.in_(ids),
                    Message.direction == "in",
                    Message.disposition.in_(CLIENT_DISPOSITIONS),
                    ~Message.reason.startswith(REFUSED_COMMAND),
                    # up to its (latest) resolution: a "thank you" to a closed one is no
                    # second contact; a mail that reopened it came before its resolution
                    Message.received_at <= Incident.resolved_at,
                )
                .group_by(Message.incident_id)
            )
            if incident_id is not None  # a message without an incident is never counted
        )
    answers: dict[int, tuple[int, datetime]] = {}
    for ids in _chunks([r.id for r in rows]):
        answers.update(
            (incident_id, (score, answered_at))
            for incident_id, score, answered_at in session.execute(
                select(
                    SurveyAnswer.incident_id, SurveyAnswer.score, SurveyAnswer.answered_at
                ).where(SurveyAnswer.incident_id.in_(ids))
            )
        )
    return [
        IncidentRecord(
            reference=r.reference,
            category=r.category,
            kind=r.kind,
            status=r.status,
            created_at=r.created_at,
            resolution_due=r.resolution_due,
            acknowledged_at=r.acknowledged_at,
            first_response_at=r.first_response_at,
            resolved_at=r.resolved_at,
            client_messages=client_messages.get(r.id, 1),
            reopened=r.reopened_count or 0,
            survey_sent_at=r.survey_sent_at,
            score=answers[r.id][0] if r.id in answers else None,
            answered_at=answers[r.id][1] if r.id in answers else None,
        )
        for r in rows
    ]


def digest_context(
    config: Config, data: DigestData, language: str, recipient: str | None = None
) -> dict[str, Any]:
    """What the ``digest`` templates see. For a staff member (with ``desk.token_secret_env``
    set), each line's link writes to that incident's secret reply address: a command sent
    through it is authenticated without any header (see ``desk.authentication``)."""
    support = str(config.company.support_address)

    def reply_to(reference: str) -> str:
        personal = staff_reply_address(config, recipient, reference) if recipient else None
        return personal or support

    def kind_label(kind_id: str) -> str:
        return config.kind_label(kind_id, language)

    def item(line: DigestLine) -> dict[str, Any]:
        subject = f"[{line.reference}] {line.subject}"
        return {
            "reference": line.reference,
            "client": line.client,
            "subject": line.subject,
            "category": line.category,
            "kind": line.kind,
            "kind_label": kind_label(line.kind),
            "priority": line.priority,
            "deadline": line.deadline,
            "overdue": line.deadline < data.at and line.status == "open",
            "status": line.status,
            "unsure": line.unsure,
            "team": line.team,
            "handed_at": line.handed_at,
            "late": line.late,
            "action": mailto(reply_to(line.reference), subject),
        }

    limit = config.digest.max_items
    groups = []
    for category in CATEGORY_ORDER:
        lines = [line for line in data.new if line.category == category]
        if not lines:
            continue
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for line in lines[:limit]:
            by_kind.setdefault(kind_label(line.kind), []).append(item(line))
        groups.append(
            {
                "category": category,
                "count": len(lines),
                "more": max(len(lines) - limit, 0),
                "kinds": [{"label": k, "items": v} for k, v in by_kind.items()],
            }
        )
    peak = max((sum(counts.values()) for _, counts in data.chart), default=0)
    return {
        "now": data.at,
        "since": data.since,
        "company": {"name": config.company.name, "support_address": config.company.support_address},
        "new_count": len(data.new),
        "new_groups": groups,
        # A phone screen, not a report: the most pressing lines, and how many more there are.
        **{
            name: [item(line) for line in lines[:limit]]
            for name, lines in (
                ("due_today", data.due_today),
                ("overdue", data.overdue),
                ("waiting", data.waiting),
                ("with_teams", data.with_teams),
                ("unsure", data.unsure),
            )
        },
        "due_today_count": len(data.due_today),
        "overdue_count": len(data.overdue),
        "waiting_count": len(data.waiting),
        "with_teams_count": len(data.with_teams),
        "failing": [asdict(f) for f in data.failing[:limit]],
        "failing_count": len(data.failing),
        "unsure_count": len(data.unsure),
        "open_count": data.open_count,
        "levels": [_levels_context(levels, config.schedule.zone) for levels in data.levels],
        "levels_note": _levels_note(data, config.schedule.zone),
        "chart": [
            {
                "day": day,
                "total": sum(counts.values()),
                "bars": [
                    {
                        "category": c,
                        "count": counts.get(c, 0),
                        "percent": round(100 * counts.get(c, 0) / peak) if peak else 0,
                    }
                    for c in CATEGORY_ORDER
                ],
            }
            for day, counts in data.chart
        ],
        "chart_peak": peak,
    }


def _percent(share: Any) -> int | None:
    ratio = share.ratio
    return None if ratio is None else round(100 * ratio)


def _levels_context(levels: ServiceLevels, zone: tzinfo) -> dict[str, Any]:
    return {
        "label": levels.label,
        # the local days the column covers (its end is the midnight that starts today)
        "first_day": levels.start.astimezone(zone).date(),
        "last_day": (levels.end.astimezone(zone) - timedelta(seconds=1)).date(),
        "opened": levels.opened,
        "acknowledged_percent": _percent(levels.acknowledged_within_minute),
        "first_response_median": levels.first_response_median,
        "first_response_p90": levels.first_response_p90,
        "without_first_response": levels.without_first_response,
        "resolved": levels.resolved,
        "resolved_in_time_percent": _percent(levels.resolved_in_time),
        "first_contact_percent": _percent(levels.first_contact_resolution),
        "reopened_percent": _percent(levels.reopened),
        "satisfaction_average": (
            None if levels.satisfaction_average is None else round(levels.satisfaction_average, 1)
        ),
        "satisfaction_answers": levels.satisfaction_answers,
        "low_scores": levels.low_scores,
        "survey_answered_percent": _percent(levels.survey_answered),
        "backlog": levels.backlog_by_age,
        "by_category": levels.by_category,
    }


def _levels_note(data: DigestData, zone: tzinfo) -> dict[str, Any] | None:
    """Why the service levels are empty or thin: no incident yet (a fresh install), or
    figures only since the first incident, when that is inside the longest period."""
    if data.first_incident_at is None:
        return {"kind": "empty"}
    earliest = min((levels.start for levels in data.levels), default=data.at)
    if data.first_incident_at > earliest:
        return {"kind": "since", "day": data.first_incident_at.astimezone(zone).date()}
    return None


def digest_recipients(config: Config) -> tuple[str, ...]:
    return tuple(config.digest.recipients) or (config.company.distributor_address,)


def preview_digest(
    database: Database, config: Config, renderer: TemplateRenderer, at: datetime
) -> RenderedMail:
    """The digest for ``at`` as it would go out, sending nothing (``digest --preview``)."""
    from maildesk.schedule import build_calendar

    with database.session() as session:
        data = gather_digest(session, config, build_calendar(config.schedule), at)
    return render_digest(renderer, config, data)


def render_digest(
    renderer: TemplateRenderer, config: Config, data: DigestData, recipient: str | None = None
) -> RenderedMail:
    language = config.digest.language
    return renderer.render("digest", language, digest_context(config, data, language, recipient))


def digest_due(config: Config, calendar: BusinessCalendar, now: datetime) -> bool:
    """Is it a business day, past the digest time, and is that day still running?"""
    local = now.astimezone(calendar.zone)
    intervals = calendar.open_intervals(local.date())
    if not intervals:
        return False
    hour, minute = config.digest.hour_minute
    due = datetime.combine(local.date(), time(hour, minute), tzinfo=calendar.zone)
    return due <= now < intervals[-1][1]


def send_digest(
    database: Database,
    config: Config,
    calendar: BusinessCalendar,
    renderer: TemplateRenderer,
    now: datetime,
    *,
    force: bool = False,
) -> list[str]:
    """Queue today's digest for each recipient who has not had it; returns who got it.

    Without ``force`` only when ``digest_due``. The (recipient, day) row and the outbox row
    are one transaction: a second daemon, or a restart, finds the row and sends nothing.
    """
    if not config.digest.enabled and not force:
        return []
    if not force and not digest_due(config, calendar, now):
        return []
    day = now.astimezone(calendar.zone).date().isoformat()
    queued: list[str] = []
    for recipient in digest_recipients(config):
        try:
            with database.session() as session:
                if session.scalar(
                    select(DigestSent.id).where(
                        DigestSent.recipient == recipient, DigestSent.day == day
                    )
                ):
                    continue
                previous = session.scalar(
                    select(func.max(DigestSent.covered_until)).where(
                        DigestSent.recipient == recipient
                    )
                )
                data = gather_digest(session, config, calendar, now, previous)
                outgoing = compose_notice(
                    rendered=render_digest(renderer, config, data, recipient),
                    sender_name=config.company.display_name,
                    sender_address=config.company.support_address,
                    recipients=(recipient,),
                    tag=f"digest-{day}",
                    language=config.digest.language,
                    now=now,
                    zone=calendar.zone,
                )
                session.add(
                    DigestSent(
                        recipient=recipient,
                        day=day,
                        covered_from=data.since,
                        covered_until=now,
                        message_id=outgoing.message_id,
                        created_at=now,
                    )
                )
                session.add(queued_row(outgoing, "digest", now))
        except IntegrityError:
            log.info("digest already queued today", extra={"recipient": recipient, "day": day})
            continue
        queued.append(recipient)
        log.info(
            "digest queued",
            extra={"recipient": recipient, "day": day, "message_id": outgoing.message_id},
        )
    return queued


def sample_lines(
    config: Config, now: datetime, calendar: BusinessCalendar | None = None
) -> Sequence[DigestLine]:
    """Realistic incidents for template previews and checks; with the calendar, their
    deadlines are business hours ahead (the overdue one stays in the past)."""
    prefix = f"{config.company.reference_prefix}-{now.year}"
    known = {k.id: k.category for k in config.kinds}
    first: dict[str, str] = {k.category: k.id for k in reversed(config.kinds)}
    rows = [
        ("000121", "Bar Pepe", "Sin internet desde ayer", "outage", "P1", 2, "open", False),
        ("000122", "Farmacia Gil", "Factura duplicada", "invoice_error", "P3", 30, "open", True),
        ("000123", "Hotel Mar", "Centralita sin desvíos", "pbx_setup", "P2", -3, "open", False),
        (
            "000124",
            "Clínica Sol",
            "Alta de fibra",
            "broadband_provisioning",
            "P3",
            50,
            "waiting",
            False,
        ),
        (
            "000125",
            "Taller Ruiz",
            "Quiero dar de baja una línea",
            "cancellation",
            "P4",
            70,
            "open",
            True,
        ),
    ]
    categories = {
        "outage": "technical",
        "invoice_error": "billing",
        "pbx_setup": "technical",
        "broadband_provisioning": "technical",
        "cancellation": "other",
    }
    return [
        DigestLine(
            reference=f"{prefix}-{number}",
            client=client,
            subject=subject,
            category=categories[kind],
            kind=kind if kind in known else first.get(categories[kind], config.kinds[0].id),
            priority=priority,
            deadline=(
                calendar.add(now, timedelta(hours=hours))
                if calendar is not None and hours > 0
                else now + timedelta(hours=hours)
            ),
            status=status,
            unsure=unsure,
            created_at=now - timedelta(hours=10),
        )
        for number, client, subject, kind, priority, hours, status, unsure in rows
    ]
