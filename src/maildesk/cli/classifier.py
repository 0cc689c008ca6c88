"""`maildesk train`, `evaluate` and `classify`: the learned classifier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from maildesk.cli.common import (
    UsageError,
    parse_instant,
)
from maildesk.config import Config


def register(sub: Any) -> None:
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


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    from maildesk.triage.learned.workflow import CommandError, run_train

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
            now=parse_instant(None, config),
        )
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from maildesk.triage.learned.workflow import CommandError, run_evaluate

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
    from maildesk.inbound.analysis import Analyser
    from maildesk.inbound.parse import UnparseableMail, parse_mail
    from maildesk.inbound.quotes import clean_reply, is_forward_subject
    from maildesk.runtime.wiring import default_triager
    from maildesk.schedule import build_calendar
    from maildesk.triage.learned.workflow import classify_jsonl

    if not args.jsonl and not args.files:
        raise UsageError("give .eml files, or --jsonl to read JSON lines from standard input")

    calendar = build_calendar(config.schedule)
    analyser = Analyser(config, default_triager(config, calendar), calendar)
    now = parse_instant(None, config)

    def classify_one(subject: str, text: str, sender: str = "") -> dict[str, Any]:
        return analyser.analyse(subject, text, sender, now).summary()

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
