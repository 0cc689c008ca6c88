"""The outbox sender in its own process (the production default): same guarantees."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.config import Config, load_config
from maildesk.db.tables import Incident, OutboxItem
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT, write_local_config
from maildesk.testing.support import client_mail, count_rows, run_once, wait_for

pytestmark = pytest.mark.stack

CLIENTS = ("cliente1@clientes.test", "cliente2@clientes.test", "cliente3@clientes.test")


@pytest.fixture
def process_config(mail: MailStack, tmp_path: Path) -> Config:
    path = write_local_config(
        tmp_path, mail.imap_port, mail.smtp_port, separate_process=True, copy_to_support=True
    )
    return load_config(path)


def test_run_once_with_a_sender_process_answers_each_mail_once(
    mail: MailStack, process_config: Config
) -> None:
    for client in CLIENTS:
        for n in range(4):
            mail.append(
                SUPPORT,
                client_mail(client, f"Factura {n}", "Nos han cobrado dos veces.").as_bytes(),
            )

    summary = run_once(process_config)

    assert summary.outcomes.get("new_incident") == 12
    assert summary.sent.sent == 12  # counted across the child and the final drain
    assert count_rows(process_config, OutboxItem, OutboxItem.status == "sent") == 12
    mail.wait_until_delivered()
    assert [mail.message_count(c) for c in CLIENTS] == [4, 4, 4]


@pytest.fixture
def daemon(process_config: Config, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "maildesk.cli", "--config", str(tmp_path / "maildesk.toml"), "run"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_daemon_restarts_a_dead_sender_and_stops_both_on_sigterm(
    mail: MailStack, process_config: Config, daemon: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    log_path = tmp_path / "daemon.log"
    wait_for("the sender process", lambda: "sender process started" in log_path.read_text())
    wait_for("IDLE", lambda: "mode=idle" in log_path.read_text())
    mail.deliver(
        client_mail(CLIENTS[0], "Sin línea", "No hay línea.").as_bytes(),
        to=SUPPORT,
        mail_from=CLIENTS[0],
    )
    mail.wait_for_messages(CLIENTS[0], 1, timeout=10)

    [child] = [
        int(p) for p in re.findall(r"sender process started pid=(\d+)", log_path.read_text())
    ]
    os.kill(child, signal.SIGKILL)
    wait_for("the restart", lambda: "sender process died" in log_path.read_text())
    mail.deliver(
        client_mail(CLIENTS[1], "Sin línea", "No hay línea.").as_bytes(),
        to=SUPPORT,
        mail_from=CLIENTS[1],
    )
    mail.wait_for_messages(CLIENTS[1], 1, timeout=15)

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0
    pids = [int(p) for p in re.findall(r"sender process started pid=(\d+)", log_path.read_text())]
    assert len(pids) == 2

    def gone(pid: int) -> bool:
        status = Path(f"/proc/{pid}/status")
        try:
            return "zombie" in status.read_text()
        except FileNotFoundError:
            return True

    # neither sender is left behind (a zombie of the killed one aside)
    wait_for("both senders to be gone", lambda: all(gone(pid) for pid in pids), timeout=10)
    assert count_rows(process_config, Incident) == 2
    assert [mail.message_count(c) for c in CLIENTS[:2]] == [1, 1]
