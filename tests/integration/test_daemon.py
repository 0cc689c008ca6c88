"""The daemon as it runs in production: IDLE, SIGTERM, reconnects, crashes, quarantine."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.clock import SystemClock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, OutboxItem, QuarantinedMail
from maildesk.runtime.daemon import Daemon, build_parts
from maildesk.runtime.intake import QUARANTINE_KEYWORD, ImapMailbox
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT
from maildesk.testing.support import (
    AheadClock,
    client_mail,
    count_rows,
    daemon_running,
    run_once,
    wait_for,
)

pytestmark = pytest.mark.stack


@pytest.fixture
def daemon_process(
    stack_config: Config, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts ``maildesk run`` as a real process; always stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    config_path = tmp_path / "maildesk.toml"

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"daemon{len(started)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "maildesk.cli", "--config", str(config_path), "run"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def log_text(tmp_path: Path, index: int = 0) -> str:
    return (tmp_path / f"daemon{index}.log").read_text()


def test_daemon_acknowledges_pushed_mail_and_stops_cleanly_on_sigterm(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    proc = daemon_process()
    wait_for("IDLE", lambda: "mode=idle" in log_text(tmp_path))
    for sender in ("cliente1@clientes.test", "cliente2@clientes.test"):
        mail.deliver(
            client_mail(sender, "Sin línea fija", "No tenemos tono en la línea fija.").as_bytes(),
            to=SUPPORT,
            mail_from=sender,
        )
    # Pushed by IDLE: the acknowledgements arrive without any polling interval passing
    # (the IDLE renewal, the only other wake-up, is far longer than this wait).
    assert stack_config.imap.idle_renew_seconds > 60
    try:
        mail.wait_for_messages("cliente1@clientes.test", 1, timeout=20)
        mail.wait_for_messages("cliente2@clientes.test", 1, timeout=20)
    except TimeoutError as exc:
        # Which side was late: Postfix's queue (in the error), or the daemon's IDLE.
        where = (
            f"support INBOX {mail.message_count(SUPPORT)}, "
            f"Processed {mail.message_count(SUPPORT, 'Processed')}"
        )
        raise AssertionError(f"{exc}\n{where}\n--- daemon log ---\n{log_text(tmp_path)}") from exc

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    text = log_text(tmp_path)
    assert "maildesk stopped" in text
    assert "reference=MD-" in text and "message_id=" in text
    assert count_rows(stack_config, Incident) == 2


def test_daemon_reconnects_when_the_imap_server_comes_back(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    proc = daemon_process()
    wait_for("IDLE", lambda: "mode=idle" in log_text(tmp_path))
    mail.stop_imap()
    try:
        wait_for("the loss to be noticed", lambda: "unreachable" in log_text(tmp_path))
        # Mail keeps arriving at Postfix, which queues it while Dovecot is down.
        mail.deliver(
            client_mail(
                "cliente3@clientes.test", "Alta de fibra", "¿Cuándo activan la fibra?"
            ).as_bytes(),
            to=SUPPORT,
            mail_from="cliente3@clientes.test",
        )
    finally:
        mail.start_imap()
    mail.wait_for_messages("cliente3@clientes.test", 1, timeout=30)
    log = log_text(tmp_path)
    assert log.count("connected to mailbox") >= 2
    assert log.count("unreachable") == 1  # the outage said once, not at every attempt
    assert "answers again after" in log
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert count_rows(stack_config, Incident) == 1


def test_an_smtp_outage_is_two_lines_and_every_reply_leaves_when_it_ends(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    proc = daemon_process()
    wait_for("IDLE", lambda: "mode=idle" in log_text(tmp_path))
    clients = [f"cliente{n}@clientes.test" for n in range(1, 6)]
    mail.stop_smtp()
    try:
        for number in range(30):
            mail.append(
                SUPPORT,
                client_mail(
                    clients[number % 5], f"Sin fibra {number}", "No hay conexión."
                ).as_bytes(),
            )
        wait_for("30 incidents", lambda: count_rows(stack_config, Incident) == 30)
        time.sleep(6)  # retries at 0.3, 0.6, 1.2 … s: several, each failing quietly
    finally:
        mail.start_smtp()
    wait_for(
        "every reply sent",
        lambda: count_rows(stack_config, OutboxItem, OutboxItem.status != "sent") == 0,
        timeout=30,
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    log = log_text(tmp_path)
    down = [line for line in log.splitlines() if "cannot take mail" in line]
    assert len(down) == 1 and "mail(s) wait" in down[0]
    assert log.count("answers again after") == 1
    assert "reply not sent" not in log  # no line per row and attempt
    with Database(stack_config.database.url).session() as session:
        attempts = set(session.scalars(select(OutboxItem.attempts)))
    assert attempts == {1}  # the outage spent no row's attempts


def client_mails_in_inbox(mail: MailStack) -> list[int]:
    """UIDs in support's inbox that are not our own delivery copies."""
    client = mail.imap_client(SUPPORT)
    try:
        client.select_folder("INBOX")
        return list(client.search(["NOT", "HEADER", "X-Maildesk-Loop", "maildesk"]))
    finally:
        client.logout()


