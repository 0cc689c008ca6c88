"""Service levels: pure functions of incident records, a period and the business calendar.

Definitions (also in the README):
- *acknowledged within 1 minute*: incidents opened in the period whose acknowledgement was
  accepted by the SMTP server at most 60 s after the mail arrived, over incidents opened;
- *time to first human response*: business time from arrival to the first action of a person
  on the incident (status, triage, note); median and 90th percentile (nearest rank) over the
  incidents opened in the period that have one; those still without one are counted apart;
- *resolved within deadline*: incidents resolved (or closed) in the period whose resolution
  came no later than their resolution deadline, over incidents resolved in the period;
- *first-contact resolution*: incidents resolved in the period with a single client mail;
- *backlog by age*: incidents not resolved nor closed at the end of the period, by the
  calendar time since they arrived (< 1 day, 1–3 days, 3–7 days, > 7 days);
- *volume*: incidents opened in the period by category, kind, weekday and hour (local time).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from maildesk.businesstime import BusinessCalendar

ACK_WITHIN = timedelta(minutes=1)
BACKLOG_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("< 1 d", timedelta(days=1)),
    ("1–3 d", timedelta(days=3)),
    ("3–7 d", timedelta(days=7)),
    ("> 7 d", timedelta.max),
)
OPEN_STATUSES = frozenset({"open", "waiting"})


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """What the service levels need to know of one incident."""

    reference: str
    category: str
    kind: str
    status: str
    created_at: datetime
    resolution_due: datetime
    acknowledged_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    client_messages: int = 1


@dataclass(frozen=True, slots=True)
class Share:
    count: int
    total: int

    @property
    def ratio(self) -> float | None:
        return self.count / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    label: str
    start: datetime
    end: datetime
    opened: int
    acknowledged_within_minute: Share
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    without_first_response: int
    resolved: int
    resolved_in_time: Share
    first_contact_resolution: Share
    backlog_by_age: dict[str, int]
    by_category: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_weekday: dict[int, int] = field(default_factory=dict)  # 0 = Monday
    by_hour: dict[int, int] = field(default_factory=dict)


def nearest_rank(values: Sequence[timedelta], share: float) -> timedelta | None:
    """The value at rank ceil(share × n) of the sorted values (nearest-rank percentile)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def service_levels(
    records: Iterable[IncidentRecord],
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar,
    zone: tzinfo,
    label: str = "",
) -> ServiceLevels:
    """The service levels of the period [start, end)."""
    opened, resolved, backlog = [], [], Counter[str]()
    for record in records:
        if start <= record.created_at < end:
            opened.append(record)
        if record.resolved_at is not None and start <= record.resolved_at < end:
            resolved.append(record)
        still_open = record.status in OPEN_STATUSES or (
            record.resolved_at is not None and record.resolved_at >= end
        )
        if record.created_at < end and still_open:
            age = end - record.created_at
            backlog[next(name for name, limit in BACKLOG_BUCKETS if age < limit)] += 1
    acknowledged = sum(
        1
        for r in opened
        if r.acknowledged_at is not None and r.acknowledged_at - r.created_at <= ACK_WITHIN
    )
    responses = [
        calendar.elapsed(r.created_at, r.first_response_at)
        for r in opened
        if r.first_response_at is not None
    ]
    local = [r.created_at.astimezone(zone) for r in opened]
    return ServiceLevels(
        label=label,
        start=start,
        end=end,
        opened=len(opened),
        acknowledged_within_minute=Share(acknowledged, len(opened)),
        first_response_median=median(responses),
        first_response_p90=nearest_rank(responses, 0.9),
        without_first_response=len(opened) - len(responses),
        resolved=len(resolved),
        resolved_in_time=Share(
            sum(1 for r in resolved if r.resolved_at and r.resolved_at <= r.resolution_due),
            len(resolved),
        ),
        first_contact_resolution=Share(
            sum(1 for r in resolved if r.client_messages <= 1), len(resolved)
        ),
        backlog_by_age={name: backlog.get(name, 0) for name, _ in BACKLOG_BUCKETS},
        by_category=dict(Counter(r.category for r in opened).most_common()),
        by_kind=dict(Counter(r.kind for r in opened).most_common()),
        by_weekday=dict(sorted(Counter(t.weekday() for t in local).items())),
        by_hour=dict(sorted(Counter(t.hour for t in local).items())),
    )
