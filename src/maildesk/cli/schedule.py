"""`maildesk schedule …`: the week, the openings and business-time deadlines."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from maildesk.cli.common import (
    UsageError,
    parse_instant,
)
from maildesk.config import Config


def register(sub: Any) -> None:
    schedule = sub.add_parser(
        "schedule",
        help="the service schedule: week, holidays, openings, deadlines",
        description="The service schedule from the configuration (times in its time zone).",
    )
    ssub = schedule.add_subparsers(dest="action", metavar="ACTION", required=True)
    sshow = ssub.add_parser(
        "show",
        help="the weekly hours and the coming closed days",
        description="The weekly hours and the closed days ahead.",
    )
    sshow.add_argument("--days", type=int, default=120, help="how far ahead (default 120)")
    sshow.add_argument("--at", metavar="ISO", help="from this instant instead of now")
    sshow.set_defaults(handler=cmd_schedule_show)
    snext = ssub.add_parser(
        "next-open",
        help="when the office is next open",
        description="The next instant at which the office is open (the instant itself when open).",
    )
    snext.add_argument("--at", metavar="ISO", help="from this instant instead of now")
    snext.set_defaults(handler=cmd_schedule_next_open)
    sdue = ssub.add_parser(
        "due",
        help="the instant N business minutes after a start",
        description="Print, as ISO 8601 with offset in the schedule's "
        "time zone, the instant at which N business minutes have elapsed.",
    )
    sdue.add_argument(
        "--from",
        dest="start",
        metavar="ISO",
        required=True,
        help="start instant, e.g. 2026-11-27T19:30:00+01:00",
    )
    sdue.add_argument("--minutes", type=float, required=True, help="business minutes")
    sdue.set_defaults(handler=cmd_schedule_due)


def cmd_schedule_show(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar, describe_schedule

    print(
        describe_schedule(
            config.schedule,
            build_calendar(config.schedule),
            parse_instant(args.at, config),
            args.days,
        )
    )
    return 0


def cmd_schedule_next_open(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar

    opening = build_calendar(config.schedule).next_opening(parse_instant(args.at, config))
    print(opening.astimezone(config.schedule.zone).isoformat())
    return 0


def cmd_schedule_due(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar

    if args.minutes < 0:
        raise UsageError("--minutes must be zero or more")
    due = build_calendar(config.schedule).add(
        parse_instant(args.start, config), timedelta(minutes=args.minutes)
    )
    print(due.astimezone(config.schedule.zone).isoformat())
    return 0
