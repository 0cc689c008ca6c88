"""``maildesk report clients``: per client and month, the incidents, the time logged, what
it cost (hours at each person's rate, plus operator visits) and the kinds of incident."""

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
from maildesk.db.tables import Incident, TimeEntry


@dataclass
class ClientMonth:
    client: str
    incidents: int = 0
    minutes: int = 0
    time_cost: float = 0.0
    visits: int = 0
    visit_cost: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)

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
    """Incidents opened in the month, and the time and visits logged in it, per client."""
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
    for address, row in rows.items():
        row.kinds = dict(sorted(kinds[address].items()))
        row.time_cost = round(row.time_cost, 2)
        row.visit_cost = round(row.visit_cost, 2)
    return sorted(rows.values(), key=lambda r: (-r.total_cost, r.client))


def _hours(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}"


def format_clients(month: str, rows: list[ClientMonth]) -> str:
    if not rows:
        return f"{month}: no incidents and no time logged"
    width = max(len(r.client) for r in rows)
    lines = [
        f"{'client':<{width}}  incidents   time   time €  visits  visits €   total €  kinds",
    ]
    for r in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in r.kinds.items()) or "—"
        lines.append(
            f"{r.client:<{width}}  {r.incidents:>9}  {_hours(r.minutes):>5}  {r.time_cost:>7.2f}"
            f"  {r.visits:>6}  {r.visit_cost:>8.2f}  {r.total_cost:>8.2f}  {kinds}"
        )
    total = sum(r.total_cost for r in rows)
    lines.append(f"{'total':<{width}}  {sum(r.incidents for r in rows):>9}  "
                 f"{_hours(sum(r.minutes for r in rows)):>5}  {'':>7}  {'':>6}  {'':>8}  "
                 f"{total:>8.2f}")  # fmt: skip
    return "\n".join(lines)


def clients_json(month: str, rows: list[ClientMonth]) -> str:
    return json.dumps(
        {"month": month, "clients": [{**asdict(r), "total_cost": r.total_cost} for r in rows]},
        ensure_ascii=False,
    )


def clients_csv(rows: list[ClientMonth]) -> str:
    """For the accountant: one row per client, euros with a dot, minutes as a number."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client", "incidents", "minutes", "time_cost_eur", "visits",
                     "visit_cost_eur", "total_cost_eur", "kinds"])  # fmt: skip
    for r in rows:
        writer.writerow([r.client, r.incidents, r.minutes, f"{r.time_cost:.2f}", r.visits,
                         f"{r.visit_cost:.2f}", f"{r.total_cost:.2f}",
                         "; ".join(f"{k}={n}" for k, n in r.kinds.items())])  # fmt: skip
    return out.getvalue()
