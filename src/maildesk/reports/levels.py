"""Service levels: pure functions of incident records, a period and the business calendar.

Definitions (also in the README):
- *acknowledged within 1 minute*: incidents opened in the period whose acknowledgement was
  accepted by the SMTP server at most 60 s after the mail arrived, over incidents opened;
- *time to first human response*: business time from arrival to the first action of a person
  on the incident (status, triage, note); median and 90th percentile (nearest rank) over the
  incidents opened in the period that have one; those still without one are counted apart;
- *resolved within deadline*: incidents resolved (or closed) in the period whose resolution
  came no later than their resolution deadline, over incidents resolved in the period;
- *first-contact resolution*: incidents resolved in the period with a single client mail
  (the client's own mails up to the resolution: not the staff's command mails, the teams'
  answers, bounces nor survey answers), over incidents resolved in the period;
- *reopen rate*: incidents resolved in the period (their latest resolution) that had been
  brought back at least once from resolved or closed (the client writing again, or a person
  reopening it), over incidents resolved in the period; one reopened and not yet resolved
  again has no resolution, and counts when it is resolved again;
- *satisfaction*: the average of the scores (1–5) answered in the period, how many, and how
  many were 1 or 2; the latest answer of an incident counts;
- *surveys answered*: incidents whose resolution notice asked for a score in the period and
  whose client answered it before the period's end, over those surveys;
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
    client_messages: int = 1  # the client's own mails up to the resolution
    reopened: int = 0  # times brought back after a resolution
    survey_sent_at: datetime | None = None  # the resolution notice that asked for a score
    score: int | None = None  # the client's latest answer (1–5) ...
    answered_at: datetime | None = None  # ... and when it came


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
    reopened: Share  # of the incidents resolved, those reopened at least once
    satisfaction_average: float | None  # of the scores answered in the period
    satisfaction_answers: int
    low_scores: int  # answers of 1 or 2
    survey_answered: Share  # of the surveys sent in the period, those answered by its end
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


def _answered(record: IncidentRecord, end: datetime) -> bool:
    """Its survey was answered before ``end`` (an answer older than the survey was to an
    earlier one, before the incident was reopened and resolved again)."""
    return (
        record.answered_at is not None
        and record.survey_sent_at is not None
        and record.survey_sent_at <= record.answered_at < end
    )


def service_levels(
    records: Iterable[IncidentRecord],
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar,
    zone: tzinfo,
    label: str = "",
) -> ServiceLevels:
    """The service levels of the period [start, end)."""
    records = list(records)  # read more than once
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
    scores = [
        r.score
        for r in records
        if r.score is not None and r.answered_at is not None and start <= r.answered_at < end
    ]
    surveyed = [
        r for r in records if r.survey_sent_at is not None and start <= r.survey_sent_at < end
    ]
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
        reopened=Share(sum(1 for r in resolved if r.reopened > 0), len(resolved)),
        satisfaction_average=statistics.fmean(scores) if scores else None,
        satisfaction_answers=len(scores),
        low_scores=sum(1 for score in scores if score <= 2),
        survey_answered=Share(
            sum(1 for r in surveyed if _answered(r, end)),
            len(surveyed),
        ),
        backlog_by_age={name: backlog.get(name, 0) for name, _ in BACKLOG_BUCKETS},
        by_category=dict(Counter(r.category for r in opened).most_common()),
        by_kind=dict(Counter(r.kind for r in opened).most_common()),
        by_weekday=dict(sorted(Counter(t.weekday() for t in local).items())),
        by_hour=dict(sorted(Counter(t.hour for t in local).items())),
    )


# ---- as a person and a script read them ----------------------------------------------------

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_DATA = "—"  # every figure without data is shown so, with why in brackets


def duration_text(value: timedelta | None) -> str:
    """``1 h 05 min``, ``45 min``, ``2 d 3 h`` (calendar days of business time: 24 h)."""
    if value is None:
        return NO_DATA
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def share_text(share: Share, none_because: str) -> str:
    if share.ratio is None:
        return f"{NO_DATA} ({none_because})"
    return f"{100 * share.ratio:.1f} %  ({share.count} of {share.total})"


def _counts(counts: Iterable[tuple[str, int]]) -> str:
    text = " · ".join(f"{name} {count}" for name, count in counts)
    return text or f"{NO_DATA} (none)"


def satisfaction_text(levels: ServiceLevels) -> str:
    """``4.2 average of 12 answers (1 scored 1 or 2); 60.0 %  (12 of 20) of surveys
    answered``, each half ``—`` with why when there is nothing to count."""
    if levels.satisfaction_average is None:
        scores = f"{NO_DATA} (no answers)"
    else:
        answers = levels.satisfaction_answers
        scores = (
            f"{levels.satisfaction_average:.1f} average of {answers} "
            f"answer{'' if answers == 1 else 's'} ({levels.low_scores} scored 1 or 2)"
        )
    if levels.survey_answered.ratio is None:
        return f"{scores}; {NO_DATA} (no surveys sent)"
    return f"{scores}; {share_text(levels.survey_answered, '')} of surveys answered"


def format_levels(levels: ServiceLevels, zone: tzinfo) -> str:
    """``maildesk report levels``: one figure a line, local time, units spelled out."""
    start, end = levels.start.astimezone(zone), levels.end.astimezone(zone)
    first = duration_text(levels.first_response_median)
    if levels.first_response_median is not None:
        first += f"  (p90 {duration_text(levels.first_response_p90)})"
    elif levels.opened:
        first += " (no person has answered yet)"
    else:
        first += " (nothing came in)"
    if levels.without_first_response and levels.first_response_median is not None:
        first += f"; {levels.without_first_response} still without one"
    rows = [
        ("Incidents opened", str(levels.opened)),
        (
            "Acknowledged within 1 minute",
            share_text(levels.acknowledged_within_minute, "nothing came in"),
        ),
        ("First human response, median", first),
        ("Resolved", str(levels.resolved)),
        ("Resolved in time", share_text(levels.resolved_in_time, "none resolved")),
        (
            "First-contact resolution",
            share_text(levels.first_contact_resolution, "none resolved"),
        ),
        ("Reopened", share_text(levels.reopened, "none resolved")),
        ("Satisfaction (1–5)", satisfaction_text(levels)),
        ("Open at the end, by age", _counts(levels.backlog_by_age.items())),
        ("Opened by category", _counts(sorted(levels.by_category.items()))),
        ("Opened by kind", _counts(sorted(levels.by_kind.items()))),
        (
            "Opened by weekday",
            _counts((WEEKDAY_NAMES[d], n) for d, n in sorted(levels.by_weekday.items())),
        ),
        ("Opened by hour", _counts((f"{h:02d}h", n) for h, n in sorted(levels.by_hour.items()))),
    ]
    title = (
        f"Service levels, {levels.label}: {start:%a %d %b %Y %H:%M} → {end:%a %d %b %Y %H:%M} "
        f"({zone}); business time for responses"
    )
    return "\n".join([title, *(f"  {name:<30} {value}" for name, value in rows)])


def minutes(value: timedelta | None) -> float | None:
    """A duration for scripts: minutes to a tenth, ``None`` without data."""
    return None if value is None else round(value.total_seconds() / 60, 1)


def levels_json(levels: ServiceLevels, zone: tzinfo) -> dict[str, object]:
    """The same figures for scripts: shares as count/total/ratio, durations in minutes,
    instants in local time to the second; ``null`` where there is no data."""

    def share(value: Share) -> dict[str, object]:
        ratio = value.ratio
        return {"count": value.count, "total": value.total,
                "ratio": None if ratio is None else round(ratio, 4)}  # fmt: skip

    return {
        "label": levels.label,
        "start": levels.start.astimezone(zone).isoformat(timespec="seconds"),
        "end": levels.end.astimezone(zone).isoformat(timespec="seconds"),
        "opened": levels.opened,
        "acknowledged_within_1_min": share(levels.acknowledged_within_minute),
        "first_response_median_minutes": minutes(levels.first_response_median),
        "first_response_p90_minutes": minutes(levels.first_response_p90),
        "without_first_response": levels.without_first_response,
        "resolved": levels.resolved,
        "resolved_in_time": share(levels.resolved_in_time),
        "first_contact_resolution": share(levels.first_contact_resolution),
        "reopened": share(levels.reopened),
        "satisfaction": {
            "average": None
            if levels.satisfaction_average is None
            else round(levels.satisfaction_average, 2),
            "answers": levels.satisfaction_answers,
            "low_scores": levels.low_scores,
            "surveys_answered": share(levels.survey_answered),
        },
        "backlog_by_age": levels.backlog_by_age,
        "by_category": levels.by_category,
        "by_kind": levels.by_kind,
        "by_weekday": {WEEKDAY_NAMES[d]: n for d, n in sorted(levels.by_weekday.items())},
        "by_hour": {f"{h:02d}": n for h, n in sorted(levels.by_hour.items())},
    }


# ---- the teams incidents are handed to ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    team: str
    created_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class TeamLevels:
    team: str
    handed: int  # handed off in the period
    answered: int
    median: timedelta | None  # business time from hand-off to the team's first answer
    p90: timedelta | None
    waiting: int  # not answered at the end of the period
    late: int  # answered after the target, or waiting longer than it
    target: timedelta | None


def team_levels(
    handoffs: Iterable[HandoffRecord],
    end: datetime,
    calendar: BusinessCalendar,
    targets: dict[str, timedelta],
) -> list[TeamLevels]:
    """Per team: how fast it answered the incidents handed to it (pure, as the rest)."""
    by_team: dict[str, list[HandoffRecord]] = {}
    for record in handoffs:
        by_team.setdefault(record.team, []).append(record)
    result = []
    for team, records in sorted(by_team.items()):
        target = targets.get(team)
        times = [
            calendar.elapsed(r.created_at, r.answered_at)
            for r in records
            if r.answered_at is not None and r.answered_at <= end
        ]
        open_ages = [
            calendar.elapsed(r.created_at, end)
            for r in records
            if r.answered_at is None or r.answered_at > end
        ]
        late = 0 if target is None else sum(t > target for t in [*times, *open_ages])
        result.append(
            TeamLevels(
                team,
                len(records),
                len(times),
                median(times),
                nearest_rank(times, 0.9),
                len(open_ages),
                late,
                target,
            )
        )
    return result


def format_team_levels(teams: Sequence[TeamLevels]) -> str:
    if not teams:
        return f"Hand-offs to the teams: {NO_DATA} (none in the period)"
    lines = ["Hand-offs to the teams (business time to their first answer)"]
    for t in teams:
        target = f"the {duration_text(t.target)} target" if t.target else "no target"
        lines.append(
            f"  {t.team:<30} {t.handed} handed, {t.answered} answered: median "
            f"{duration_text(t.median)}, p90 {duration_text(t.p90)}; {t.waiting} waiting; "
            f"{t.late} past {target}"
        )
    return "\n".join(lines)


def team_levels_json(teams: Sequence[TeamLevels]) -> dict[str, object]:
    return {
        t.team: {
            "handed": t.handed,
            "answered": t.answered,
            "median_minutes": minutes(t.median),
            "p90_minutes": minutes(t.p90),
            "waiting": t.waiting,
            "late": t.late,
            "target_minutes": minutes(t.target),
        }
        for t in teams
    }
