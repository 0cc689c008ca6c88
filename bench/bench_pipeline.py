"""What one mail costs inside maildesk, without the mail stack: the pipeline by stage.

Feeds realistic client mails (the demo mails, each with its own Message-ID and sender) to
``Pipeline.handle`` on a fresh SQLite file and prints the CPU time per mail of each stage
measured on its own (parse, language, triage, render, compose) and of the whole ``handle``
(which adds the database work: duplicate check, thread match, reference, rows, outbox,
checkpoint, commit).

Run: ``python bench/bench_pipeline.py [--mails 2000] [--profile 30]`` (the profile covers
``handle_batch``, as the daemon runs it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_intake import CLIENTS, client_mails
from maildesk.clock import FrozenClock
from maildesk.config import load_config
from maildesk.inbound.language import detect_language
from maildesk.inbound.parse import parse_mail
from maildesk.inbound.pipeline import InboundMail, Outcome
from maildesk.outbound.compose import compose_reply
from maildesk.outbound.replycontext import IncidentFacts, reply_context
from maildesk.runtime.daemon import build_parts
from maildesk.runtime.intake import COMMIT_BATCH
from maildesk.testing.stackconfig import write_offline_config
from maildesk.triage.rules import TriageInput

# A Tuesday at 10:00 in Madrid: open, so the clock starts at once and "ack" is rendered.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def per_mail_ms(label: str, count: int, body: Callable[[], Any]) -> float:
    start = time.process_time()
    body()
    spent = (time.process_time() - start) * 1000 / count
    print(f"  {label:<34} {spent:7.3f} ms/mail", flush=True)
    return spent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--profile", type=int, default=0, metavar="TOP")
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # the pipeline logs one line per mail; not measured here

    with tempfile.TemporaryDirectory(prefix="maildesk-bench-pipeline-") as tmp:
        path = write_offline_config(Path(tmp))
        config = load_config(path)
        config = config.model_copy(
            update={
                "replies": config.replies.model_copy(update={"max_auto_replies_per_sender": 10**9})
            }
        )
        clock = FrozenClock(NOW)
        parts = build_parts(config, clock)
        pipeline = parts.pipeline
        mails = [raw for _, _, raw in client_mails(args.mails, "p", CLIENTS)]
        print(f"maildesk pipeline benchmark — {len(mails)} mails, SQLite, no mail stack")

        parsed = [parse_mail(raw) for raw in mails]
        per_mail_ms("parse", len(mails), lambda: [parse_mail(raw) for raw in mails])
        languages = [
            detect_language(f"{m.subject}\n{m.clean_text}", supported=("es", "ca", "en")).language
            for m in parsed
        ]
        per_mail_ms(
            "language",
            len(mails),
            lambda: [
                detect_language(f"{m.subject}\n{m.clean_text}", supported=("es", "ca", "en"))
                for m in parsed
            ],
        )
        triager = parts.pipeline._analyser._triager
        per_mail_ms(
            "triage (classify, priority, deadline)",
            len(mails),
            lambda: [
                triager.triage(TriageInput(m.subject, m.clean_text, lang, m.from_address), NOW)
                for m, lang in zip(parsed, languages, strict=True)
            ],
        )
        renderer = pipeline._renderer
        contexts = [
            reply_context(
                config,
                IncidentFacts(
                    reference=f"MD-2026-{i:06d}",
                    client_name=m.from_name,
                    subject=m.subject,
                    category="technical",
                    kind="outage",
                    priority="high",
                    first_response_due=NOW,
                    deadline=NOW,
                    status="open",
                ),
                lang,
                NOW,
                NOW,
                True,
            )
            for i, (m, lang) in enumerate(zip(parsed, languages, strict=True))
        ]
        rendered = [
            renderer.render("ack", lang, ctx) for lang, ctx in zip(languages, contexts, strict=True)
        ]
        per_mail_ms(
            "render (subject, text, html)",
            len(mails),
            lambda: [
                renderer.render("ack", lang, ctx)
                for lang, ctx in zip(languages, contexts, strict=True)
            ],
        )
        per_mail_ms(
            "compose (MIME)",
            len(mails),
            lambda: [
                compose_reply(
                    rendered=r,
                    sender_name="Soporte",
                    sender_address="soporte@example.test",
                    to_address=m.from_address,
                    to_name=m.from_name,
                    reference=f"MD-2026-{i:06d}",
                    language=lang,
                    in_reply_to=m.message_id,
                    references=m.references,
                    now=NOW,
                    zone=config.schedule.zone,
                )
                for i, (m, r, lang) in enumerate(zip(parsed, rendered, languages, strict=True))
            ],
        )
        inbound = [InboundMail("INBOX", 1, uid, len(raw), raw) for uid, raw in enumerate(mails, 1)]
        results: list[Any] = []
        profiler = cProfile.Profile() if args.profile else None

        per_mail_ms(
            "Pipeline.handle, one per commit",
            len(mails),
            lambda: results.extend(pipeline.handle(item) for item in inbound),
        )
        batched = [
            InboundMail("INBOX", 2, uid, len(raw), raw)
            for uid, raw in enumerate(client_mails(args.mails, "b", CLIENTS), 1)
            for raw in [raw[2]]
        ]

        def handle_batches() -> None:
            if profiler:
                profiler.enable()
            for start in range(0, len(batched), COMMIT_BATCH):
                results.extend(pipeline.handle_batch(batched[start : start + COMMIT_BATCH]))
            if profiler:
                profiler.disable()

        per_mail_ms(f"Pipeline.handle_batch, {COMMIT_BATCH} per commit", len(mails), handle_batches)
        new = sum(1 for r in results if r.outcome is Outcome.NEW_INCIDENT)
        if new != 2 * len(mails):
            print(f"error: {new} new incidents of {2 * len(mails)}", file=sys.stderr)
            return 1
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
