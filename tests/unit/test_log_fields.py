"""Every fact in a log line is also a field: a JSON log shipper gets it without parsing prose.

A static check over the package (an f-string message must come with ``extra``), and the
JSON lines of a real batch carrying each mail's identity and outcome."""

from __future__ import annotations

import ast
import io
import json
import logging
from pathlib import Path

from maildesk.clock import FrozenClock
from maildesk.config import load_config
from maildesk.inbound.pipeline import InboundMail
from maildesk.runtime.daemon import build_parts
from maildesk.runtime.logs import setup_logging
from maildesk.testing.stackconfig import write_offline_config
from maildesk.testing.support import client_mail

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "maildesk"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def f_string_logs_without_fields() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.args
            ):
                continue
            message = node.args[0]
            has_values = isinstance(message, ast.JoinedStr) and any(
                isinstance(part, ast.FormattedValue) for part in message.values
            )
            if has_values and not any(k.arg == "extra" for k in node.keywords):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_no_log_line_keeps_its_facts_only_inside_an_f_string() -> None:
    assert f_string_logs_without_fields() == []


def test_json_log_lines_of_a_batch_carry_each_mails_fields(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    config = load_config(write_offline_config(tmp_path))
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream)
    try:
        pipeline = build_parts(config, FrozenClock(datetime(2026, 11, 24, 9, tzinfo=UTC))).pipeline
        good = client_mail("ana@clientes.test", "Sin línea", "No tenemos tono.").as_bytes()
        junk = b"\x00\x01\x02 not a mail \xff" * 30
        pipeline.handle_batch(
            [InboundMail("INBOX", 7, 1, len(good), good), InboundMail("INBOX", 7, 2, 90, junk)]
        )
    finally:
        logging.getLogger("maildesk").handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    handled = next(e for e in lines if e["msg"].startswith("mail handled"))
    assert handled["outcome"] == "new_incident" and handled["reference"].startswith("MD-")
    assert handled["message_id"] and handled["replies"] == 1 and handled["reason"]
    quarantined = next(e for e in lines if e["msg"] == "mail quarantined")
    assert quarantined["uid"] == 2 and quarantined["reason"].startswith("binary")
