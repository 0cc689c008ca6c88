"""`maildesk digest` and `maildesk report levels`: what the distributor reads."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from maildesk.cli.common import (
    make_renderer,
    open_database,
    parse_instant,
    show_rendered,
)
from maildesk.config import Config


def register(sub: Any) -> None:
    digest = sub.add_parser(
        "digest",
        help="the morning digest: preview it or send it now",
        description="Render the distributor's digest for an instant without sending it "
        "(--preview), or queue it now and deliver it (--send). The daemon sends it by itself "
        "on business days at digest.time.",
    )
    mode = digest.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="print the text part; send nothing")
    mode.add_argument("--send", action="store_true", help="queue it now and deliver the outbox")
    digest.add_argument("--at", help="instant to render for (ISO, default now)")
    digest.add_argument("--html", type=Path, metavar="FILE", help="also write the HTML part here")
    digest.set_defaults(handler=cmd_digest)

    report = sub.add_parser(
        "report", help="service-level reports", description="Service-level reports."
    )
    rsub = report.add_subparsers(dest="action", metavar="ACTION", required=True)
    rlevels = rsub.add_parser(
        "levels",
        help="service levels as a table",
        description="Share acknowledged within 1 minute, time to first human response, "
        "share resolved in time, first-contact resolution, backlog by age (see README).",
    )
    rlevels.add_argument("--days", type=int, default=30, help="period: the last N days (30)")
    rlevels.add_argument("--at", help="end of the period (ISO, default now)")
    rlevels.add_argument("--json", action="store_true", help="JSON for scripts")
    rlevels.set_defaults(handler=cmd_report_levels)
    rclients = rsub.add_parser(
        "clients",
        help="per client: incidents, time, cost and kinds in a month",
        description="Per client, for one month: incidents opened, time logged (at each "
        "person's hourly cost, desk.staff / desk.hourly_cost), operator visits and their "
        "cost, and the kinds of incident.",
    )
    rclients.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    form = rclients.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON for scripts")
    form.add_argument("--csv", action="store_true", help="CSV for the accountant")
    rclients.set_defaults(handler=cmd_report_clients)


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    from maildesk.clock import SystemClock
    from maildesk.reports.digest import digest_recipients, preview_digest
    from maildesk.runtime.daemon import send_digest_now

    database = open_database(config)
    at = parse_instant(args.at, config)
    if args.preview:
        show_rendered(preview_digest(database, config, make_renderer(config), at), args.html)
        return 0
    queued, result = send_digest_now(config, SystemClock(), at, database)
    if result is None:
        print(f"digest already sent today to {', '.join(digest_recipients(config))}")
        return 0
    print(f"digest queued for {', '.join(queued)}; sent {result.sent}, retrying {result.retried}")
    return 0 if result.failed == 0 else 1


def cmd_report_levels(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.digest import handoff_records, incident_records
    from maildesk.reports.levels import (
        format_levels,
        format_team_levels,
        levels_json,
        service_levels,
        team_levels,
        team_levels_json,
    )
    from maildesk.schedule import build_calendar

    calendar = build_calendar(config.schedule)
    end = parse_instant(args.at, config)
    start = end - timedelta(days=args.days)
    with open_database(config).session() as session:
        records = incident_records(session, start, end)
        handed = handoff_records(session, start, end)
    levels = service_levels(records, start, end, calendar, calendar.zone, f"{args.days} days")
    teams = team_levels(handed, end, calendar, config.team_targets())
    if args.json:
        data = levels_json(levels, calendar.zone) | {"teams": team_levels_json(teams)}
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_levels(levels, calendar.zone))
        print(format_team_levels(teams))
    return 0


def cmd_report_clients(args: argparse.Namespace, config: Config) -> int:
    import re

    from maildesk.cli.common import UsageError
    from maildesk.reports.clients import client_months, clients_csv, clients_json, format_clients

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise UsageError(f"--month {args.month!r}: expected YYYY-MM, e.g. 2026-11")
    with open_database(config).session() as session:
        rows = client_months(session, config, args.month)
    if args.json:
        print(clients_json(args.month, rows))
    elif args.csv:
        print(clients_csv(rows), end="")
    else:
        print(format_clients(args.month, rows))
    return 0
