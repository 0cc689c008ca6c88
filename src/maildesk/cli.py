"""The ``maildesk`` command. Each subcommand parses its arguments and calls the core."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
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
    listing.add_argument(
        "--unsure",
        action="store_true",
        help="only incidents the classifier was unsure about (shown with '?'): check their "
        "category with 'incidents set'",
    )
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

    quarantine = sub.add_parser(
        "quarantine",
        help="mail that could not be processed",
        description="Mail kept aside because it could not be read.",
    )
    qsub = quarantine.add_subparsers(dest="action", metavar="ACTION", required=True)
    qlist = qsub.add_parser("list", help="quarantined mail with the reason")
    qlist.add_argument("--json", action="store_true", help="JSON lines for scripts")
    qlist.set_defaults(handler=cmd_quarantine_list)

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

    templates = sub.add_parser(
        "templates", help="check and preview the mail templates", description="Templates."
    )
    tsub = templates.add_subparsers(dest="action", metavar="ACTION", required=True)
    tcheck = tsub.add_parser(
        "check",
        help="render every template in every language with sample data",
        description="Report syntax errors and unknown variables in all templates.",
    )
    tcheck.set_defaults(handler=cmd_templates_check)
    tpreview = tsub.add_parser(
        "preview",
        help="render one template with realistic sample data",
        description="Print subject and text of a template rendered with sample data.",
    )
    tpreview.add_argument("name", help="ack, ack_closed, followup, digest or alert")
    tpreview.add_argument("--lang", default=None, help="es, ca or en (default: the default)")
    tpreview.add_argument("--html", type=Path, metavar="FILE", help="write the HTML part here")
    tpreview.set_defaults(handler=cmd_templates_preview)

    train = sub.add_parser(
        "train",
        help="train the classifier from labelled mail",
        description="Train the technical/billing, other and kind models and write them to "
        "the models directory, with their metadata and metrics. An installed model is "
        "replaced only when the new one is not worse on the held-out set (or with --force).",
    )
    train.add_argument(
        "--data",
        type=Path,
        default=Path("data/corpus/train"),
        help="JSONL or CSV (subject, body, category[, kind]), a directory of them, or a "
        "directory with one folder of .eml files per label (default data/corpus/train)",
    )
    train.add_argument(
        "--test",
        type=Path,
        default=Path("data/heldout"),
        help="held-out mail to measure the new and the installed model (default "
        "data/heldout; 'none' to skip)",
    )
    train.add_argument("--output", type=Path, help="model directory (default models_dir)")
    train.add_argument(
        "--with-corrections",
        action="store_true",
        help="add the categories and kinds corrected with 'incidents set' (weighted)",
    )
    train.add_argument("--force", action="store_true", help="replace the installed model anyway")
    train.set_defaults(handler=cmd_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="measure the installed classifier on labelled mail",
        description="Technical vs billing macro-F1 overall and per language, the share "
        "sorted other or left unsure, kind accuracy, calibration, the unsure trade-off, "
        "per-class scores and confusion matrices, then the stress checks (courtesy, "
        "content-free mail, padding, other trades); exit status 1 when a check fails.",
    )
    evaluate.add_argument(
        "--data",
        type=Path,
        default=Path("data/heldout"),
        help="labelled mail (as train; default data/heldout, the realistic held-out set, "
        "with its other-trades stress set in data/heldout/stress)",
    )
    evaluate.add_argument("--model", type=Path, help="model directory (default models_dir)")
    evaluate.add_argument("--json", action="store_true", help="the figures as JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    classify = sub.add_parser(
        "classify",
        help="classify mails without opening incidents",
        description="Print category, confidence, kind, priority and language: one line per "
        ".eml file, or with --jsonl one JSON object per input line "
        '({"subject": ..., "body": ...}) from standard input, in the same order.',
    )
    classify.add_argument("files", nargs="*", type=Path, metavar="FILE.eml")
    classify.add_argument("--jsonl", action="store_true", help="JSON lines on stdin/stdout")
    classify.set_defaults(handler=cmd_classify)
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
    except UsageError as exc:
        print(f"maildesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from maildesk.clock import SystemClock
    from maildesk.runtime.daemon import Daemon, build_parts
    from maildesk.runtime.logs import setup_logging

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
    from maildesk.clock import SystemClock
    from maildesk.runtime.checks import run_checks

    ok = True
    print(f"ok    config    {resolve_config_path(args.config)}")
    for result in run_checks(config, SystemClock().now()):
        ok = ok and result.ok
        print(f"{'ok' if result.ok else 'FAIL':5} {result.name:9} {result.detail}")
    return 0 if ok else 1


def _database(config: Config) -> Any:
    from maildesk.db.store import Database

    database = Database(config.database.url)
    database.migrate()
    return database


def cmd_incidents_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import incident_rows, print_incident_table

    rows = incident_rows(
        _database(config), config, args.status, args.search, args.limit, args.unsure
    )
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_incident_table(rows)
    return 0


def cmd_incidents_show(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import incident_detail, print_incident_detail

    detail = incident_detail(_database(config), config, args.reference)
    if detail is None:
        print(f"maildesk: no incident {args.reference}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, default=str, indent=2))
    else:
        print_incident_detail(detail)
    return 0


def _instant(text: str | None, config: Config) -> datetime:
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


class UsageError(Exception):
    """A command-line value the core cannot use; printed, exit status 2."""


def cmd_schedule_show(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar, describe_schedule

    print(
        describe_schedule(
            config.schedule, build_calendar(config.schedule), _instant(args.at, config), args.days
        )
    )
    return 0


def cmd_schedule_next_open(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar

    opening = build_calendar(config.schedule).next_opening(_instant(args.at, config))
    print(opening.astimezone(config.schedule.zone).isoformat())
    return 0


def cmd_schedule_due(args: argparse.Namespace, config: Config) -> int:
    from maildesk.schedule import build_calendar

    if args.minutes < 0:
        raise UsageError("--minutes must be zero or more")
    due = build_calendar(config.schedule).add(
        _instant(args.start, config), timedelta(minutes=args.minutes)
    )
    print(due.astimezone(config.schedule.zone).isoformat())
    return 0


def cmd_incidents_set(args: argparse.Namespace, config: Config) -> int:
    from maildesk.db.lifecycle import InvalidChange
    from maildesk.db.store import apply_change
    from maildesk.schedule import build_calendar

    if not any((args.status, args.priority, args.kind, args.category)):
        raise UsageError("nothing to change: give --status, --priority, --kind or --category")
    try:
        changed = apply_change(
            _database(config),
            config,
            build_calendar(config.schedule),
            args.reference,
            now=_instant(None, config),
            actor="cli",
            status=args.status,
            priority=args.priority,
            kind=args.kind,
            category=args.category,
            note=args.note,
        )
    except (InvalidChange, LookupError) as exc:
        raise UsageError(str(exc)) from None
    print(f"{args.reference}: {'; '.join(changed) if changed else 'nothing changed'}")
    return 0


def _renderer(config: Config) -> Any:
    from maildesk.outbound.render import TemplateRenderer

    return TemplateRenderer(
        config.templates_dir,
        timezone=config.schedule.timezone,
        languages=config.replies.languages,
        default_language=config.replies.default_language,
    )


def _show_rendered(rendered: Any, html: Path | None) -> None:
    """Subject and text on stdout; the HTML part into ``html`` when given."""
    print(f"Subject: {rendered.subject}\n\n{rendered.text}")
    if html:
        html.write_text(rendered.html, encoding="utf-8")
        print(f"(HTML written to {html})", file=sys.stderr)


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.digest import digest_recipients, gather_digest, render_digest, send_digest
    from maildesk.schedule import build_calendar

    calendar = build_calendar(config.schedule)
    database = _database(config)
    renderer = _renderer(config)
    at = _instant(args.at, config)
    if args.preview:
        with database.session() as session:
            data = gather_digest(session, config, calendar, at)
        rendered = render_digest(renderer, config, data)
        _show_rendered(rendered, args.html)
        return 0
    queued = send_digest(database, config, calendar, renderer, at, force=True)
    if not queued:
        print(f"digest already sent today to {', '.join(digest_recipients(config))}")
        return 0
    from maildesk.clock import SystemClock
    from maildesk.runtime.daemon import build_parts

    parts = build_parts(config, SystemClock(), database=database)
    result = asyncio.run(_drain(parts.sender))
    print(f"digest queued for {', '.join(queued)}; sent {result.sent}, retrying {result.retried}")
    return 0 if result.failed == 0 else 1


async def _drain(sender: Any) -> Any:
    try:
        return await sender.drain()
    finally:
        await sender.close()


def cmd_report_levels(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.digest import incident_records
    from maildesk.reports.levels import service_levels
    from maildesk.schedule import build_calendar

    calendar = build_calendar(config.schedule)
    end = _instant(args.at, config)
    start = end - timedelta(days=args.days)
    with _database(config).session() as session:
        records = incident_records(session, start, end)
    levels = service_levels(records, start, end, calendar, calendar.zone, f"{args.days} days")
    if args.json:
        print(json.dumps(_levels_json(levels)))
        return 0
    for name, value in _levels_json(levels).items():
        print(f"{name:<32} {value}")
    return 0


def _levels_json(levels: Any) -> dict[str, Any]:
    def pct(share: Any) -> str:
        return (
            "-"
            if share.ratio is None
            else f"{100 * share.ratio:.1f} % ({share.count}/{share.total})"
        )

    def minutes(value: Any) -> Any:
        return None if value is None else round(value.total_seconds() / 60, 1)

    return {
        "period": f"{levels.start.isoformat()} .. {levels.end.isoformat()}",
        "opened": levels.opened,
        "acknowledged_within_1_min": pct(levels.acknowledged_within_minute),
        "first_response_median_min": minutes(levels.first_response_median),
        "first_response_p90_min": minutes(levels.first_response_p90),
        "without_first_response": levels.without_first_response,
        "resolved": levels.resolved,
        "resolved_in_time": pct(levels.resolved_in_time),
        "first_contact_resolution": pct(levels.first_contact_resolution),
        "backlog_by_age": levels.backlog_by_age,
        "by_category": levels.by_category,
        "by_kind": levels.by_kind,
        "by_weekday": levels.by_weekday,
        "by_hour": levels.by_hour,
    }


def cmd_templates_check(args: argparse.Namespace, config: Config) -> int:
    from maildesk.outbound.samples import SAMPLES, check_templates

    renderer = _renderer(config)
    problems = check_templates(config, renderer, _instant(None, config))
    for problem in problems:
        print(f"error {problem}")
    if not problems:
        languages = ", ".join(config.replies.languages)
        print(f"ok    {len(SAMPLES)} templates render in {languages} ({config.templates_dir})")
    return 1 if problems else 0


def cmd_templates_preview(args: argparse.Namespace, config: Config) -> int:
    from maildesk.outbound.render import TemplateError
    from maildesk.outbound.samples import sample_context

    renderer = _renderer(config)
    language = renderer.language_for(args.lang)
    now = _instant(None, config)
    try:
        rendered = renderer.render(
            args.name, language, sample_context(config, args.name, language, now)
        )
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    _show_rendered(rendered, args.html)
    return 0


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    from maildesk.triage.learned.commands import CommandError, run_train

    test = None if str(args.test) == "none" else args.test
    if test is not None and not test.exists():
        test = None if args.test == Path("data/heldout") else test
    try:
        run_train(
            config,
            data=args.data,
            test=test,
            output=args.output or config.models_dir,
            with_corrections=args.with_corrections,
            force=args.force,
            now=_instant(None, config),
        )
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from maildesk.triage.learned.commands import CommandError, run_evaluate

    try:
        return run_evaluate(
            config,
            data=args.data,
            model_dir=args.model or config.models_dir,
            as_json=args.json,
            out=sys.stdout,
        )
    except CommandError as exc:
        raise UsageError(str(exc)) from None


def cmd_classify(args: argparse.Namespace, config: Config) -> int:
    from maildesk.inbound.language import detect_language
    from maildesk.inbound.parse import UnparseableMail, parse_mail
    from maildesk.inbound.quotes import clean_reply, is_forward_subject
    from maildesk.runtime.wiring import default_triager
    from maildesk.schedule import build_calendar
    from maildesk.triage.learned.commands import classify_jsonl
    from maildesk.triage.rules import TriageInput

    if not args.jsonl and not args.files:
        raise UsageError("give .eml files, or --jsonl to read JSON lines from standard input")

    triager = default_triager(config, build_calendar(config.schedule))
    now = _instant(None, config)

    def classify_one(subject: str, text: str, sender: str = "") -> dict[str, Any]:
        language = detect_language(
            f"{subject}\n{text}",
            supported=config.replies.languages,
            default=config.replies.default_language,
        )
        triage = triager.triage(TriageInput(subject, text, language.language, sender), now)
        c = triage.classification
        return {
            "category": c.category,
            "confidence": c.confidence,
            "kind": c.kind,
            "priority": triage.priority.level,
            "language": language.language,
            "written_language": language.detected or None,
            "unsure": triage.unsure,
            "reason": c.reason,
        }

    if args.jsonl:
        classify_jsonl(
            sys.stdin,
            lambda subject, body: classify_one(
                subject, clean_reply(body, forwarded=is_forward_subject(subject))
            ),
            sys.stdout,
        )
        return 0
    failed = 0
    for path in args.files:
        try:
            mail = parse_mail(path.read_bytes())
        except (OSError, UnparseableMail) as exc:
            failed += 1
            print(f"{path}: error: {exc}", file=sys.stderr)
            continue
        r = classify_one(mail.subject, mail.clean_text, mail.from_address)
        unsure = "  UNSURE" if r["unsure"] else ""
        written = r["written_language"]
        language = r["language"] + (f" (written {written})" if written != r["language"] else "")
        print(
            f"{path}: {r['category']} {r['confidence']:.2f}  {r['kind']}  {r['priority']}  "
            f"{language}{unsure}  [{r['reason'].split(': ', 2)[1]}]"
        )
    return 1 if failed else 0


def cmd_quarantine_list(args: argparse.Namespace, config: Config) -> int:
    from maildesk.reports.incidents import print_quarantine_table, quarantine_rows

    rows = quarantine_rows(_database(config))
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_quarantine_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
