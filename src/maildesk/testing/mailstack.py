"""Python wrapper around ``scripts/mailstack.sh`` (private Dovecot + Postfix on 127.0.0.1).

Typical use in a pytest fixture::

    directory = make_stack_directory()
    stack = MailStack.start(directory, imap_port=11143, smtp_port=11025, lmtp_port=11024)
    try:
        yield stack
    finally:
        stack.stop()

The stack needs root. Every parent of ``directory`` must be searchable by the ``postfix``,
``dovecot`` and ``mail`` system users, so pytest's ``tmp_path`` (mode 0700) does not work:
use :func:`make_stack_directory`.
"""

from __future__ import annotations

import re
import smtplib
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from imapclient import IMAPClient

from maildesk.testing import scripts

SCRIPT_ENV = "MAILDESK_MAILSTACK_SCRIPT"
DEFAULT_IMAP_PORT = 10143
DEFAULT_SMTP_PORT = 10025
DEFAULT_LMTP_PORT = 10024
PASSWORD = "secret"

#: Mailboxes the script always creates (all with password ``secret``).
DEFAULT_USERS: tuple[str, ...] = (
    "support@maildesk.test",
    "distribuidor@maildesk.test",
    "tecnico@operador.test",
    "cdf@operador.test",
    "cliente1@clientes.test",
    "cliente2@clientes.test",
    "cliente3@clientes.test",
    "cliente4@clientes.test",
    "cliente5@clientes.test",
    "bar.pepe@clientes.test",
    "gestoria.llobregat@clientes.test",
    "hotel.marina@clientes.test",
    "clinica.sol@clientes.test",
    "ferreteria.garcia@clientes.test",
    "autoreply@clientes.test",
    "mailer-daemon@clientes.test",
)

# Start may have to apt-get install Dovecot and Postfix on a fresh machine.
_START_TIMEOUT = 900.0
_COMMAND_TIMEOUT = 60.0
_NETWORK_TIMEOUT = 10.0
_ENDPOINTS = re.compile(r"imap=(?P<ih>[^:\s]+):(?P<ip>\d+) smtp=(?P<sh>[^:\s]+):(?P<sp>\d+)")


def script_path() -> Path:
    """Return the path of ``mailstack.sh`` (env ``MAILDESK_MAILSTACK_SCRIPT`` wins)."""
    return scripts.script_path("mailstack.sh", SCRIPT_ENV)


def make_stack_directory(prefix: str = "maildesk-mailstack-", base: Path | None = None) -> Path:
    """Create a fresh directory under ``base`` (default /tmp) that the services' users can
    reach."""
    return scripts.make_reachable_directory(prefix, base)


def remove_stack_directory(directory: Path) -> None:
    """Delete a (stopped) directory, ignoring errors."""
    scripts.remove_directory(directory)


