"""`maildesk templates check|preview`: the mail templates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maildesk.cli.common import (
    UsageError,
    make_renderer,
    parse_instant,
    show_rendered,
)
from maildesk.config import Config


def register(sub: Any) -> None:
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
    tpreview.add_argument("name", help="ack, digest, alert, resolved… (templates check lists all)")
    tpreview.add_argument("--lang", default=None, help="es, ca or en (default: the default)")
    tpreview.add_argument("--html", type=Path, metavar="FILE", help="write the HTML part here")
    tpreview.set_defaults(handler=cmd_templates_preview)


def cmd_templates_check(args: argparse.Namespace, config: Config) -> int:
    from maildesk.outbound.samples import check_templates, templates_summary

    renderer = make_renderer(config)
    problems = check_templates(config, renderer, parse_instant(None, config))
    for problem in problems:
        print(f"error {problem}")
    if not problems:
        print(f"ok    {templates_summary(config)}")
    return 1 if problems else 0


def cmd_templates_preview(args: argparse.Namespace, config: Config) -> int:
    from maildesk.outbound.render import TemplateError
    from maildesk.outbound.samples import sample_context

    renderer = make_renderer(config)
    if args.lang is not None and args.lang not in renderer.languages:
        raise UsageError(
            f"no templates in {args.lang!r}; available: {', '.join(renderer.languages)}"
        )
    language = renderer.language_for(args.lang)
    now = parse_instant(None, config)
    try:
        rendered = renderer.render(
            args.name, language, sample_context(config, args.name, language, now)
        )
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    show_rendered(rendered, args.html)
    return 0
