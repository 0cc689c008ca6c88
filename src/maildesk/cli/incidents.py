"""`maildesk incidents …` and `maildesk quarantine list`: what came in."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from maildesk.cli.common import UsageError, make_renderer, open_database, parse_instant
from maildesk.config import Config


def register(sub: Any) -> None:
    incidents = sub.add_parser(
        "incidents", help="list and inspect incidents", description="List and inspect incidents."
    )
    isub = incidents.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = isub.add_parser(
        "list",
        help="a table of incidents, newest first",
        description="A table of incidents, newest first.",
    )
    listing.add_argument("--status", help="only this status (open, waiting, resolved, closed)")
    listing.add_argument("--search", help="text in the subject or the client's address")
    listing.add_argument(
        "--unsure",
        action="store_true",
        help="only incidents the classifier was unsure about (shown with '?'): check their "
        "category with 'incidents set'",
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="a JSON array for scripts")
    listing.set_defaults(handler=cmd_incidents_list)
    show = isub.add_parser(
        "show",
        help="one incident with its messages, replies and history",
        description="One incident with its messages, replies and history.",
    )
    show.add_argument("reference", help="e.g. MD-2026-000123")
    show.add_argument("--json", action="store_true", help="JSON for scripts")
    show.set_defaults(handler=cmd_incidents_show)

    setter = isub.add_parser(
        "set",
        help="change status, priority, kind or category (deadlines follow)",
        description="Change an incident. Waiting on the client pauses the resolution clock; "
        "leaving 'waiting' moves the deadline by the paused business time. A new kind or "
        "priority recomputes both deadlines from arrival.",
    )
    setter.add_argument("reference", help="e.g. MD-2026-000123")
    setter.add_argument("--status", choices=("open", "waiting", "resolved", "closed"))
    setter.add_argument("--priority", choices=("P1", "P2", "P3", "P4"))
    setter.add_argument("--kind", help="an incident kind id from the catalogue")
    setter.add_argument("--category", choices=("technical", "billing", "other"))
    setter.add_argument("--note", default="", help="why (kept in the incident's history)")
    setter.set_defaults(handler=cmd_incidents_set)

    # The mail commands, from the command line: one parser and one set of rules for both.
    for verb, words, what in (
        ("resolve", "[TEXT]", "mark it resolved (TEXT: how)"),
        ("reopen", "", "open it again"),
        ("wait", "[TEXT]", "waiting on the client (pauses the resolution clock)"),
        ("note", "TEXT", "a note in its history"),
        ("time", "DURATION", "log time spent (1h30, 45m, 1:15)"),
        ("reply", "TEXT", "write to the client, in their thread and language"),
    ):
        mirror = isub.add_parser(verb, help=what, description=f"{what}; as the mail command "
                                 f"'{verb}'.")  # fmt: skip
        mirror.add_argument("reference", help="e.g. MD-2026-000123")
        if words:
            mirror.add_argument("text", nargs="*" if words.startswith("[") else "+")
        mirror.set_defaults(handler=cmd_incidents_command, verb=verb)

    quarantine = sub.add_parser(
        "quarantine",
        help="mail that could not be processed",
        description="Mail kept aside because it could not be read.",
    )
    qsub = quarantine.add_subparsers(dest="action", metavar="ACTION", required=True)
    qlist = qsub.add_parser("list", help="quarantined mail with the reason")
    qlist.add_argument("--json", action="store_true", help="a JSON array for scripts")
    qlist.set_defaults(handler=cmd_quarantine_list)


def cmd_incidents_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import incident_rows, print_incident_table

    rows = incident_rows(
        open_database(config), config, args.status, args.search, args.limit, args.unsure
    )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
    else:
        print_incident_table(rows)
    return 0


def cmd_incidents_show(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import incident_detail, print_incident_detail

    detail = incident_detail(open_database(config), config, args.reference)
    if detail is None:
        print(f"maildesk: no incident {args.reference}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, default=str, indent=2))
    else:
        print_incident_detail(detail)
    return 0


def cmd_incidents_set(args: argparse.Namespace, config: Config) -> int:
    from maildesk.db.lifecycle import InvalidChange
    from maildesk.db.store import apply_change
    from maildesk.outbound.handoff import handoff_pending
    from maildesk.schedule import build_calendar

    if not any((args.status, args.priority, args.kind, args.category)):
        raise UsageError("nothing to change: give --status, --priority, --kind or --category")
    database = open_database(config)
    now = parse_instant(None, config)
    try:
        changed = apply_change(
            database,
            config,
            build_calendar(config.schedule),
            args.reference,
            now=now,
            actor="cli",
            status=args.status,
            priority=args.priority,
            kind=args.kind,
            category=args.category,
            note=args.note,
        )
    except (InvalidChange, LookupError) as exc:
        raise UsageError(str(exc)) from None
    # A category settled by a person: the incident goes to its team now (the daemon's
    # sender delivers it; it would also find it on its next round).
    handed = handoff_pending(database, config, make_renderer(config), now)
    if args.reference.upper() in handed:
        changed.append("handed off to its team")
    print(f"{args.reference}: {'; '.join(changed) if changed else 'nothing changed'}")
    return 0


def cmd_quarantine_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import print_quarantine_table, quarantine_rows

    rows = quarantine_rows(open_database(config))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
    else:
        print_quarantine_table(rows)
    return 0


def cmd_incidents_command(args: argparse.Namespace, config: Config) -> int:
    """``incidents resolve|reopen|wait|note|time REF …``: the mail command, applied by the
    same parser and rules (``desk.commands``, ``desk.apply``)."""
    from sqlalchemy import select

    from maildesk.db.tables import Incident
    from maildesk.desk.apply import apply_commands
    from maildesk.desk.commands import parse_commands
    from maildesk.schedule import build_calendar

    line = " ".join([args.verb, *getattr(args, "text", [])])
    parsed = parse_commands(line)
    if parsed.refusals:
        raise UsageError(parsed.refusals[0].reason)
    database = open_database(config)
    now = parse_instant(None, config)
    with database.session() as session:
        incident = session.scalars(
            select(Incident).where(Incident.reference == args.reference.upper())
        ).first()
        if incident is None:
            raise UsageError(f"no incident {args.reference}")
        [outcome] = apply_commands(
            session, config, build_calendar(config.schedule), incident, parsed.commands,
            actor="cli", how="", now=now, renderer=make_renderer(config),
        )  # fmt: skip
    print(f"{args.reference.upper()}: {outcome.detail}")
    return 0 if outcome.applied else 1
