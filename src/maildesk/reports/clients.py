"""``maildesk report clients``: per client and month, the incidents, the time logged, what
it cost (hours at each person's rate, plus operator visits), the kinds of incident and how
satisfied the client was.

Satisfaction is that of the incidents opened in the month, as the incident count and the
kinds are: the average of their clients' scores (1–5, the latest answer of each incident)
and how many answered, whenever the answer came (a month's figure can still grow while its
late incidents are resolved and rated)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.db.tables import Incident, SurveyAnswer, TimeEntry


@dataclass
class ClientMonth:
    client: str
    incidents: int = 0
    minutes: int = 0
    time_cost: float = 0.0
    visits: int = 0
    visit_cost: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    satisfaction_average: float | None = None  # of the incidents opened in the month (unrounded)
    satisfaction_answers: int = 0

    @property
    def total_cost(self) -> float:
        return round(self.time_cost + self.visit_cost, 2)


def month_bounds(month: str, config: Config) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``YYYY-MM`` in the schedule's zone."""
    year, number = (int(part) for part in month.split("-"))
    start = date(year, number, 1)
    end = date(year + (number == 12), number % 12 + 1, 1)
    zone = config.schedule.zone
    return datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone)


def client_months(session: Session, config: Config, month: str) -> list[ClientMonth]:
    """Incidents opened in the month (and their clients' scores), and the time and visits
    logged in it, per client."""
    start, end = month_bounds(month, config)
    rows: dict[str, ClientMonth] = {}
    kinds: dict[str, Counter[str]] = defaultdict(Counter)

    def of(client: str) -> ClientMonth:
        return rows.setdefault(client, ClientMonth(client))

    for address, kind in session.execute(
        select(Incident.client_address, Incident.kind).where(
            Incident.created_at >= start, Incident.created_at < end
        )
    ):
        of(address).incidents += 1
        kinds[address][kind] += 1
    for address, entry in session.execute(
        select(Incident.client_address, TimeEntry)
        .join(Incident, Incident.id == TimeEntry.incident_id)
        .where(TimeEntry.at >= start, TimeEntry.at < end)
    ):
        row = of(address)
        if entry.kind == "visit":
            row.visits += 1
            row.visit_cost += entry.cost_cents / 100
        else:
            row.minutes += entry.minutes
            row.time_cost += entry.minutes / 60 * config.desk.hourly_cost_of(entry.actor)
    scores: dict[str, list[int]] = defaultdict(list)
    for address, score in session.execute(
        select(Incident.client_address, SurveyAnswer.score)
        .join(SurveyAnswer, SurveyAnswer.incident_id == Incident.id)
        .where(Incident.created_at >= start, Incident.created_at < end)
    ):
        scores[address].append(score)
    for address, row in rows.items():
        row.kinds = dict(sorted(kinds[address].items()))
        if scores[address]:
            row.satisfaction_answers = len(scores[address])
            row.satisfaction_average = sum(scores[address]) / len(scores[address])
        row.time_cost = round(row.time_cost, 2)
        row.visit_cost = round(row.visit_cost, 2)
    return sorted(rows.values(), key=lambda r: (-r.total_cost, r.client))


def _hours(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}"


def _satisfaction(row: ClientMonth) -> str:
    """``4.5 (2)``: the average score and how many answered; ``—`` without answers."""
    if row.satisfaction_average is None:
        return "—"
    return f"{row.satisfaction_average:.1f} ({row.satisfaction_answers})"


def format_clients(month: str, rows: list[ClientMonth]) -> str:
    if not rows:
        return f"{month}: no incidents and no time logged"
    width = max(len(r.client) for r in rows)
    lines = [
        f"{'client':<{width}}  incidents   time   time €  visits  visits €   total €"
        "  satisfaction  kinds",
    ]
    for r in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in r.kinds.items()) or "—"
        lines.append(
            f"{r.client:<{width}}  {r.incidents:>9}  {_hours(r.minutes):>5}  {r.time_cost:>7.2f}"
            f"  {r.visits:>6}  {r.visit_cost:>8.2f}  {r.total_cost:>8.2f}"
            f"  {_satisfaction(r):>12}  {kinds}"
        )
    total = sum(r.total_cost for r in rows)
    lines.append(f"{'total':<{width}}  {sum(r.incidents for r in rows):>9}  "
                 f"{_hours(sum(r.minutes for r in rows)):>5}  {'':>7}  {'':>6}  {'':>8}  "
                 f"{total:>8.2f}")  # fmt: skip
    return "\n".join(lines)


def _json_row(row: ClientMonth) -> dict[str, object]:
    average = row.satisfaction_average
    return {
        **asdict(row),
        "satisfaction_average": None if average is None else round(average, 2),
        "total_cost": row.total_cost,
    }


def clients_json(month: str, rows: list[ClientMonth]) -> str:
    return json.dumps(
        {"month": month, "clients": [_json_row(r) for r in rows]},
        ensure_ascii=False,
    )


def clients_csv(rows: list[ClientMonth]) -> str:
    """For the accountant: one row per client, euros with a dot, minutes as a number; the
    satisfaction columns last (the average to two decimals, empty without answers)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client", "incidents", "minutes", "time_cost_eur", "visits",
                     "visit_cost_eur", "total_cost_eur", "kinds", "satisfaction_average",
                     "satisfaction_answers"])  # fmt: skip
    for r in rows:
        writer.writerow([r.client, r.incidents, r.minutes, f"{r.time_cost:.2f}", r.visits,
                         f"{r.visit_cost:.2f}", f"{r.total_cost:.2f}",
                         "; ".join(f"{k}={n}" for k, n in r.kinds.items()),
                         "" if r.satisfaction_average is None else f"{r.satisfaction_average:.2f}",
                         r.satisfaction_answers])  # fmt: skip
    return out.getvalue()
