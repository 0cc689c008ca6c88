"""Reading the support mailbox: an IMAP adapter and the loop that feeds the pipeline.

Nothing outside this module knows IMAP exists. imapclient blocks, so the runner lives in a
worker thread; it hands each mail to the pipeline and marks it handled on the server only
after the pipeline has committed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy.exc import OperationalError

from maildesk.config import ImapConfig
from maildesk.db import store
from maildesk.db.heartbeat import Heartbeat
from maildesk.db.tables import QuarantinedMail
from maildesk.inbound.loopguard import LOOP_HEADER
from maildesk.inbound.pipeline import Handled, InboundMail, Outcome, Pipeline
from maildesk.oauth2 import sasl
from maildesk.oauth2.tokens import OAuth2Error, TokenSource
from maildesk.outbound.interrupted import InterruptedSends
from maildesk.runtime.retention import CopyRetention

log = logging.getLogger("maildesk.intake")

HANDLED_KEYWORD = "$MaildeskHandled"
QUARANTINE_KEYWORD = "$MaildeskQuarantine"
# Mails committed per transaction while a backlog drains: one commit and one checkpoint
# update per batch, and the SQLite write lock held for about a tenth of a second at most.
COMMIT_BATCH = 25
BURST_GATHER_SECONDS = 0.1
MIN_LEASE_WAIT_SECONDS = 1.0
# Faults that mean "the server went away or misbehaved": reconnect with backoff.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    IMAPClientError,
    OSError,
    socket.timeout,
    ssl.SSLError,
    EOFError,
)


class MailboxUnreachable(Exception):
    """``run --once`` could not reach or sign in to the mailbox: one line naming the server."""


@dataclass(frozen=True, slots=True)
class MailboxState:
    uidvalidity: int
    uidnext: int
    exists: int


class ImapMailbox:
    """A thin adapter over imapclient that speaks maildesk values."""

    def __init__(
        self, config: ImapConfig, password: str, tokens: TokenSource | None = None
    ) -> None:
        self._config = config
        self._password = password
        self._tokens = tokens  # with imap.auth = "oauth2"
        self._client: IMAPClient | None = None
        self.mechanism = "PASSWORD"  # how the last sign-in was made (for 'maildesk check')

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise ConnectionError("not connected")
        return self._client

    def connect(self) -> None:
        cfg = self._config
        client = IMAPClient(
            cfg.host, port=cfg.port, ssl=cfg.security == "ssl", timeout=cfg.timeout_seconds
        )
        if cfg.security == "starttls":
            client.starttls()
        if self._tokens is not None:
            self.mechanism = sign_in_oauth2(client, cfg, self._tokens)
        else:
            password_login(client, cfg, self._password)
        self._client = client
        for folder in (cfg.processed_folder, cfg.sent_folder):
            if folder and not client.folder_exists(folder):
                client.create_folder(folder)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except CONNECTION_ERRORS:
            with contextlib.suppress(*CONNECTION_ERRORS):
                client.shutdown()

    def supports_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def select(self) -> MailboxState:
        info = self.client.select_folder(self._config.folder)
        return MailboxState(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info.get(b"UIDNEXT", 0)),
            exists=int(info.get(b"EXISTS", 0)),
        )

    def uids_after(self, last_uid: int) -> list[int]:
        # What the server reported so far is covered by this search: forget it, so that only
        # changes after it count as news when IDLE starts (see _take_reported_changes).
        _take_reported_changes(self.client)
        # "n:*" always matches the newest message, even below n: filter.
        return sorted(
            uid for uid in self.client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid
        )

    def fetch(self, uids: Sequence[int], mailbox_state: MailboxState) -> list[InboundMail]:
        """The mails' bytes; those over the size limit come back with ``raw=None``."""
        if not uids:
            return []
        sizes = self.client.fetch(list(uids), ["RFC822.SIZE"])
        limit = self._config.max_message_bytes
        small = [uid for uid in uids if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= limit]
        bodies = self.client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        mails: list[InboundMail] = []
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if uid not in sizes:
                continue  # expunged meanwhile by someone else
            raw = bodies.get(uid, {}).get(b"BODY[]") if uid in small else None
            if uid in small and raw is None:
                continue  # vanished between the two fetches
            mails.append(
                InboundMail(
                    self._config.folder,
                    mailbox_state.uidvalidity,
                    uid,
                    size,
                    bytes(raw) if raw is not None else None,
                )
            )
        return mails

    def mark_handled(self, uids: Sequence[int]) -> None:
        """Move handled mail to the processed folder, or flag it in place."""
        if not uids:
            return
        folder = self._config.processed_folder
        if not folder:
            self.client.add_flags(list(uids), [HANDLED_KEYWORD])
            return
        if self.client.has_capability("MOVE"):
            try:
                self.client.move(list(uids), folder)
            except IMAPClientError as exc:
                if "EXPUNGEISSUED" not in str(exc) and "no longer exist" not in str(exc):
                    raise
                # Another worker moved some of them first: what is left is moved now.
                remaining = self.client.search(["UID", ",".join(map(str, uids))])
                if remaining:
                    self.client.move(remaining, folder)
        else:
            self.client.copy(list(uids), folder)
            self.client.delete_messages(list(uids))
            if self.client.has_capability("UIDPLUS"):
                self.client.uid_expunge(list(uids))
            else:
                self.client.expunge()

    @contextlib.contextmanager
    def _visiting(self, folder: str, readonly: bool) -> Iterator[IMAPClient]:
        """``folder`` selected for the block; then the folder intake reads again (IDLE
        waits on it)."""
        client = self.client
        client.select_folder(folder, readonly=readonly)
        try:
            yield client
        finally:
            self.select()

    def find_message_ids(self, folder: str, message_ids: Sequence[str], since: date) -> set[str]:
        """Those of these Message-IDs (without angle brackets) present in ``folder`` among the
        mail it received since ``since``."""
        with self._visiting(folder, readonly=True) as client:
            return {
                mid
                for mid in message_ids
                if client.search(["SINCE", since, "HEADER", "Message-ID", f"<{mid}>"])
            }

    def prune_copies(self, folder: str, before: date, marker: str) -> int:
        """Delete our delivery copies (loop header ``marker``) received before ``before``
        from ``folder``; nothing else in it. Needs UIDPLUS, so that the expunge removes
        exactly those: without it nothing is deleted (said once per call)."""
        if not self.client.has_capability("UIDPLUS"):
            log.warning(
                f"the server lacks UIDPLUS: old delivery copies stay in {folder}",
                extra={"folder": folder},
            )
            return 0
        with self._visiting(folder, readonly=False) as client:
            uids = client.search(["BEFORE", before, "HEADER", LOOP_HEADER, marker])
            if uids:
                client.delete_messages(uids)
                client.uid_expunge(uids)
            return len(uids)

    def mark_quarantined(self, uids: Sequence[int]) -> None:
        if uids:
            self.client.add_flags(list(uids), [QUARANTINE_KEYWORD])

    def unmarked_at_or_below(self, last_uid: int) -> list[int]:
        """Mails the database already handled but the server was not told about (crash)."""
        if last_uid <= 0:
            return []
        criteria: list[object] = ["UID", f"1:{last_uid}"]
        if not self._config.processed_folder:
            criteria += ["NOT", "KEYWORD", HANDLED_KEYWORD]
        return [uid for uid in self.client.search(criteria) if uid <= last_uid]

    def wait_for_news(self, seconds: float, stop: threading.Event) -> bool:
        """Block until the server reports a change, ``seconds`` pass, or ``stop`` is set;
        whether the server reported a change (always False when polling)."""
        if self._config.idle and self.supports_idle():
            client = self.client
            client.idle()
            ended = False
            try:
                if _take_reported_changes(client):
                    # Mail is streaming in: let a burst gather for a moment, so that intake
                    # reads it in one round rather than one round per message.
                    client.idle_check(timeout=BURST_GATHER_SECONDS)
                    return True
                deadline = time.monotonic() + seconds
                quick_empty = 0
                while not stop.is_set() and time.monotonic() < deadline:
                    started = time.monotonic()
                    responses = client.idle_check(timeout=min(1.0, seconds))
                    if any(_is_bye(r) for r in responses):
                        ended = True
                        raise ConnectionError(f"server ended the session: {responses}")
                    if any(_is_news(r) for r in responses):
                        return True
                    # A dead socket reads as "ready, nothing there" at once, forever.
                    quick_empty = quick_empty + 1 if time.monotonic() - started < 0.05 else 0
                    if quick_empty >= 20:
                        ended = True
                        raise ConnectionError("connection closed during IDLE")
            finally:
                if not ended:
                    client.idle_done()
        else:
            stop.wait(seconds)
            self.client.noop()
        return False


