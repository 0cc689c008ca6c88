"""Shared fixtures: the real mail stack (once per session), clean mailboxes, configs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.config import Config, load_config
from maildesk.testing.mailstack import (
    DEFAULT_USERS,
    MailStack,
    make_stack_directory,
    remove_stack_directory,
)
from maildesk.testing.stackconfig import write_local_config

USERS = DEFAULT_USERS


@pytest.fixture(scope="session")
def stack() -> Iterator[MailStack]:
    """Dovecot + Postfix on 127.0.0.1, started by the project's own script."""
    base = int(os.environ.get("MAILDESK_TEST_PORT_BASE", "12000"))
    directory = make_stack_directory()
    running = MailStack.start(
        directory,
        imap_port=base + 143,
        smtp_port=base + 25,
        lmtp_port=base + 24,
    )
    try:
        yield running
    finally:
        running.stop()
        remove_stack_directory(directory)


@pytest.fixture
def mail(stack: MailStack) -> Iterator[MailStack]:
    """The stack with every test mailbox emptied before the test."""
    stack.start_smtp()  # a previous test may have stopped it
    for user in USERS:
        stack.empty(user)
    yield stack


@pytest.fixture
def stack_config(tmp_path: Path, mail: MailStack) -> Config:
    path = write_local_config(tmp_path, mail.imap_port, mail.smtp_port, backoff_initial_seconds=0.3)
    return load_config(path)


# --- odd-mail corpus summary (tests/unit/test_odd_corpus.py) ------------------------------

_ODD_TEST = "test_odd_corpus.py::test_odd_mail["
_odd_results: dict[str, str] = {}  # file -> "passed" | "failed" | "skipped"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember the outcome of each corpus message's test (one line per file at the end)."""
    if _ODD_TEST not in report.nodeid:
        return
    name = report.nodeid.split(_ODD_TEST, 1)[1].rstrip("]")
    counted = report.when == "call" or report.outcome != "passed"
    if counted and _odd_results.get(name) != "failed":
        _odd_results[name] = report.outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """CI prints how many odd mails ran, per class, and how many failed."""
    if not _odd_results:
        return
    per_class: dict[str, int] = {}
    failed: dict[str, int] = {}
    for name, outcome in _odd_results.items():
        cls = name.split("/", 1)[0]
        per_class[cls] = per_class.get(cls, 0) + 1
        if outcome == "failed":
            failed[cls] = failed.get(cls, 0) + 1
    counts = ", ".join(f"{cls} {n}" for cls, n in per_class.items())
    line = f"odd-mail corpus: {len(_odd_results)} messages ({counts})"
    if failed:
        line += (
            f"; failing {sum(failed.values())} ("
            + ", ".join(f"{cls} {n}" for cls, n in failed.items())
            + ")"
        )
    terminalreporter.write_line(line)