def _run_script(
    command: str,
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = _COMMAND_TIMEOUT,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``mailstack.sh COMMAND --dir DIRECTORY``; raise RuntimeError with its output."""
    return scripts.run_script(
        script_path(), SCRIPT_ENV, command, directory, env=env, timeout=timeout, check=check
    )


@dataclass(frozen=True)
class MailStack:
    """A running local mail stack: IMAP (Dovecot) and SMTP (Postfix) on loopback."""

    directory: Path
    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int
    password: str = PASSWORD

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        directory: Path,
        *,
        imap_port: int = DEFAULT_IMAP_PORT,
        smtp_port: int = DEFAULT_SMTP_PORT,
        lmtp_port: int = DEFAULT_LMTP_PORT,
        extra_users: Iterable[str] = (),
        timeout: float = _START_TIMEOUT,
        oauth2_introspection_url: str = "",
    ) -> MailStack:
        """Start the stack in ``directory`` (idempotent) and return its endpoints.

        With ``oauth2_introspection_url``, Dovecot also takes XOAUTH2 / OAUTHBEARER tokens
        (checked at that URL) and Postfix takes authenticated submission on
        ``smtp_port + 1``, its SASL checked by Dovecot on ``imap_port + 1``."""
        directory = Path(directory).resolve()
        env = {
            "MAILSTACK_IMAP_PORT": str(imap_port),
            "MAILSTACK_SMTP_PORT": str(smtp_port),
            "MAILSTACK_LMTP_PORT": str(lmtp_port),
            "MAILSTACK_EXTRA_USERS": " ".join(extra_users),
            # OAuth2 mode: Dovecot checks XOAUTH2 / OAUTHBEARER tokens at this URL
            "MAILSTACK_OAUTH2_INTROSPECTION_URL": oauth2_introspection_url,
        }
        result = _run_script("start", directory, env=env, timeout=timeout)
        # An already running stack keeps the ports it was started with: trust its output.
        matches = list(_ENDPOINTS.finditer(result.stdout))
        if matches:
            found = matches[-1]
            return cls(
                directory=directory,
                imap_host=found["ih"],
                imap_port=int(found["ip"]),
                smtp_host=found["sh"],
                smtp_port=int(found["sp"]),
            )
        return cls(directory, "127.0.0.1", imap_port, "127.0.0.1", smtp_port)

    def stop(self) -> None:
        """Stop Dovecot and Postfix; safe to call when already stopped."""
        _run_script("stop", self.directory)

    def stop_smtp(self) -> None:
        """Stop only Postfix (its queue is kept)."""
        _run_script("stop-smtp", self.directory)

    def start_smtp(self) -> None:
        """Start Postfix again and flush whatever was queued."""
        _run_script("start-smtp", self.directory)

    def stop_imap(self) -> None:
        """Stop only Dovecot (mail is kept): the daemon must reconnect when it is back."""
        _run_script("stop-imap", self.directory)

    def start_imap(self) -> None:
        """Start Dovecot again with the same mailboxes."""
        _run_script("start-imap", self.directory)

    def is_running(self) -> bool:
        """True when both Dovecot and Postfix of this directory are running."""
        return _run_script("status", self.directory, check=False).returncode == 0

    def __enter__(self) -> MailStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- IMAP helpers --------------------------------------------------------------------------

    def imap_client(self, user: str) -> IMAPClient:
        """Return an IMAP client logged in as ``user`` (caller must ``logout()``)."""
        client = IMAPClient(
            self.imap_host, port=self.imap_port, ssl=False, timeout=_NETWORK_TIMEOUT
        )
        try:
            client.login(user, self.password)
        except Exception:
            client.shutdown()
            raise
        return client

    def message_count(self, user: str, folder: str = "INBOX") -> int:
        """Number of messages in ``folder`` of ``user``."""
        client = self.imap_client(user)
        try:
            return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])
        finally:
            client.logout()

    def wait_for_messages(
        self, user: str, count: int, folder: str = "INBOX", timeout: float = 15.0
    ) -> list[bytes]:
        """Poll until ``folder`` holds at least ``count`` messages; return them in UID order.

        Messages are fetched with ``BODY.PEEK[]`` so their ``\\Seen`` flag is left alone.
        Raises TimeoutError when they do not arrive in time.
        """
        deadline = time.monotonic() + timeout
        client = self.imap_client(user)
        try:
            while True:
                client.select_folder(folder, readonly=True)
                uids = sorted(client.search("ALL"))
                if len(uids) >= count:
                    fetched = client.fetch(uids, ["BODY.PEEK[]"])
                    return [bytes(fetched[uid][b"BODY[]"]) for uid in uids]
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"{user}/{folder}: {len(uids)} message(s) after {timeout}s, "
                        f"expected {count}; {self.queue_report()}"
                    )
                time.sleep(0.1)
        finally:
            client.logout()

    def queue_report(self) -> str:
        """What Postfix still holds and why (``postqueue -p``): a mail that never arrived
        was either never handed to Dovecot (deferred, with the reason) or taken by a reader."""
        try:
            done = subprocess.run(
                ["postqueue", "-c", str(self.directory / "postfix"), "-p"],
                capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"Postfix queue unknown ({exc})"
        text = (done.stdout + done.stderr).strip()
        if "Mail queue is empty" in text:
            return "Postfix's queue is empty"
        return f"Postfix's queue: {text[:1500]}"

    def wait_until_delivered(self, timeout: float = 15.0) -> None:
        """Poll until Postfix's queue is empty: everything it accepted has been handed to
        Dovecot, so a count taken now is final (no "anything sent twice would have arrived
        by now" sleeps)."""
        queue = self.directory / "postfix-queue"
        parts = ("maildrop", "incoming", "active", "deferred", "hold")
        deadline = time.monotonic() + timeout
        while any(p.is_file() for part in parts for p in (queue / part).rglob("*")):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Postfix still holds mail after {timeout}s ({queue})")
            time.sleep(0.05)

    def empty(self, user: str, folders: Sequence[str] = ("INBOX", "Processed", "Sent")) -> None:
        """Delete every message in the given folders of ``user`` (test isolation)."""
        client = self.imap_client(user)
        try:
            for folder in folders:
                if not client.folder_exists(folder):
                    continue
                client.select_folder(folder)
                uids = client.search("ALL")
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
        finally:
            client.logout()

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
        received: datetime | None = None,
    ) -> None:
        """Store ``raw`` directly in ``folder`` of ``user`` with IMAP APPEND (no SMTP),
        received ``received`` (its internal date) when given, else now."""
        client = self.imap_client(user)
        try:
            client.append(folder, raw, flags=tuple(flags), msg_time=received)
        finally:
            client.logout()

    # -- SMTP helper ---------------------------------------------------------------------------

    def deliver(self, raw: bytes, to: str | Sequence[str], mail_from: str) -> None:
        """Submit ``raw`` to the stack's SMTP server (smtplib errors propagate)."""
        recipients = [to] if isinstance(to, str) else list(to)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=_NETWORK_TIMEOUT) as smtp:
            smtp.sendmail(mail_from, recipients, raw)
