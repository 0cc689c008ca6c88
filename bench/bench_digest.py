"""How long the morning digest takes to build on a large database.

Fills a fresh SQLite database with 10,000 open incidents and 100,000 resolved ones (spread
over two years, one client message each, a share of them with a second), then times
``gather_digest`` + rendering (text and HTML) for a Tuesday 8:45, as the daemon does.

Run: ``python bench/bench_digest.py [--open 10000] [--closed 100000] [--repeat 3]``.
Target: <= 1 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from maildesk.config import load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, Message
from maildesk.outbound.render import TemplateRenderer
from maildesk.reports.digest import gather_digest, render_digest
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import write_offline_config

AT = datetime(2026, 11, 24, 7, 45, tzinfo=UTC)  # Tuesday 8:45 in Madrid


def fill(database: Database, kinds: Sequence[tuple[str, str]], open_: int, closed: int) -> None:
    rng = random.Random(2026)
    incidents, messages = [], []
    for number in range(1, open_ + closed + 1):
        is_open = number <= open_
        span = 40 if is_open else 730
        created = AT - timedelta(minutes=rng.randrange(1, span * 24 * 60))
        kind, category = rng.choice(kinds)
        due = created + timedelta(hours=rng.choice((8, 16, 24, 48)))
        resolved = None if is_open else created + timedelta(hours=rng.uniform(1, 60))
        incidents.append(
            {
                "id": number,
                "reference": f"MD-{created.year}-{number:06d}",
                "status": rng.choice(("open", "open", "open", "waiting"))
                if is_open
                else "resolved",
                "category": category,
                "category_confidence": 0.9,
                "category_reason": "bench",
                "unsure": rng.random() < 0.03,
                "kind": kind,
                "kind_reason": "bench",
                "priority": rng.choice(("P1", "P2", "P3", "P4")),
                "priority_reason": "bench",
                "language": "es",
                "client_address": f"cliente{number % 3000}@clientes.test",
                "client_name": f"Cliente {number % 3000}",
                "subject": f"Incidencia de prueba número {number}",
                "first_response_due": created + timedelta(hours=2),
                "resolution_due": due,
                "deadline_reason": "bench",
                "created_at": created,
                "updated_at": created,
                "acknowledged_at": created + timedelta(seconds=rng.uniform(2, 90)),
                "first_response_at": created + timedelta(minutes=rng.uniform(5, 600)),
                "resolved_at": resolved,
                "paused_seconds": 0,
                "arrived_out_of_hours": False,
            }
        )
        for extra in range(1 + (rng.random() < 0.2)):
            messages.append(
                {
                    "incident_id": number,
                    "direction": "in",
                    "dedup_key": f"mid:{number}.{extra}@bench",
                    "message_id": f"{number}.{extra}@bench",
                    "disposition": "new_incident" if extra == 0 else "followup",
                    "reason": "",
                    "from_address": f"cliente{number % 3000}@clientes.test",
                    "from_name": "",
                    "to_addresses": "",
                    "subject": "",
                    "body_text": "",
                    "clean_text": "",
                    "attachments": {"files": []},
                    "defects": "",
                    "size": 1000,
                    "sha256": "",
                    "mailbox": "INBOX",
                    "uidvalidity": 1,
                    "uid": number * 2 + extra,
                    "received_at": created,
                }
            )
    with database.session() as session:
        for start in range(0, len(incidents), 5000):
            session.execute(insert(Incident), incidents[start : start + 5000])
        for start in range(0, len(messages), 5000):
            session.execute(insert(Message), messages[start : start + 5000])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maildesk-bench-digest-") as tmp:
        config = load_config(write_offline_config(Path(tmp), digest=True))
        database = Database(config.database.url)
        database.migrate()
        start = time.perf_counter()
        fill(database, [(k.id, k.category) for k in config.kinds], args.open, args.closed)
        filled = time.perf_counter() - start
        calendar = build_calendar(config.schedule)
        renderer = TemplateRenderer(config.templates_dir, timezone=config.schedule.timezone)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            with database.session() as session:
                data = gather_digest(session, config, calendar, AT)
            rendered = render_digest(renderer, config, data)
            times.append(time.perf_counter() - start)
        best, worst = min(times), max(times)
        print(
            f"maildesk digest benchmark — {args.open:,} open + {args.closed:,} resolved "
            f"incidents in SQLite (filled in {filled:.1f} s)"
        )
        print(
            f"  digest built and rendered          {best:.3f} s best, {worst:.3f} s worst of "
            f"{args.repeat}  target <= 1 s  {'PASS' if worst <= 1.0 else 'MISS'}"
        )
        print(
            f"  content: {len(data.new)} new, {len(data.due_today)} due today, "
            f"{len(data.overdue)} overdue, {len(data.waiting)} waiting, {len(data.unsure)} "
            f"unsure; 30-day levels over {data.levels[2].opened} opened, "
            f"{data.levels[2].resolved} resolved; HTML {len(rendered.html) / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
