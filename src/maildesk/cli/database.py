"""`maildesk db upgrade|status`: the schema, changed only when asked (and by `run`)."""

from __future__ import annotations

import argparse
from typing import Any

from maildesk.config import Config


def register(sub: Any) -> None:
    db = sub.add_parser(
        "db",
        help="the database schema: create or upgrade it, or show where it stands",
        description="The database schema. 'run' upgrades it at start; every other command "
        "only reads it and says so when it is missing or behind.",
    )
    dsub = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = dsub.add_parser(
        "upgrade",
        help="create the schema, or bring it to this version's",
        description="Create the schema in an empty database, or apply the migrations it "
        "lacks. Safe to run again, and while daemons run (a lock orders them).",
    )
    upgrade.set_defaults(handler=cmd_db_upgrade)
    status = dsub.add_parser("status", help="the schema revision of the database and ours")
    status.set_defaults(handler=cmd_db_status)


def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    from maildesk.db.store import Database, head_revision

    database = Database(config.database.url)
    before = database.schema_revision()
    database.migrate()
    head = head_revision()
    if before == head:
        print(f"{database.where}: schema {head}, already current")
    else:
        print(f"{database.where}: schema {before or 'none'} → {head}")
    database.dispose()
    return 0


def cmd_db_status(args: argparse.Namespace, config: Config) -> int:
    from maildesk.db.store import Database, head_revision

    database = Database(config.database.url)
    current, head = database.schema_revision(), head_revision()
    state = "current" if current == head else ("missing" if current is None else "behind")
    print(f"{database.where}: schema {current or 'none'}, this maildesk {head}: {state}")
    database.dispose()
    return 0 if state == "current" else 1
