"""`maildesk init DIR`: a starter configuration and templates to tune."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maildesk.cli.common import UsageError


def register(sub: Any) -> None:
    init = sub.add_parser(
        "init",
        help="write a starter maildesk.toml and a copy of the templates into a folder",
        description="Write DIR/maildesk.toml (every option documented, the distributor's "
        "defaults) and DIR/templates/ (the acknowledgements, digest and alerts in es, ca, en) "
        "for the admin to tune. The shipped classifier is used until you train your own.",
    )
    init.add_argument("directory", type=Path, metavar="DIR")
    init.add_argument("--force", action="store_true", help="overwrite what is there")
    init.set_defaults(handler=cmd_init, needs_config=False)


def cmd_init(args: argparse.Namespace) -> int:
    from maildesk.starter import StarterError, write_starter

    try:
        written = write_starter(args.directory, force=args.force)
    except StarterError as exc:
        raise UsageError(str(exc)) from None
    config = written[0]
    for path in written:
        print(f"wrote {path}{'/' if path.is_dir() else ''}")
    print(
        f"next: edit {config} (mailbox, SMTP, company, schedule), then\n"
        f"  maildesk --config {config} check\n"
        f"  maildesk --config {config} run"
    )
    return 0
