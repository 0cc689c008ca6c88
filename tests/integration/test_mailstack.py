"""The local mail stack (scripts/mailstack.sh): delivery, rejection, SMTP outage, clean stop."""

from __future__ import annotations

import os
import smtplib
import socket
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk.testing.mailstack import MailStack, make_stack_directory, remove_stack_directory

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(os.geteuid() != 0, reason="the mail stack (Postfix) needs root"),
]

# Non-default ports so these tests never clash with a stack started for the demo.
PORTS = {"imap_port": 11143, "smtp_port": 11025, "lmtp_port": 11024}
STOP_PORTS = {"imap_port": 11243, "smtp_port": 11225, "lmtp_port": 11224}


def _message(subject: str, to: str, sender: str = "cliente1@clientes.test") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@clientes.test>"
    msg.set_content("Hola, el router no funciona desde esta mañana.\n")
    return msg.as_bytes()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _processes_using(directory: Path) -> list[str]:
    """Live (non-zombie) processes whose cmdline, cwd or MAIL_CONFIG points into directory."""
    needle = str(directory)
    found: list[str] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
            environ = (proc / "environ").read_bytes().decode(errors="replace")
        except (OSError, IndexError):
            continue
        if needle in cmdline or cwd.startswith(needle) or f"MAIL_CONFIG={needle}" in environ:
            found.append(f"{proc.name}: {cmdline.strip() or '?'} (cwd={cwd})")
    return found


@pytest.fixture(scope="module")
def stack() -> Iterator[MailStack]:
    directory = make_stack_directory()
    started: MailStack | None = None
    try:
        started = MailStack.start(directory, **PORTS)
        yield started
    finally:
        if started is not None:
            started.stop()
        else:  # a half-started stack must not survive a failed start either
            MailStack(directory, "127.0.0.1", 0, "127.0.0.1", 0).stop()
        remove_stack_directory(directory)


def test_smtp_mail_reaches_imap_inbox(stack: MailStack) -> None:
    user = "support@maildesk.test"
    before = stack.message_count(user)
    subject = f"Incidencia {uuid.uuid4().hex[:8]}"

    stack.deliver(_message(subject, user), to=user, mail_from="cliente1@clientes.test")

    messages = stack.wait_for_messages(user, before + 1)
    assert subject.encode() in messages[-1]
    assert b"Delivered-To: support@maildesk.test" in messages[-1]

    client = stack.imap_client(user)
    try:
        assert b"IDLE" in client.capabilities()
        folders = {name for _flags, _sep, name in client.list_folders()}
        assert {"INBOX", "Processed", "Sent"} <= folders
        # Delivery must not mark the mail as read: the daemon relies on UNSEEN.
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"])
    finally:
        client.logout()


def test_idle_is_notified_of_new_delivery(stack: MailStack) -> None:
    user = "cliente4@clientes.test"
    client = stack.imap_client(user)
    try:
        client.select_folder("INBOX")
        client.idle()
        try:
            stack.deliver(_message("aviso", user), to=user, mail_from="cliente5@clientes.test")
            responses = client.idle_check(timeout=10)
        finally:
            client.idle_done()
    finally:
        client.logout()
    assert any(isinstance(r, tuple) and r[1] == b"EXISTS" for r in responses), responses


def test_unknown_recipient_is_refused(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        stack.deliver(
            _message("para nadie", "nadie@maildesk.test"),
            to="nadie@maildesk.test",
            mail_from="cliente2@clientes.test",
        )
    code, _reason = excinfo.value.recipients["nadie@maildesk.test"]
    assert code == 550
    # The sender did not get anything either: the refusal happened at RCPT time.
    assert stack.message_count("cliente2@clientes.test") == 0


def test_foreign_domain_is_refused_so_nothing_leaves(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        stack.deliver(
            _message("fuera", "alguien@example.com"),
            to="alguien@example.com",
            mail_from="distribuidor@maildesk.test",
        )
    assert excinfo.value.recipients["alguien@example.com"][0] == 550


def test_append_bypasses_smtp(stack: MailStack) -> None:
    user = "cliente3@clientes.test"
    before = stack.message_count(user, "Processed")
    stack.append(user, _message("archivado", user), folder="Processed")
    assert stack.message_count(user, "Processed") == before + 1


def test_stop_smtp_refuses_connections_and_start_smtp_restores(stack: MailStack) -> None:
    user = "tecnico@operador.test"
    stack.stop_smtp()
    try:
        assert not _port_open(stack.smtp_port)
        with pytest.raises(OSError):
            stack.deliver(_message("caido", user), to=user, mail_from="cdf@operador.test")
        assert stack.message_count(user) >= 0  # IMAP keeps working without Postfix
    finally:
        stack.start_smtp()
    assert _port_open(stack.smtp_port)
    before = stack.message_count(user)
    stack.deliver(_message("de vuelta", user), to=user, mail_from="cdf@operador.test")
    assert b"de vuelta" in stack.wait_for_messages(user, before + 1)[-1]


def test_start_is_idempotent_and_stop_leaves_nothing_running() -> None:
    directory = make_stack_directory()
    try:
        first = MailStack.start(directory, **STOP_PORTS)
        again = MailStack.start(directory, **STOP_PORTS)
        assert again == first
        assert first.is_running()
        assert _processes_using(directory)

        first.stop()

        assert not first.is_running()
        assert _processes_using(directory) == []
        for port in STOP_PORTS.values():
            assert not _port_open(port), f"port {port} still open after stop"
        first.stop()  # stopping twice is harmless
    finally:
        MailStack(directory, "127.0.0.1", 0, "127.0.0.1", 0).stop()
        remove_stack_directory(directory)


def test_mail_held_while_dovecot_is_down_is_said_and_delivered_at_once_after(
    stack: MailStack,
) -> None:
    user = "support@maildesk.test"
    before = stack.message_count(user)
    stack.stop_imap()
    try:
        stack.deliver(_message("held", user), to=user, mail_from="cliente1@clientes.test")
        report = ""
        for _ in range(50):  # Postfix tries LMTP, finds it closed, defers and says why
            report = stack.queue_report()
            if "support@maildesk.test" in report and "refused" in report.lower():
                break
            time.sleep(0.1)
        assert report.startswith("Postfix's queue: ") and "support@maildesk.test" in report
    finally:
        stack.start_imap()
    # start_imap waits for LMTP before flushing: delivered now, not at the next queue run
    started = time.monotonic()
    stack.wait_for_messages(user, before + 1, timeout=8)
    assert time.monotonic() - started < 8
    # and the next mail goes straight through: Postfix does not think Dovecot dead
    stack.deliver(_message("after", user), to=user, mail_from="cliente1@clientes.test")
    stack.wait_for_messages(user, before + 2, timeout=5)
    assert stack.queue_report() == "Postfix's queue is empty"