class CrashAfterCommit(ImapMailbox):
    """The process 'dies' after the database commit, before the server is told."""

    def mark_handled(self, uids: Sequence[int]) -> None:
        raise SystemExit("simulated crash between commit and IMAP move")


def test_crash_between_commit_and_imap_move_loses_nothing_and_duplicates_nothing(
    mail: MailStack, tmp_path: Path
) -> None:
    # Delivery copies on and a short lease: whatever the sender was doing when the process
    # died (it runs alongside intake), the next run settles it.
    config = crash_config(tmp_path, mail, copies=True)
    clients = ("cliente1@clientes.test", "cliente2@clientes.test")
    for sender in clients:
        mail.append(
            SUPPORT,
            client_mail(
                sender, "Recibo devuelto", "El banco nos ha devuelto el recibo."
            ).as_bytes(),
        )
    password = config.imap.resolve_password()
    parts = build_parts(
        config, SystemClock(), mailbox_factory=lambda: CrashAfterCommit(config.imap, password)
    )
    with pytest.raises(SystemExit):
        asyncio.run(Daemon(parts).run_once())
    parts.database.dispose()
    # Committed, not yet moved.
    assert count_rows(config, Incident) == 2
    assert len(client_mails_in_inbox(mail)) == 2
    summary = run_once(config, AheadClock(timedelta(seconds=1.2)))  # past any lease

    assert summary.outcomes.get("new_incident", 0) == 0  # nothing was handled twice
    assert count_rows(config, Incident) == 2
    assert count_rows(config, OutboxItem, OutboxItem.status == "sent") == 2
    assert client_mails_in_inbox(mail) == []  # moved (only our copies may wait there)
    mail.wait_until_delivered()
    assert [mail.message_count(a) for a in clients] == [1, 1]  # exactly one reply each


def test_unreadable_and_huge_mail_are_quarantined_and_left_on_the_server(
    mail: MailStack, stack_config: Config, tmp_path: Path
) -> None:
    garbage = b"\x00\x01\x02 this is not a mail \xff\xfe" * 20
    mail.append(SUPPORT, garbage)
    huge = client_mail("cliente1@clientes.test", "Fotos del router", "Adjunto fotos.")
    huge.add_attachment(
        os.urandom(1_200_000), maintype="image", subtype="jpeg", filename="router.jpg"
    )
    mail.append(SUPPORT, huge.as_bytes())
    text = (
        Path(tmp_path / "maildesk.toml")
        .read_text()
        .replace("max_message_bytes = 25000000", "max_message_bytes = 1000000")
    )
    Path(tmp_path / "small.toml").write_text(text)
    from maildesk.config import load_config

    small = load_config(tmp_path / "small.toml")

    on_server = mail.wait_for_messages(SUPPORT, 2)
    assert b"this is not a mail" in on_server[0]

    summary = run_once(small)

    assert summary.outcomes == {"quarantined": 2}
    db = Database(small.database.url)
    with db.session() as session:
        rows = session.scalars(select(QuarantinedMail).order_by(QuarantinedMail.uid)).all()
        assert [r.reason for r in rows] == ["binary", "too-large"]
        assert rows[0].raw == on_server[0]  # kept whole, as the server holds it
        assert rows[1].raw is None and rows[1].size > 1_000_000
    db.dispose()
    client = mail.imap_client(SUPPORT)
    client.select_folder("INBOX")
    flags = client.get_flags(client.search("ALL"))
    client.logout()
    assert len(flags) == 2
    assert all(QUARANTINE_KEYWORD.encode() in f for f in flags.values())
    # Seen again on the next run: nothing new, nothing lost.
    assert run_once(small).outcomes == {}
    assert count_rows(small, QuarantinedMail) == 2
    assert count_rows(small, OutboxItem) == 0


