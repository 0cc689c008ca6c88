"""The ``maildesk`` command. Each subcommand parses its arguments, calls one function of
the core and prints; one module per command group."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from maildesk import __version__
from maildesk.cli import (
    auth,
    classifier,
    daemon,
    database,
    incidents,
    reports,
    schedule,
    setup,
    templates,
)
from maildesk.cli.common import UsageError
from maildesk.config import CONFIG_ENV, Config, ConfigError, load_config, resolve_config_path
from maildesk.db.store import SchemaError

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

    groups = (setup, daemon, auth, database, incidents, schedule, reports, templates, classifier)
    for group in groups:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader left (``maildesk incidents list | head``): end quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    path = resolve_config_path(args.config)
    try:
        if not getattr(args, "needs_config", True):  # e.g. init, which writes one
            free: Callable[[argparse.Namespace], int] = args.handler
            return free(args)
        try:
            config = load_config(path)
        except ConfigError as exc:
            print(f"maildesk: configuration error:\n{exc}", file=sys.stderr)
            return 2
        handler: Handler = args.handler
        return handler(args, config)
    except ConfigError as exc:
        print(f"maildesk: configuration error: {path}: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"maildesk: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"maildesk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