def password_login(client: IMAPClient, config: ImapConfig, password: str) -> None:
    try:
        client.login(config.username, password)
    except LoginError as exc:
        if sasl.BASIC_AUTH_OFF.search(str(exc)):
            raise LoginError(
                f"{config.host} no longer takes a password ({exc}): set imap.auth = "
                '"oauth2" and an [oauth2] section (README: Microsoft 365 / Google Workspace)'
            ) from None
        raise


def sign_in_oauth2(client: IMAPClient, config: ImapConfig, tokens: TokenSource) -> str:
    """AUTHENTICATE with the best mechanism the server offers; a refused token is renewed
    and tried once more. Returns the mechanism; ``LoginError`` says what to do otherwise."""
    offered = {
        c.decode("ascii", "replace")[5:]
        for c in client.capabilities()
        if c.upper().startswith(b"AUTH=")
    }
    mechanism = sasl.choose(offered, config.oauth2_mechanism)
    if mechanism is None:
        listed = ", ".join(sorted(offered)) or "none"
        raise LoginError(
            f"{config.host} offers no OAuth2 sign-in (AUTH= {listed}); "
            f"wanted {config.oauth2_mechanism}"
        )
    while True:
        try:
            token = tokens.token()
        except OAuth2Error as exc:
            hint = "; run 'maildesk auth login' to renew it" if exc.grant_lost else ""
            raise LoginError(f"no OAuth2 token for {config.username}: {exc}{hint}") from None
        try:
            if mechanism == "OAUTHBEARER":
                client.oauthbearer_login(config.username, token)
            else:
                client.oauth2_login(config.username, token, mech=mechanism)
        except LoginError as exc:
            if tokens.refused():
                continue  # a token the server no longer takes: one fresh one
            raise LoginError(
                f"{config.host} refused the OAuth2 token of {config.username} ({mechanism}): "
                f"{exc}; check the app's mailbox permissions"
            ) from None
        tokens.accepted()
        return mechanism


