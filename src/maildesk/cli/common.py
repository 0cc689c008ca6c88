"""What the command groups share: usage errors, the database, instants, templates."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from maildesk.config import Config

if TYPE_CHECKING:  # imported when used: each command loads only what it needs
    from maildesk.db.store import Database
    from maildesk.outbound.render import RenderedMail, TemplateRenderer


class UsageError(Exception):
    """A command-line value the core cannot use; printed, exit status 2."""


def open_database(config: Config) -> Database:
    """The configured database, its schema current (``SchemaError`` otherwise: migrating is
    ``maildesk db upgrade``'s job, and ``run``'s, never a side effect of reading)."""
    from maildesk.db.store import Database

    database = Database(config.database.url)
    database.require_current()
    return database


def parse_instant(text: str | None, config: Config) -> datetime:
    """An ISO instant from the command line; without offset it is read in the schedule's zone."""
    from maildesk.clock import SystemClock

    if text is None:
        return SystemClock().now()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"not an ISO 8601 instant: {text!r} (e.g. 2026-11-27T19:30:00+01:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=config.schedule.zone)


def make_renderer(config: Config) -> TemplateRenderer:
    from maildesk.outbound.render import TemplateRenderer

    return TemplateRenderer(
        config.templates_dir,
        timezone=config.schedule.timezone,
        languages=config.replies.languages,
        default_language=config.replies.default_language,
    )


def show_rendered(rendered: RenderedMail, html: Path | None) -> None:
    """Subject and text on stdout; the HTML part into ``html`` when given."""
    print(f"Subject: {rendered.subject}\n\n{rendered.text}")
    if html:
        html.write_text(rendered.html, encoding="utf-8")
        print(f"(HTML written to {html})", file=sys.stderr)