def test_two_daemons_in_threads_share_the_work_without_double_replies(
    mail: MailStack, stack_config: Config
) -> None:
    senders = [f"cliente{i}@clientes.test" for i in (1, 2, 3)]
    for sender in senders:
        mail.append(SUPPORT, client_mail(sender, "Tarifa", "Quiero cambiar de tarifa.").as_bytes())
    errors: list[BaseException] = []

    def one() -> None:
        try:
            run_once(stack_config)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count_rows(stack_config, Incident) == 3
    assert count_rows(stack_config, OutboxItem, OutboxItem.status == "sent") == 3
    mail.wait_until_delivered()
    assert [mail.message_count(s) for s in senders] == [1, 1, 1]


def test_daemon_polls_when_idle_is_off(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(path.read_text().replace("idle = true", "idle = false"))
    proc = daemon_process()
    wait_for("polling", lambda: "mode=poll" in log_text(tmp_path))
    mail.deliver(
        client_mail("cliente2@clientes.test", "Cobertura", "No hay cobertura móvil.").as_bytes(),
        to=SUPPORT,
        mail_from="cliente2@clientes.test",
    )
    mail.wait_for_messages("cliente2@clientes.test", 1, timeout=15)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    about_mail = [
        line
        for line in log_text(tmp_path).splitlines()
        if "mail handled" in line or "reply sent" in line
    ]
    assert len(about_mail) == 2
    assert all("message_id=" in line and "reference=MD-" in line for line in about_mail)


class SimulatedCrash(BaseException):
    """The process dies here (BaseException: nothing on the way may swallow it)."""


def crash_config(
    tmp_path: Path,
    mail: MailStack,
    *,
    copies: bool,
    copies_in_inbox: bool = False,
    lease_seconds: int = 1,
    handoff: bool = False,
) -> Config:
    from maildesk.config import load_config
    from maildesk.testing.stackconfig import write_local_config

    path = write_local_config(
        tmp_path,
        mail.imap_port,
        mail.smtp_port,
        "crash",
        copy_to_support=copies,
        copies_in_inbox=copies_in_inbox,
        handoff=handoff,
    )
    path.write_text(
        path.read_text().replace(
            "sending_lease_seconds = 30", f"sending_lease_seconds = {lease_seconds}"
        )
    )
    return load_config(path)


def crashing_run(config: Config, *, after_accept: bool, to: str | None = None) -> None:
    """One ``run --once`` whose process dies around the first SMTP send (to ``to``)."""
    from maildesk.outbound.outbox import AiosmtplibSession

    class Crashing(AiosmtplibSession):
        async def send(
            self, mail_from: str, recipients: Sequence[str], raw: bytes, copy_to: str | None = None
        ) -> None:
            if to is not None and to not in recipients:
                return await super().send(mail_from, recipients, raw, copy_to)
            if not after_accept:
                raise SimulatedCrash("before the SMTP transaction")
            await super().send(mail_from, recipients, raw, copy_to)
            raise SimulatedCrash("after the server accepted, before it was recorded")

    parts = build_parts(config, SystemClock(), smtp_sessions=lambda: Crashing(config.smtp, ""))
    with pytest.raises(SimulatedCrash):
        asyncio.run(Daemon(parts).run_once())
    parts.database.dispose()
    in_flight = count_rows(config, OutboxItem, OutboxItem.status == "sending")
    # the first send alone; with ``to``, others may have been in flight beside it
    assert in_flight == 1 if to is None else in_flight >= 1


@pytest.mark.parametrize("copies_in_inbox", [False, True], ids=["copies-in-sent", "in-inbox"])
@pytest.mark.parametrize("after_accept", [True, False], ids=["after-accept", "before-send"])
def test_crash_around_the_smtp_send_sends_the_reply_exactly_once(
    mail: MailStack, tmp_path: Path, after_accept: bool, copies_in_inbox: bool
) -> None:
    config = crash_config(tmp_path, mail, copies=True, copies_in_inbox=copies_in_inbox)
    client = "cliente1@clientes.test"
    mail.append(SUPPORT, client_mail(client, "Sin internet", "No hay internet.").as_bytes())
    crashing_run(config, after_accept=after_accept)
    copies = "INBOX" if copies_in_inbox else "Sent"
    if after_accept:
        mail.wait_for_messages(SUPPORT, 1, copies)  # the copy is in the support mailbox
    summary = run_once(config, AheadClock(timedelta(seconds=1.2)))  # past the lease

    assert summary.sent.sent == (0 if after_accept else 1)
    mail.wait_until_delivered()
    assert mail.message_count(client) == 1
    db = Database(config.database.url)
    with db.session() as session:
        [row] = session.scalars(select(OutboxItem)).all()
        [incident] = session.scalars(select(Incident)).all()
    db.dispose()
    assert row.status == "sent"
    assert incident.acknowledged_at is not None
    if after_accept:
        assert row.confirmed_at is not None and row.attempts == 1
        # A copy in the INBOX is read (and recorded as such); one in Sent is searched for.
        assert summary.outcomes == ({"ignored": 1} if copies_in_inbox else {})
    # One copy: one reply left. A copy read from the INBOX is filed with the client's mail.
    if copies_in_inbox:
        assert mail.message_count(SUPPORT) + mail.message_count(SUPPORT, "Processed") == 2
    else:
        assert mail.message_count(SUPPORT, "Sent") == 1


def test_the_running_daemon_settles_an_interrupted_send_when_its_lease_ends(
    mail: MailStack, tmp_path: Path
) -> None:
    """No mail arrives to wake intake: it leaves IDLE when the lease of the send a crash
    interrupted moments ago ends, finds the copy in Sent, and does not send it again."""
    config = crash_config(tmp_path, mail, copies=True, lease_seconds=3)
    client = "cliente3@clientes.test"
    mail.append(SUPPORT, client_mail(client, "Sin internet", "No hay internet.").as_bytes())
    crashing_run(config, after_accept=True)
    mail.wait_for_messages(SUPPORT, 1, "Sent")

    with daemon_running(Daemon(build_parts(config, SystemClock()))):
        wait_for(
            "the copy to settle the send",
            lambda: count_rows(config, OutboxItem, OutboxItem.confirmed_at.is_not(None)) == 1,
            timeout=15,
        )
    db = Database(config.database.url)
    with db.session() as session:
        [row] = session.scalars(select(OutboxItem)).all()
    db.dispose()
    assert row.status == "sent" and row.attempts == 1
    assert row.claimed_at is not None and row.confirmed_at is not None
    assert (row.confirmed_at - row.claimed_at).total_seconds() >= 3  # not before its lease
    mail.wait_until_delivered()
    assert mail.message_count(client) == 1


def test_without_delivery_copies_the_crash_window_resends_once_more(
    mail: MailStack, tmp_path: Path
) -> None:
    """Why the copies exist: without them an accepted-but-unrecorded reply goes out again."""
    config = crash_config(tmp_path, mail, copies=False)
    client = "cliente2@clientes.test"
    mail.append(SUPPORT, client_mail(client, "Sin internet", "No hay internet.").as_bytes())
    crashing_run(config, after_accept=True)

    assert run_once(config, AheadClock(timedelta(seconds=1.2))).sent.sent == 1
    assert len(mail.wait_for_messages(client, 2)) == 2


def test_wrong_imap_password_is_said_plainly_and_the_daemon_stays_up(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(path.read_text().replace('password = "secret"', 'password = "wrong"', 1))
    proc = daemon_process()
    wait_for(
        "the refusal", lambda: "IMAP login refused for support@maildesk.test" in log_text(tmp_path)
    )
    assert proc.poll() is None  # still running, retrying
    assert "wrong" not in log_text(tmp_path)  # the password itself is never logged
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def test_old_delivery_copies_are_deleted_from_sent_and_nothing_else(
    mail: MailStack, tmp_path: Path
) -> None:
    """imap.sent_retention_days (365 in the example): our copies older than that go; the
    distributor's own sent mail, other robots' mail and recent copies stay."""
    config = crash_config(tmp_path, mail, copies=True)
    assert config.imap.sent_retention_days == 365
    long_ago = datetime.now(UTC) - timedelta(days=400)
    ours = {"X-Maildesk-Loop": SUPPORT}
    cases = {
        "old-copy": (ours, long_ago),
        "recent-copy": (ours, None),
        "own-sent-mail": ({}, long_ago),
        "other-robot": ({"X-Maildesk-Loop": "robot@clientes.test"}, long_ago),
    }
    for subject, (headers, received) in cases.items():
        msg = client_mail("distribuidor@maildesk.test", subject, "texto", headers=headers)
        mail.append(SUPPORT, msg.as_bytes(), "Sent", received=received)

    run_once(config)
    run_once(config)  # again: nothing more to delete, nothing else touched

    left = [
        email.message_from_bytes(raw)["Subject"]
        for raw in mail.wait_for_messages(SUPPORT, 1, "Sent")
    ]
    assert sorted(left) == ["other-robot", "own-sent-mail", "recent-copy"]


@pytest.mark.parametrize("after_accept", [True, False], ids=["after-accept", "before-send"])
def test_crash_around_a_forward_sends_it_to_the_team_exactly_once(
    mail: MailStack, tmp_path: Path, after_accept: bool
) -> None:
    from maildesk.testing.stackconfig import TECHNICAL

    config = crash_config(tmp_path, mail, copies=True, handoff=True)
    client = "cliente2@clientes.test"
    mail.append(
        SUPPORT, client_mail(client, "Sin internet", "No hay internet en la tienda.").as_bytes()
    )
    crashing_run(config, after_accept=after_accept, to=TECHNICAL)  # dies on the forward
    mail.wait_until_delivered()  # after acceptance, its copy in Sent is the proof it left
    summary = run_once(config, AheadClock(timedelta(seconds=1.2)))  # past the lease
    assert summary.outcomes.get("new_incident", 0) == 0  # the mail was not handled twice
    mail.wait_until_delivered()
    assert mail.message_count(TECHNICAL) == 1  # the forward, once
    assert mail.message_count(client) == 1  # the acknowledgement, once


def test_status_and_metrics_show_what_the_running_daemon_does(
    mail: MailStack,
    stack_config: Config,
    daemon_process: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    import json
    import re
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_path = tmp_path / "maildesk.toml"
    text = config_path.read_text()
    text = re.sub(r"(?m)^(\[metrics\][^\[]*?)^enabled = false", r"\1enabled = true", text)
    text = re.sub(r"(?m)^port = 9464", f"port = {port}", text)
    config_path.write_text(text)

    def status(*extra: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "maildesk.cli", "--config", str(config_path), "status",
             *extra],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    proc = daemon_process()
    wait_for("IDLE", lambda: "mode=idle" in log_text(tmp_path))
    sender = "cliente3@clientes.test"
    mail.deliver(
        client_mail(sender, "Datáfono", "El datáfono no está configurado.").as_bytes(),
        to=SUPPORT,
        mail_from=sender,
    )
    mail.wait_for_messages(sender, 1, timeout=20)
    wait_for("the reply recorded as sent", lambda: "reply sent" in log_text(tmp_path))

    code, out = status("--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["running"] is True
    roles = {p["role"]: p for p in report["processes"]}
    assert roles["intake"]["state"] == "idle" and not roles["intake"]["stale"]
    wait_for(
        "the intake's last event in its heartbeat",
        lambda: "1 mail(s) handled" in status("--json", "--no-imap")[1],
        timeout=15,
    )
    assert (report["inbox_waiting"], report["inbox_source"]) == (0, "server")
    assert report["outbox"].get("sent") == 1 and report["outbox_oldest_unsent"] is None
    assert report["quarantined"] == 0 and report["duplicates_today"] == 0
    assert report["model_version"].startswith("20") and "sha256:" in report["model_version"]

    scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    metrics = scraped.decode()
    assert "maildesk_up 1.0" in metrics
    assert 'maildesk_mails_handled_total{outcome="new_incident"} 1.0' in metrics
    assert 'maildesk_outbox_rows{status="sent"} 1.0' in metrics
    assert "maildesk_inbox_waiting" not in metrics or "maildesk_inbox_waiting 0.0" in metrics

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    code, out = status("--no-imap")
    assert code == 1  # no intake alive: a monitoring check turns red
    assert "intake  stopped" in out and "maildesk stopped" in out


def test_sigkill_at_random_moments_mid_backlog_loses_nothing_and_sends_nothing_twice(
    mail: MailStack, tmp_path: Path
) -> None:
    """The shortened CI form of the spine's SIGKILL loop: the daemon (intake and its sender
    process) killed 8 times at random moments while 600 mails wait; then it finishes."""
    import random

    TOTAL = 600
    config = crash_config(tmp_path, mail, copies=True)
    path = tmp_path / "crash.toml"
    path.write_text(
        path.read_text()
        .replace("separate_process = false", "separate_process = true")
        .replace("max_auto_replies_per_sender = 5", "max_auto_replies_per_sender = 1000")
    )
    clients = [u for u in ("cliente1", "cliente2", "cliente3", "cliente4", "cliente5")]
    sent_to: dict[str, int] = {}
    for number in range(TOTAL):
        sender = f"{clients[number % len(clients)]}@clientes.test"
        sent_to[sender] = sent_to.get(sender, 0) + 1
        mail.append(
            SUPPORT,
            client_mail(sender, f"Sin línea {number}", "No tenemos tono en la línea.").as_bytes(),
        )

    def start(log: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "maildesk.cli", "--config", str(path), "run"],
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    database = Database(config.database.url)
    database.migrate()  # as 'maildesk db upgrade' would: progress is read from the start
    database.dispose()
    pick = random.Random(20261203)
    killed_at: list[int] = []
    for round_number in range(8):
        proc = start(tmp_path / f"killed{round_number}.log")
        try:
            # Killed mid-backlog: once a random number of further incidents is committed
            # (the sender is at work by then), a few milliseconds later.
            target = min(TOTAL - 20, count_rows(config, Incident) + pick.randint(1, 15))
            wait_for("progress", lambda t=target: count_rows(config, Incident) >= t, timeout=60)
            time.sleep(pick.uniform(0.0, 0.05))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the sender process dies with it
            proc.wait()
        killed_at.append(count_rows(config, Incident))
    assert killed_at[-1] < TOTAL, killed_at  # every kill landed before the end
    proc = start(tmp_path / "final.log")
    try:
        wait_for(
            "the backlog to be done",
            lambda: (
                count_rows(config, Incident) == TOTAL
                and count_rows(config, OutboxItem, OutboxItem.status != "sent") == 0
            ),
            timeout=120,
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    mail.wait_until_delivered()
    assert count_rows(config, OutboxItem, OutboxItem.purpose == "ack") == TOTAL  # one each
    assert {c: mail.message_count(c) for c in sent_to} == sent_to  # none lost, none twice
    assert client_mails_in_inbox(mail) == []
