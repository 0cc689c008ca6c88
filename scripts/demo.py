"""The demo: a local mail stack, realistic client mails, the daemon acknowledging them.

Run through ``bash scripts/demo.sh`` (which installs maildesk first). Everything lives in
``var/demo/`` (the mail stack in a folder under /tmp) and the mail stack is stopped at the
end (``--keep`` leaves it running).
"""

from __future__ import annotations

import argparse
import email
import email.message
import email.policy
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import func, select

from maildesk.cli import main as maildesk
from maildesk.db.store import Database
from maildesk.db.tables import Incident, Message, OutboxItem
from maildesk.testing.mailstack import MailStack, make_stack_directory, remove_stack_directory
from maildesk.testing.stackconfig import (
    BILLING,
    DISTRIBUTOR,
    SUPPORT,
    TECHNICAL,
    write_local_config,
)

REPO = Path(__file__).resolve().parents[1]
MAILS = REPO / "demo" / "mails"
FOLLOWUP = "14-re-sigue-sin-internet.eml"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text} ==\033[0m", flush=True)


def wait_until(what: str, predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out waiting for {what}")
        time.sleep(0.2)


def body_of(msg: email.message.EmailMessage, subtype: str) -> str:
    """A text part as a reader sees it (MIME text travels with CRLF line breaks)."""
    part = msg.get_body(preferencelist=(subtype,))
    return "" if part is None else part.get_content().replace("\r\n", "\n")


def counts(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        messages = (
            session.scalar(
                select(func.count(Message.id)).where(
                    Message.reason.not_like("own-copy%"), Message.reason != "loop:own-reply"
                )
            )
            or 0
        )
        incidents = session.scalar(select(func.count(Incident.id))) or 0
        pending = (
            session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.status != "sent"))
            or 0
        )
    return messages, incidents, pending


def sender_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg["From"].addresses[0].addr_spec


def screenshot(html: Path, png: Path) -> None:
    """The digest as a phone shows it, when Chromium is installed (not needed otherwise)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("(no Chromium here: no screenshot; open the HTML file in a browser)")
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--window-size=412,2200",
             f"--screenshot={png}", html.as_uri()],
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
    print(f"screenshot (412 px wide, as on a phone) written to {png}" if png.exists() else
          "(Chromium could not take the screenshot)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default=str(REPO / "var" / "demo"), help="working folder")
    parser.add_argument("--keep", action="store_true", help="leave the mail stack running")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("maildesk.db*"):
        stale.unlink()

    banner("Starting the local mail stack (Dovecot IMAP + Postfix SMTP on 127.0.0.1)")
    # Under /tmp, not in the working folder: Postfix and Dovecot run as their own users and
    # must reach it, which a clone in /root (mode 0700) would not allow.
    stack_dir = make_stack_directory("maildesk-demo-")
    stack = MailStack.start(stack_dir)
    daemon: subprocess.Popen[bytes] | None = None
    try:
        # The distributor is on the desk's staff list: he runs it by replying from his phone.
        os.environ["MAILDESK_DEMO_DESK_SECRET"] = secrets.token_urlsafe(24)
        config_path = write_local_config(
            work, stack.imap_port, stack.smtp_port, copy_to_support=True, handoff=True,
            extra=(
                "\n[desk]\n"
                'token_secret_env = "MAILDESK_DEMO_DESK_SECRET"\n'
                f'staff = [{{ address = "{DISTRIBUTOR}", name = "Jordi", language = "es" }}]\n'
            ),
        )  # fmt: skip
        for user in (
            "support@maildesk.test",
            DISTRIBUTOR,
            TECHNICAL,
            BILLING,
            *{sender_of(p.read_bytes()) for p in MAILS.glob("*.eml")},
        ):
            stack.empty(user)
        banner(f"maildesk check  (config: {config_path})")
        maildesk(["--config", str(config_path), "check"])

        banner("Starting the daemon: maildesk run")
        log_path = work / "daemon.log"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "maildesk.cli", "--config", str(config_path), "run"],
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        database = Database(f"sqlite:///{work / 'maildesk.db'}")
        wait_until("the daemon to start", lambda: "connected to mailbox" in log_path.read_text())

        banner("Clients write to support@maildesk.test")
        files = sorted(p for p in MAILS.glob("*.eml") if p.name != FOLLOWUP)
        for path in files:
            raw = path.read_bytes()
            stack.deliver(raw, to=SUPPORT, mail_from=sender_of(raw))
            print(f"  sent {path.name}")
        wait_until(
            "every mail to be handled",
            lambda: counts(database)[0] == len(files) and counts(database)[2] == 0,
        )

        banner("A client answers the acknowledgement (follow-up on the same incident)")
        [first_ack] = stack.wait_for_messages("bar.pepe@clientes.test", 1)
        ack = email.message_from_bytes(first_ack, policy=email.policy.default)
        reference = ack["X-Maildesk-Reference"]
        raw = (MAILS / FOLLOWUP).read_bytes()
        raw = re.sub(rb"MD-\d{4}-\d{6}", reference.encode(), raw)
        raw = raw.replace(b"<md.20261125T074713.9f8e7d@maildesk.test>", ack["Message-ID"].encode())
        stack.deliver(raw, to=SUPPORT, mail_from="bar.pepe@clientes.test")
        print(f"  sent {FOLLOWUP} (Re: [{reference}])")
        wait_until(
            "the follow-up",
            lambda: counts(database)[0] == len(files) + 1 and counts(database)[2] == 0,
        )

        banner(f"The hand-off as the technical service ({TECHNICAL}) received it")
        forwards = stack.wait_for_messages(TECHNICAL, 1)
        forward = next(
            f
            for f in (email.message_from_bytes(r, policy=email.policy.default) for r in forwards)
            if reference in f["Subject"]
        )
        for name in ("From", "To", "Reply-To", "Subject", "Message-ID", "Auto-Submitted"):
            print(f"{name}: {forward[name]}")
        print()
        print(body_of(forward, "plain"))
        attached = [p.get_filename() for p in forward.iter_attachments()]
        print(f"(attached: {', '.join(str(a) for a in attached)}: the client's mail, as it came)")
        print(f"({stack.message_count(TECHNICAL)} forwards to the technical service, "
              f"{stack.message_count(BILLING)} to the CDF)")  # fmt: skip

        banner("The technical service answers (by SMTP, to the forward's Reply-To)")
        answer = email.message.EmailMessage()
        answer["From"] = f"Soporte técnico <{TECHNICAL}>"
        answer["To"] = str(forward["Reply-To"])
        answer["Subject"] = f"RE: {forward['Subject']}"
        answer["Message-ID"] = f"<answer.{reference.lower()}@operador.test>"
        answer["In-Reply-To"] = str(forward["Message-ID"])
        answer.set_content(
            "Buenas tardes,\n\nAvería localizada en la central de la zona: un técnico pasa "
            "mañana a primera hora.\n\nSoporte técnico\n"
        )
        stack.deliver(answer.as_bytes(), to=SUPPORT, mail_from=TECHNICAL)
        print(f"  sent {answer['Subject']}")
        wait_until(
            "the team's answer",
            lambda: counts(database)[0] == len(files) + 2 and counts(database)[2] == 0,
        )
        database.dispose()
        banner("maildesk status (while the daemon runs)")
        maildesk(["--config", str(config_path), "status"])
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    try:
        banner("Daemon log (last lines)")
        print("\n".join(log_path.read_text().splitlines()[-8:]))

        banner("maildesk incidents list")
        maildesk(["--config", str(config_path), "incidents", "list"])

        banner(f"maildesk incidents show {reference}")
        maildesk(["--config", str(config_path), "incidents", "show", reference])

        banner("The acknowledgement as bar.pepe@clientes.test received it (fetched over IMAP)")
        received = stack.wait_for_messages("bar.pepe@clientes.test", 1)[0]
        msg = email.message_from_bytes(received, policy=email.policy.default)
        for name in (
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Auto-Submitted",
            "Content-Language",
        ):
            print(f"{name}: {msg[name]}")
        print()
        print(body_of(msg, "plain"))
        copies = stack.message_count(SUPPORT, "Sent")
        print(f"(support's Sent folder holds {copies} delivery copies: proof each reply left)")

        banner("The morning digest: maildesk digest --send")
        maildesk(["--config", str(config_path), "digest", "--send"])
        [raw_digest] = stack.wait_for_messages(DISTRIBUTOR, 1)
        digest = email.message_from_bytes(raw_digest, policy=email.policy.default)
        banner(f"The digest as {DISTRIBUTOR} received it (fetched over IMAP)")
        print(f"Subject: {digest['Subject']}\n")
        print(body_of(digest, "plain"))
        html_path = work / "digest.html"
        html_path.write_text(body_of(digest, "html"), "utf-8")
        print(f"HTML part written to {html_path}")
        screenshot(html_path, work / "digest.png")

        resolve_from_the_digest(stack, config_path, digest, reference)
    finally:
        if args.keep:
            print(
                f"\nThe mail stack keeps running in {stack_dir}; stop it with: "
                f"bash scripts/mailstack.sh stop --dir {stack_dir}"
            )
        else:
            banner("Stopping the mail stack")
            stack.stop()
            remove_stack_directory(stack_dir)
    return 0


def resolve_from_the_digest(
    stack: MailStack, config_path: Path, digest: email.message.EmailMessage, reference: str
) -> None:
    """The distributor taps the incident's line in his digest and writes two commands; the
    client gets the resolution notice and taps a score."""
    banner(f"The distributor resolves {reference} by replying to his digest")
    links = re.findall(r'href="mailto:([^"?]+)\?subject=([^"&]+)"', body_of(digest, "html"))
    address, subject = next((a, unquote(s)) for a, s in links if reference in unquote(s))
    command = email.message.EmailMessage()
    command["From"] = f"Jordi <{DISTRIBUTOR}>"
    command["To"] = address  # the line's secret reply address: no header proves more
    command["Subject"] = subject
    command["Message-ID"] = "<resolve.demo@maildesk.test>"
    command["In-Reply-To"] = str(digest["Message-ID"])
    command.set_content(
        "resolver El técnico ha cambiado el router; la línea vuelve a sincronizar.\n"
        "tiempo 45m\n\nEnviado desde mi móvil\n\n> " + body_of(digest, "plain")[:200]
    )
    stack.deliver(command.as_bytes(), to=address, mail_from=DISTRIBUTOR)
    print(f"To: {address}\nSubject: {subject}\n\n{command.get_content()[:160]}…")
    maildesk(["--config", str(config_path), "run", "--once"])

    banner(f"maildesk's answer, as {DISTRIBUTOR} received it")
    answer = email.message_from_bytes(
        stack.wait_for_messages(DISTRIBUTOR, 2)[-1], policy=email.policy.default
    )
    print(f"Subject: {answer['Subject']}\n\n{body_of(answer, 'plain')}")

    banner("The resolution notice, as bar.pepe@clientes.test received it")
    received = stack.wait_for_messages("bar.pepe@clientes.test", 1)
    notice = next(
        m
        for m in (email.message_from_bytes(r, policy=email.policy.default) for r in received)
        if "Resuelta:" in str(m["Subject"])
    )
    print(f"Subject: {notice['Subject']}\nIn-Reply-To: {notice['In-Reply-To']}\n")
    print(body_of(notice, "plain"))
    survey_links = re.findall(r'href="mailto:([^"?]+)', body_of(notice, "html"))
    [five] = [a for a in survey_links if "+s5-" in a]

    banner("The client taps 5")
    score = email.message.EmailMessage()
    score["From"] = "Pepe <bar.pepe@clientes.test>"
    score["To"] = five
    score["Subject"] = f"Re: {notice['Subject']}"
    score["Message-ID"] = "<score.demo@clientes.test>"
    score.set_content("5")
    stack.deliver(score.as_bytes(), to=five, mail_from="bar.pepe@clientes.test")
    print(f"  sent to {five}")
    maildesk(["--config", str(config_path), "run", "--once"])

    banner(f"maildesk incidents show {reference}")
    maildesk(["--config", str(config_path), "incidents", "show", reference])
    banner("maildesk report levels --days 1")
    maildesk(["--config", str(config_path), "report", "levels", "--days", "1"])


if __name__ == "__main__":
    sys.exit(main())
