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
