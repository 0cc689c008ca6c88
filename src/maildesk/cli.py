"""The ``maildesk`` command. Each subcommand parses its arguments and calls the core."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from maildesk import __version__
from maildesk.config import CONFIG_ENV, Config, ConfigError, load_config, resolve_config_path

Handler = Callable[[argparse.Namespace, Config], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maildesk",
        description=(
            "maildesk reads the support mailbox, opens an incident for each client mail, "
            "acknowledges it at once with a reference and a deadline, and keeps the "
            "distributor informed."
        ),
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"configuration file (default: ${CONFIG_ENV}, else ./maildesk.toml)",
    )
    parser.add_argument("--version", action="version", version=f"maildesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run the daemon (IMAP IDLE/poll, outbox sender)",
        description="Run the daemon until SIGTERM/SIGINT.",
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="process the mail waiting now, drain the outbox, and exit",
    )
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser(
        "check",
        help="validate the configuration and test the connections",
        description="Validate the configuration, then connect to IMAP, "
        "SMTP and the database; one line per check. Exit 1 if any fails.",
    )
    check.set_defaults(handler=cmd_check)

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
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="JSON lines for scripts")
    listing.set_defaults(handler=cmd_incidents_list)
    show = isub.add_parser(
        "show",
        help="one incident with its messages, replies and history",
        description="One incident with its messages, replies and history.",
    )
    show.add_argument("reference", help="e.g. MD-2026-000123")
    show.add_argument("--json", action="store_true", help="JSON for scripts")
    show.set_defaults(handler=cmd_incidents_show)

    quarantine = sub.add_parser(
        "quarantine",
        help="mail that could not be processed",
        description="Mail kept aside because it could not be read.",
    )
    qsub = quarantine.add_subparsers(dest="action", metavar="ACTION", required=True)
    qlist = qsub.add_parser("list", help="quarantined mail with the reason")
    qlist.add_argument("--json", action="store_true", help="JSON lines for scripts")
    qlist.set_defaults(handler=cmd_quarantine_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = resolve_config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"maildesk: configuration error:\n{exc}", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    try:
        return handler(args, config)
    except ConfigError as exc:
        print(f"maildesk: configuration error: {path}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from maildesk.clock import SystemClock
    from maildesk.daemon import Daemon, build_parts
    from maildesk.logs import setup_logging

    setup_logging(config.logging.level, config.logging.format)
    daemon = Daemon(build_parts(config, SystemClock()))
    if args.once:
        summary = asyncio.run(daemon.run_once())
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(summary.outcomes.items())) or "none"
        print(
            f"mail: {outcomes}; replies sent={summary.sent.sent} "
            f"retry={summary.sent.retried} failed={summary.sent.failed}"
        )
        return 0
    asyncio.run(daemon.run())
    return 0


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from maildesk.checks import run_checks
    from maildesk.clock import SystemClock

    ok = True
    print(f"ok    config    {resolve_config_path(args.config)}")
    for result in run_checks(config, SystemClock().now()):
        ok = ok and result.ok
        print(f"{'ok' if result.ok else 'FAIL':5} {result.name:9} {result.detail}")
    return 0 if ok else 1


def _database(config: Config) -> Any:
    from maildesk.store import Database

    database = Database(config.database.url)
    database.migrate()
    return database


def cmd_incidents_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports import incident_rows, print_incident_table

    rows = incident_rows(_database(config), config, args.status, args.search, args.limit)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_incident_table(rows)
    return 0


def cmd_incidents_show(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports import incident_detail, print_incident_detail

    detail = incident_detail(_database(config), config, args.reference)
    if detail is None:
        print(f"maildesk: no incident {args.reference}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, default=str, indent=2))
    else:
        print_incident_detail(detail)
    return 0


def cmd_quarantine_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports import print_quarantine_table, quarantine_rows

    rows = quarantine_rows(_database(config))
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_quarantine_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
