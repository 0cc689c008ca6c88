"""`maildesk run` and `maildesk check`: the daemon and its pre-flight checks."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from maildesk.config import Config, ConfigError, resolve_config_path


def register(sub: Any) -> None:
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

    status = sub.add_parser(
        "status",
        help="what the daemon is doing now",
        description="The daemon's processes and their last event, mail waiting in the INBOX "
        "above the checkpoint (asked of the server, read-only), the outbox, failing client "
        "addresses, quarantine, today's duplicates, the last digest and the model in use.",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts")
    status.add_argument(
        "--no-imap", action="store_true", help="do not ask the server; use the last look"
    )
    status.set_defaults(handler=cmd_status)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from maildesk.clock import SystemClock
    from maildesk.runtime.daemon import Daemon, build_parts
    from maildesk.runtime.intake import MailboxUnreachable
    from maildesk.runtime.logs import setup_logging

    setup_logging(config.logging.level, config.logging.format)
    daemon = Daemon(build_parts(config, SystemClock()))
    if args.once:
        try:
            summary = asyncio.run(daemon.run_once())
        except MailboxUnreachable as exc:
            print(f"maildesk: {exc}", file=sys.stderr)
            return 1
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(summary.outcomes.items())) or "none"
        print(
            f"mail: {outcomes}; replies sent={summary.sent.sent} "
            f"retry={summary.sent.retried} failed={summary.sent.failed}"
        )
        return 0
    asyncio.run(daemon.run())
    return 0


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from maildesk.clock import SystemClock
    from maildesk.runtime.checks import run_checks

    ok = True
    print(f"ok    config    {resolve_config_path(args.config)}")
    for result in run_checks(config, SystemClock().now()):
        ok = ok and result.ok
        print(f"{'ok' if result.ok else 'FAIL':5} {result.name:9} {result.detail}")
    return 0 if ok else 1


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    """Exit 0 when an intake process is alive, 1 when none is (for a monitoring check)."""
    from maildesk.cli.common import open_database
    from maildesk.clock import SystemClock
    from maildesk.db.store import get_checkpoint
    from maildesk.reports.status import format_status, read_status, status_json
    from maildesk.runtime.intake import MailboxUnreachable, waiting_above

    database = open_database(config)
    waiting: int | None = None
    problem = "--no-imap" if args.no_imap else None
    if not args.no_imap:
        with database.session() as session:
            checkpoint = get_checkpoint(session, config.imap.folder)
            last_uid = checkpoint.last_uid if checkpoint is not None else 0
        try:
            waiting = waiting_above(config.imap, config.imap.resolve_password(), last_uid)
        except (MailboxUnreachable, ConfigError) as exc:
            problem = str(exc)
    status = read_status(database, config, SystemClock().now(), waiting, problem)
    if args.json:
        print(status_json(status))
    else:
        print(format_status(status, config.schedule.zone))
    return 0 if status.running else 1
