"""The durable outbox: claims due rows, sends them over SMTP, records the result.

A row is claimed (``sending``) before the attempt and marked ``sent`` right after the
server accepts it. A crash between the two leaves it ``sending``: once its lease has
expired, intake settles it by its delivery copy (``interrupted.py``) — sent, or queued
again with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, cast

import aiosmtplib
from sqlalchemy import Table, bindparam, func, select, update

from maildesk.clock import Clock
from maildesk.db.heartbeat import Heartbeat
from maildesk.db.lifecycle import record_event
from maildesk.db.store import AUTOMATIC_REPLY_PURPOSES, Database, mark_failing
from maildesk.db.tables import Incident, OutboxItem
from maildesk.oauth2 import sasl
from maildesk.oauth2.tokens import OAuth2Error, TokenSource

if TYPE_CHECKING:  # annotations only: the sender process never loads pydantic
    from maildesk.config import SmtpConfig

log = logging.getLogger("maildesk.outbox")


# What providers answer when they no longer take passwords for SMTP AUTH (Microsoft 365:
# "5.7.139 Authentication unsuccessful, basic authentication is disabled").


class TransientSendError(Exception):
    """Worth retrying later: connection refused, timeout, 4xx."""


class ServerUnavailable(TransientSendError):
    """The server, not this mail: no connection, a dropped one, a timeout, 421. The whole
    outbox waits (one backoff for all rows, no attempt counted against any row)."""


class PermanentSendError(Exception):
    """Retrying will not help: 5xx for every recipient."""


class SmtpSession(Protocol):
    async def send(
        self, mail_from: str, recipients: Sequence[str], raw: bytes, copy_to: str | None = None
    ) -> None: ...
    async def close(self) -> None: ...


SessionFactory = Callable[[], SmtpSession]


async def smtp_connect(
    config: SmtpConfig, password: str, tokens: TokenSource | None = None
) -> aiosmtplib.SMTP:
    """A connected, greeted and (when configured) authenticated SMTP client."""
    client, _ = await smtp_session(config, password, tokens)
    return client


async def smtp_session(
    config: SmtpConfig, password: str, tokens: TokenSource | None = None
) -> tuple[aiosmtplib.SMTP, str]:
    """``smtp_connect``, also saying how it signed in: the OAuth2 mechanism, "PASSWORD" or
    "no sign-in" (``maildesk check`` shows it)."""
    client = aiosmtplib.SMTP(
        hostname=config.host,
        port=config.port,
        timeout=config.timeout_seconds,
        use_tls=config.security == "ssl",
        start_tls=config.security == "starttls",
    )
    await client.connect()
    await client.ehlo()
    how = "no sign-in"
    if tokens is not None:
        how = await sign_in_oauth2(client, config, tokens)
    elif config.username:
        await client.login(config.username, password)
        how = "PASSWORD"
    return client, how


async def sign_in_oauth2(client: aiosmtplib.SMTP, config: SmtpConfig, tokens: TokenSource) -> str:
    """``AUTH XOAUTH2`` / ``OAUTHBEARER`` (aiosmtplib has no OAUTHBEARER); a refused token is
    renewed and tried once more. Raises ``SMTPAuthenticationError`` with the reason."""
    offered = {m.upper() for m in client.server_auth_methods}
    mechanism = sasl.choose(offered, config.oauth2_mechanism)
    if mechanism is None:
        raise aiosmtplib.SMTPAuthenticationError(
            535, f"the server offers no OAuth2 sign-in (AUTH {' '.join(sorted(offered))})"
        )
    while True:
        try:
            token = await asyncio.to_thread(tokens.token)
        except OAuth2Error as exc:
            hint = "; run 'maildesk auth login' to renew it" if exc.grant_lost else ""
            raise aiosmtplib.SMTPAuthenticationError(535, f"no OAuth2 token: {exc}{hint}") from None
        response = base64.b64encode(
            sasl.initial_response(mechanism, config.username, token, config.host, config.port)
        )
        answer = await client.execute_command(b"AUTH", mechanism.encode(), response)
        detail = ""
        if answer.code == 334:  # the error challenge; an empty line gets the final answer
            detail = sasl.challenge_detail(answer.message)
            answer = await client.execute_command(b"")
        if answer.code == 235:
            tokens.accepted()
            return mechanism
        if tokens.refused():
            continue
        raise aiosmtplib.SMTPAuthenticationError(
            answer.code, f"OAuth2 token refused ({mechanism}): {answer.message} {detail}".strip()
        )


class AiosmtplibSession:
    """One SMTP connection, opened on first use and reused for the next messages."""

    def __init__(
        self, config: SmtpConfig, password: str, tokens: TokenSource | None = None
    ) -> None:
        self._config = config
        self._password = password
        self._tokens = tokens
        self._client: aiosmtplib.SMTP | None = None
        self._used = 0.0  # monotonic time of the last accepted message

    async def _connect(self) -> aiosmtplib.SMTP:
        return await smtp_connect(self._config, self._password, self._tokens)

    async def send(
        self, mail_from: str, recipients: Sequence[str], raw: bytes, copy_to: str | None = None
    ) -> None:
        """One SMTP transaction; the copy recipient is added only once a client is accepted."""
        try:
            reused = self._client is not None and self._client.is_connected
            if not reused:
                self._client = await self._connect()
            client = self._client
            assert client is not None
            if reused and time.monotonic() - self._used > 5.0:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    # The server closed an idle connection: a new one, not a retry later.
                    await self._drop()
                    self._client = client = await self._connect()
            addresses = [mail_from, *recipients, *([copy_to] if copy_to else [])]
            wide = [a for a in addresses if not a.isascii()]
            if wide and not client.supports_extension("smtputf8"):
                # Retrying the same server will not help; the incident keeps the reason.
                raise PermanentSendError(
                    f"the server does not offer SMTPUTF8, which the address {wide[0]} needs"
                )
            options = ["SMTPUTF8"] if wide else []
            await client.mail(mail_from, options=options, encoding="utf-8")
            refused: list[aiosmtplib.SMTPRecipientRefused] = []
            for recipient in recipients:
                try:
                    await client.rcpt(recipient, encoding="utf-8")
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append(exc)
            if len(refused) == len(recipients):
                await client.rset()
                detail = "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in refused)
                if all(500 <= e.code < 600 for e in refused):
                    raise PermanentSendError(detail)
                raise TransientSendError(detail)
            if copy_to:
                try:
                    await client.rcpt(copy_to, encoding="utf-8")
                except aiosmtplib.SMTPRecipientRefused as exc:
                    log.warning(
                        f"delivery copy refused: {exc.code} {exc.message}",
                        extra={"copy_to": copy_to, "code": exc.code, "error": exc.message},
                    )
            await client.data(raw)
            self._used = time.monotonic()
        except (PermanentSendError, TransientSendError):
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Wrong credentials fail every mail alike: the server's matter, not the mails'.
            await self._drop()
            what = "the [oauth2] settings" if self._tokens else "smtp.username and the password"
            if not self._tokens and sasl.BASIC_AUTH_OFF.search(exc.message):
                what = (
                    'smtp.auth = "oauth2" and an [oauth2] section: this server takes no passwords'
                )
            raise ServerUnavailable(
                f"login refused for {self._config.username!r}: {exc.code} {exc.message}; "
                f"check {what}"
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            if 500 <= exc.code < 600:
                raise PermanentSendError(f"{exc.code} {exc.message}") from exc
            if exc.code == 421:  # the server is closing the channel: not about this mail
                raise ServerUnavailable(f"{exc.code} {exc.message}") from exc
            raise TransientSendError(f"{exc.code} {exc.message}") from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self._drop()
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if refused:  # some recipients refused, others accepted: the mail left
            log.warning("some recipients refused", extra={"refused": str(refused)})

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int
    incident_id: int | None
    purpose: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    retried: int
    failed: int


@dataclass(slots=True)
class Outage:
    """The SMTP server has been unreachable since ``since``; the next try is at ``retry_at``."""

    since: datetime
    failures: int
    retry_at: datetime


def backoff_delay(attempts: int, config: SmtpConfig) -> timedelta:
    """Exponential: initial, 2×, 4× … capped at the maximum."""
    seconds = config.backoff_initial_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, config.backoff_max_seconds))


class OutboxSender:
    """Drains the outbox through a few SMTP sessions; database work runs off the event loop."""

    def __init__(
        self,
        database: Database,
        config: SmtpConfig,
        sessions: SessionFactory,
        clock: Clock,
        copy_to: str | None = None,
        failing_address_days: int = 7,
    ) -> None:
        self._db = database
        self._failing_for = timedelta(days=failing_address_days)
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._copy_to = copy_to
        self._pool: list[SmtpSession] = []
        self.totals = DrainResult(0, 0, 0)  # over this sender's lifetime
        self._last_used: datetime | None = None
        self.outage: Outage | None = None
        self.heartbeat: Heartbeat | None = None  # set by the daemon: what status shows

    # --- database steps (blocking, run in a thread) ---------------------------------

    def _claim(self, limit: int) -> list[Claimed]:
        now = self._clock.now()
        with self._db.session() as session:
            due = (
                select(OutboxItem.id)
                .where(OutboxItem.status == "queued", OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)  # PostgreSQL: workers take different rows
                .scalar_subquery()
            )
            rows = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(due), OutboxItem.status == "queued")
                .values(status="sending", claimed_at=now, attempts=OutboxItem.attempts + 1)
                .returning(
                    OutboxItem.id,
                    OutboxItem.message_id,
                    OutboxItem.mail_from,
                    OutboxItem.recipients,
                    OutboxItem.raw,
                    OutboxItem.attempts,
                    OutboxItem.incident_id,
                    OutboxItem.purpose,
                )
            ).all()
            incident_ids = {r.incident_id for r in rows if r.incident_id is not None}
            references: dict[int, str] = {}
            if incident_ids:
                found = session.execute(
                    select(Incident.id, Incident.reference).where(Incident.id.in_(incident_ids))
                ).all()
                references = {row.id: row.reference for row in found}
        claimed = [
            Claimed(
                r.id,
                r.message_id,
                r.mail_from,
                tuple(r.recipients.split(",")),
                r.raw,
                r.attempts,
                r.incident_id,
                r.purpose,
                references.get(r.incident_id) if r.incident_id is not None else None,
            )
            for r in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    def _mark_sent(self, sent: list[tuple[Claimed, datetime]]) -> None:
        """Record a batch of accepted sends, each with its own time, in one transaction."""
        if not sent:
            return
        table = cast(Table, OutboxItem.__table__)
        incidents = cast(Table, Incident.__table__)
        with self._db.session() as session:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"), table.c.status == "sending")
                .values(status="sent", sent_at=bindparam("at"), last_error=""),
                [{"row_id": item.id, "at": at} for item, at in sent],
            )
            acks = [
                {"incident": item.incident_id, "at": at}
                for item, at in sent
                if item.purpose == "ack" and item.incident_id is not None
            ]
            if acks:
                session.execute(
                    update(incidents)
                    .where(
                        incidents.c.id == bindparam("incident"),
                        incidents.c.acknowledged_at.is_(None),
                    )
                    .values(acknowledged_at=bindparam("at")),
                    acks,
                )

    def _mark_failed(self, item: Claimed, error: str, permanent: bool) -> str:
        now = self._clock.now()
        give_up = permanent or item.attempts >= self._config.max_attempts
        values: dict[str, object] = {"last_error": error[:2000]}
        if give_up:
            values["status"] = "failed"
        else:
            values["status"] = "queued"
            values["next_attempt_at"] = now + backoff_delay(item.attempts, self._config)
        with self._db.session() as session:
            session.execute(update(OutboxItem).where(OutboxItem.id == item.id).values(**values))
            if give_up and item.incident_id is not None:
                incident = session.get(Incident, item.incident_id)
                if incident is not None:
                    record_event(
                        session, incident, now, "maildesk", "send-failed",
                        f"{item.purpose} to {', '.join(item.recipients)}: {error[:500]}",
                    )  # fmt: skip
                    if permanent and item.purpose in (*AUTOMATIC_REPLY_PURPOSES, "relay"):
                        for address in item.recipients:
                            mark_failing(
                                session, address, "smtp", error, incident, now,
                                now + self._failing_for,
                            )  # fmt: skip
        return "failed" if give_up else "retry"

    def next_due(self) -> datetime | None:
        with self._db.session() as session:
            return session.scalar(
                select(OutboxItem.next_attempt_at)
                .where(OutboxItem.status == "queued")
                .order_by(OutboxItem.next_attempt_at)
                .limit(1)
            )

    # --- sending ---------------------------------------------------------------------

    def _waiting(self) -> tuple[int, datetime | None]:
        """How many rows wait to be sent, and since when the oldest."""
        with self._db.session() as session:
            row = session.execute(
                select(func.count(), func.min(OutboxItem.created_at)).where(
                    OutboxItem.status.in_(("queued", "sending"))
                )
            ).one()
        return int(row[0]), row[1]

    async def _server_failed(self, error: str) -> None:
        """Said once when an outage starts; after that only its end is worth a line."""
        now = self._clock.now()
        server = f"{self._config.host}:{self._config.port}"
        if self.outage is None:
            self.outage = Outage(now, 1, now + backoff_delay(1, self._config))
            count, oldest = await asyncio.to_thread(self._waiting)
            since = f", the oldest since {oldest:%Y-%m-%d %H:%M:%S} UTC" if oldest else ""
            if self.heartbeat is not None:
                self.heartbeat.note("unavailable", f"SMTP server {server}: {error}")
            log.warning(
                f"SMTP server {server} cannot take mail: {error}; {count} mail(s) wait{since}; "
                f"retrying every {self._config.backoff_initial_seconds:g}–"
                f"{self._config.backoff_max_seconds:g} s, its return will be logged",
                extra={"server": server, "error": error, "waiting": count},
            )
            return
        if now < self.outage.retry_at:
            return  # another connection of the same round: one failed attempt, not two
        self.outage.failures += 1
        self.outage.retry_at = now + backoff_delay(self.outage.failures, self._config)
        log.debug(
            f"SMTP server {server} still cannot take mail: {error}",
            extra={"server": server, "error": error, "failures": self.outage.failures},
        )

    async def _server_answered(self) -> None:
        if self.outage is None:
            return
        outage, self.outage = self.outage, None
        down = (self._clock.now() - outage.since).total_seconds()
        count, _ = await asyncio.to_thread(self._waiting)
        server = f"{self._config.host}:{self._config.port}"
        if self.heartbeat is not None:
            self.heartbeat.note("sending", f"SMTP server {server} back after {down:.0f} s")
        log.info(
            f"SMTP server {server} answers again after {down:.0f} s down "
            f"({outage.failures} failed attempt(s)); {count} mail(s) still to send",
            extra={"server": server, "down_seconds": round(down, 1), "waiting": count},
        )

    async def drain(self) -> DrainResult:
        """Send everything due now; returns what happened. While the server is unreachable,
        nothing is claimed until the outage's next try."""
        sent = retried = failed = 0
        if self.outage is not None and self._clock.now() < self.outage.retry_at:
            return DrainResult(0, 0, 0)
        batch_size = 50 * self._config.connections
        while True:
            claimed = await asyncio.to_thread(self._claim, batch_size)
            if not claimed:
                return DrainResult(sent, retried, failed)
            queue: asyncio.Queue[Claimed] = asyncio.Queue()
            for item in claimed:
                queue.put_nowait(item)
            workers = min(self._config.connections, len(claimed))
            accepted: list[tuple[Claimed, datetime]] = []
            try:
                results = await asyncio.gather(
                    *(self._worker(self._session(i), queue, accepted) for i in range(workers))
                )
            finally:
                # One transaction for the whole round; a crash before it leaves the rows
                # "sending", settled by their delivery copies (see interrupted.py).
                await asyncio.to_thread(self._mark_sent, accepted)
            for r, f in results:
                retried, failed = retried + r, failed + f
            sent += len(accepted)
            self.totals = DrainResult(
                self.totals.sent + len(accepted),
                self.totals.retried + sum(r for r, _ in results),
                self.totals.failed + sum(f for _, f in results),
            )
            if retried or failed:
                # Do not spin on a server that just refused us; the loop comes back.
                return DrainResult(sent, retried, failed)

    def _session(self, index: int) -> SmtpSession:
        """SMTP sessions are kept between rounds (and reopened when the server closed them)."""
        while len(self._pool) <= index:
            self._pool.append(self._sessions())
        self._last_used = self._clock.now()
        return self._pool[index]

    async def close(self) -> None:
        pool, self._pool = self._pool, []
        for session in pool:
            await session.close()

    async def close_idle(self, idle_seconds: float) -> None:
        """Close the SMTP sessions when nothing was sent for a while."""
        if (
            self._pool
            and self._last_used is not None
            and ((self._clock.now() - self._last_used).total_seconds() >= idle_seconds)
        ):
            await self.close()

    async def _worker(
        self,
        session: SmtpSession,
        queue: asyncio.Queue[Claimed],
        accepted: list[tuple[Claimed, datetime]],
    ) -> tuple[int, int]:
        retried = failed = 0
        while not queue.empty():
            item = queue.get_nowait()
            extra = {
                "message_id": item.message_id,
                "reference": item.reference,
                "outbox_id": item.id,
                "attempt": item.attempts,
            }
            try:
                await session.send(item.mail_from, item.recipients, item.raw, self._copy_to)
            except ServerUnavailable as exc:
                # Not this mail's fault: it and the rest go back unchanged, the whole
                # outbox waits for the server (one line when it goes, one when it is back).
                waiting = f"server unavailable: {exc}"
                await asyncio.to_thread(self._unclaim, item, waiting)
                while not queue.empty():
                    await asyncio.to_thread(self._unclaim, queue.get_nowait(), waiting)
                await self._server_failed(str(exc))
                retried += 1
                continue
            except (TransientSendError, PermanentSendError) as exc:
                permanent = isinstance(exc, PermanentSendError)
                state = await asyncio.to_thread(self._mark_failed, item, str(exc), permanent)
                if state == "failed":
                    failed += 1
                    log.error(
                        f"reply not sent, giving up: {exc}", extra={**extra, "error": str(exc)}
                    )
                else:
                    retried += 1
                    log.warning(
                        f"reply not sent, will retry: {exc}", extra={**extra, "error": str(exc)}
                    )
                if not permanent:
                    # The server is unwell: put the rest back for the next round.
                    while not queue.empty():
                        rest = queue.get_nowait()
                        await asyncio.to_thread(self._unclaim, rest)
                continue
            if self.outage is not None:
                await self._server_answered()
            accepted.append((item, self._clock.now()))
            log.info("reply sent", extra=extra)
        return retried, failed

    def _unclaim(self, item: Claimed, error: str | None = None) -> None:
        """Back to the queue as if never tried; with ``error`` (the server was unavailable)
        the row says why it waits (``incidents show``), its attempts untouched."""
        values: dict[str, object] = {"status": "queued", "attempts": OutboxItem.attempts - 1}
        if error is not None:
            values["last_error"] = error[:2000]
        with self._db.session() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item.id, OutboxItem.status == "sending")
                .values(**values)
            )

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Drain whenever woken (new rows) or when the next retry falls due."""
        while not stop.is_set():
            wake.clear()
            try:
                result = await self.drain()
                if self.heartbeat is not None:
                    if result.sent:
                        state = "sending" if self.outage is None else "unavailable"
                        self.heartbeat.note(state, f"{result.sent} mail(s) sent")
                    else:
                        await asyncio.to_thread(self.heartbeat.alive)
                timeout = self._config.poll_interval_seconds
                due = await asyncio.to_thread(self.next_due)
                if self.outage is not None:
                    due = max(due, self.outage.retry_at) if due else self.outage.retry_at
                if due is not None:
                    timeout = min(timeout, max(0.0, (due - self._clock.now()).total_seconds()))
            except Exception:
                log.exception("outbox round failed; retrying")
                timeout = self._config.poll_interval_seconds
            await self.close_idle(self._config.keepalive_seconds)
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        await self.close()