def _take_reported_changes(client: IMAPClient) -> bool:
    """Whether the server reported changes since the last search (a mail that arrived
    between our SEARCH and the IDLE command, reported with the IDLE's first response or a
    command's); consumes them. imaplib files such reports with the untagged responses
    instead of handing them to ``idle_check``, so without this look the mail would wait for
    the next change or the 29-minute renewal."""
    pending = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(pending, dict):
        return False
    found = False
    for kind in ("EXISTS", "RECENT", "EXPUNGE"):
        if pending.pop(kind, None):
            found = True
    return found


def _is_bye(response: object) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"


def _is_news(response: object) -> bool:
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and response[1] in (b"EXISTS", b"RECENT", b"EXPUNGE")
    )


@dataclass(slots=True)
class IntakeStats:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, handled: Handled) -> None:
        self.outcomes[str(handled.outcome)] = self.outcomes.get(str(handled.outcome), 0) + 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


class IntakeRunner:
    """Reads the mailbox from the checkpoint on, forever or once, reconnecting on faults."""

    def __init__(
        self,
        config: ImapConfig,
        mailbox_factory: Callable[[], ImapMailbox],
        pipeline: Pipeline,
        database: store.Database,
        on_committed: Callable[[], object] = lambda: None,
        interrupted: InterruptedSends | None = None,
        retention: CopyRetention | None = None,
        sleep: Callable[[float], bool] | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self._config = config
        self._factory = mailbox_factory
        self._pipeline = pipeline
        self._db = database
        self._on_committed = on_committed
        self._interrupted = interrupted
        self._retention = retention
        self.stop_event = threading.Event()
        self._sleep = sleep or self.stop_event.wait
        self.stats = IntakeStats()
        self._heartbeat = heartbeat

    def _note(self, state: str, event: str, **facts: object) -> None:
        if self._heartbeat is not None:
            self._heartbeat.note(state, event, **facts)

    def stop(self) -> None:
        self.stop_event.set()

    def run_once(self) -> IntakeStats:
        """Handle everything waiting now, then return (raises on connection faults; a
        ``MailboxUnreachable`` when the server cannot be reached or refuses the login)."""
        mailbox = self._factory()
        try:
            mailbox.connect()
        except LoginError as exc:
            raise MailboxUnreachable(
                f"IMAP login refused for {self._config.username} on {self._server}: {exc}"
            ) from None
        except CONNECTION_ERRORS as exc:
            raise MailboxUnreachable(
                f"cannot reach the IMAP server {self._server}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            self._drain(mailbox, mailbox.select())
            self._after_round(mailbox)
        finally:
            mailbox.close()
        return self.stats

    @property
    def _server(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def run_forever(self) -> None:
        """Drain, wait for news (IDLE or poll), repeat; reconnect with backoff on faults.

        An outage is said once (when it starts) and its end once (when the server answers
        again), not at every attempt in between."""
        delay = self._config.reconnect_initial_seconds
        failures = 0
        while not self.stop_event.is_set():
            mailbox = self._factory()
            try:
                mailbox.connect()
                mode = "idle" if self._config.idle and mailbox.supports_idle() else "poll"
                if failures:
                    log.info(
                        f"IMAP server {self._server} answers again after {failures} failed "
                        "attempt(s)",
                        extra={"server": self._server, "failures": failures},
                    )
                    failures = 0
                log.info(
                    "connected to mailbox", extra={"folder": self._config.folder, "mode": mode}
                )
                self._note(mode, f"connected to {self._server} ({mode})")
                delay = self._config.reconnect_initial_seconds
                while not self.stop_event.is_set():
                    before = self.stats.total
                    self._drain(mailbox, mailbox.select())
                    self._after_round(mailbox)
                    if self.stats.total != before:
                        self._note(mode, f"{self.stats.total - before} mail(s) handled")
                    wait = (
                        self._config.idle_renew_seconds
                        if mode == "idle"
                        else self._config.poll_interval_seconds
                    )
                    if mailbox.wait_for_news(self._until_next_lease(wait), self.stop_event):
                        self._note(mode, "new mail reported by the server (IDLE)")
            except LoginError as exc:
                # Wrong credentials will not fix themselves quickly: say so, retry slowly.
                delay = self._config.reconnect_max_seconds
                what = (
                    "the [oauth2] settings"
                    if self._config.auth == "oauth2"
                    else "imap.username and the password"
                )
                log.error(
                    f"IMAP login refused for {self._config.username} on {self._config.host}: "
                    f"{exc}; check {what}; retrying in {delay:.0f} s",
                    extra={"server": self._server, "username": self._config.username},
                )
                self._note("login-refused", f"login refused: {exc}")
                self._sleep(delay)
            except CONNECTION_ERRORS as exc:
                failures += 1
                (log.warning if failures == 1 else log.debug)(
                    f"IMAP server {self._server} unreachable: {type(exc).__name__}: {exc}; "
                    f"retrying with backoff (next in {delay:.1f} s, at most every "
                    f"{self._config.reconnect_max_seconds:.0f} s)"
                    + ("; its return will be logged" if failures == 1 else ""),
                    extra={"server": self._server, "error": f"{type(exc).__name__}: {exc}"},
                )
                if failures == 1:
                    self._note("unreachable", f"unreachable: {type(exc).__name__}: {exc}")
                self._sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_seconds)
            except OperationalError as exc:
                log.error(
                    f"database unavailable: {exc.orig}; retrying in {delay:.1f} s",
                    extra={"error": str(exc.orig), "retry_seconds": delay},
                )
                self._sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_seconds)
            except Exception:
                # A bug must not kill intake: log it loudly, start over from the checkpoint.
                log.exception(
                    f"intake round failed; restarting in {delay:.1f} s",
                    extra={"retry_seconds": delay},
                )
                self._sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_seconds)
            finally:
                mailbox.close()

    def _drain(self, mailbox: ImapMailbox, state: MailboxState) -> None:
        folder = self._config.folder
        with self._db.session() as session:
            checkpoint = store.get_checkpoint(session, folder)
            last_uid = 0
            if checkpoint is not None:
                if checkpoint.uidvalidity == state.uidvalidity:
                    last_uid = checkpoint.last_uid
                else:
                    log.warning(
                        "UIDVALIDITY changed; rereading the folder (duplicates are "
                        "recognised by Message-ID)",
                        extra={"old": checkpoint.uidvalidity, "new": state.uidvalidity},
                    )
        if self._heartbeat is not None:
            self._heartbeat.facts(
                last_uid=last_uid, inbox_exists=state.exists, inbox_uidnext=state.uidnext
            )
        self._finish_interrupted(mailbox, state, last_uid)
        while not self.stop_event.is_set():
            uids = mailbox.uids_after(last_uid)[: self._config.fetch_batch]
            if not uids:
                return
            handled_uids: list[int] = []
            quarantined_uids: list[int] = []
            mails = mailbox.fetch(uids, state)
            for start in range(0, len(mails), COMMIT_BATCH):
                chunk = mails[start : start + COMMIT_BATCH]
                outcomes = self._pipeline.handle_batch(chunk)
                for inbound, handled in zip(chunk, outcomes, strict=True):
                    self.stats.add(handled)
                    if handled.outcome is Outcome.QUARANTINED:
                        quarantined_uids.append(inbound.uid)
                    else:
                        handled_uids.append(inbound.uid)
                if any(handled.replies for handled in outcomes):
                    self._on_committed()
            # The database has committed every one of these: now tell the server.
            mailbox.mark_quarantined(quarantined_uids)
            mailbox.mark_handled(handled_uids)
            last_uid = uids[-1]
            if self._heartbeat is not None:
                self._heartbeat.facts(
                    last_uid=last_uid, inbox_exists=state.exists, inbox_uidnext=state.uidnext
                )

    def _after_round(self, mailbox: ImapMailbox) -> None:
        """After a round (copies in the INBOX are read by now): the sends a crash
        interrupted, then, once a day, the old copies."""
        if (
            self._interrupted is not None
            and self._interrupted.settle(mailbox.find_message_ids).requeued
        ):
            self._on_committed()
        if self._retention is not None:
            self._retention.run_if_due(mailbox.prune_copies)

    def _until_next_lease(self, wait: float) -> float:
        """Wake up when a send in progress would have to be settled, were its sender dead."""
        if self._interrupted is None:
            return wait
        due = self._interrupted.seconds_to_next_expiry()
        return wait if due is None else min(wait, max(due, MIN_LEASE_WAIT_SECONDS))

    def _finish_interrupted(self, mailbox: ImapMailbox, state: MailboxState, last_uid: int) -> None:
        """After a crash between commit and marking, mark what the database already holds."""
        pending = mailbox.unmarked_at_or_below(last_uid)
        if not pending:
            return
        with self._db.session() as session:
            quarantined = set(
                session.scalars(
                    QuarantinedMail.__table__.select()
                    .with_only_columns(QuarantinedMail.uid)
                    .where(
                        QuarantinedMail.mailbox == self._config.folder,
                        QuarantinedMail.uidvalidity == state.uidvalidity,
                    )
                )
            )
        finish = [uid for uid in pending if uid not in quarantined]
        if finish:
            log.info("marking mail handled before an interruption", extra={"count": len(finish)})
            mailbox.mark_handled(finish)


def waiting_above(config: ImapConfig, password: str, last_uid: int) -> int:
    """How many mails the folder holds above ``last_uid``, looked at read-only (``maildesk
    status``). Raises ``MailboxUnreachable`` with one line naming the server."""
    server = f"{config.host}:{config.port}"
    try:
        client = IMAPClient(
            config.host,
            port=config.port,
            ssl=config.security == "ssl",
            timeout=min(config.timeout_seconds, 10.0),
        )
    except CONNECTION_ERRORS as exc:
        raise MailboxUnreachable(f"cannot reach {server}: {type(exc).__name__}: {exc}") from None
    try:
        if config.security == "starttls":
            client.starttls()
        client.login(config.username, password)
        client.select_folder(config.folder, readonly=True)
        return sum(1 for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    except LoginError as exc:
        raise MailboxUnreachable(f"login refused on {server}: {exc}") from None
    except CONNECTION_ERRORS as exc:
        raise MailboxUnreachable(f"{server}: {type(exc).__name__}: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            client.logout()
