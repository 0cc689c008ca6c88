"""The SMTP client's answers to what servers say, against aiosmtpd's in-process server (as
aiosmtpd's own tests do): temporary and permanent refusals, a recipient refused among others,
a server that goes away and comes back, SMTPUTF8. Faults Postfix cannot be told to show on
demand; the end-to-end tests keep the real one."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk.config import SmtpConfig
from maildesk.outbound.outbox import (
    AiosmtplibSession,
    PermanentSendError,
    ServerUnavailable,
    TransientSendError,
)


@dataclass
class Scripted:
    """A server handler: refusals per recipient, a DATA answer, and what it accepted."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 …"
    data_answer: str = "250 OK"
    accepted: list[dict[str, Any]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_answer.startswith("250"):
            self.accepted.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "smtputf8": envelope.smtp_utf8,
                    "content": envelope.original_content,
                }
            )
        return self.data_answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    handler: Scripted
    port: int
    controller: Controller

    def restart(self) -> None:
        self.controller.stop()
        self.controller = start_server(self.handler, self.port)


def start_server(handler: Scripted, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


@pytest.fixture
def server() -> Iterator[Server]:
    handler, port = Scripted(), free_port()
    running = Server(handler, port, start_server(handler, port))
    yield running
    running.controller.stop()


@pytest.fixture
def outbox_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The outbox's warnings, also when an earlier test's logging setup stopped them
    propagating to the root logger."""
    logger = logging.getLogger("maildesk.outbox")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING, logger="maildesk.outbox")
    yield caplog
    logger.removeHandler(caplog.handler)


def session_for(port: int) -> AiosmtplibSession:
    return AiosmtplibSession(
        SmtpConfig(host="127.0.0.1", port=port, security="none", timeout_seconds=5), ""
    )


def raw_mail(sender: str = "soporte@maildesk.test", to: str = "c@clientes.test") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "Recibido"
    msg.set_content("Hemos recibido su mensaje.")
    return msg.as_bytes()


def send(session: AiosmtplibSession, *recipients: str, copy_to: str | None = None) -> None:
    async def go() -> None:
        try:
            await session.send("soporte@maildesk.test", recipients, raw_mail(), copy_to)
        finally:
            await session.close()

    asyncio.run(go())


def test_an_accepted_mail_reaches_the_server_with_its_copy(server: Server) -> None:
    send(session_for(server.port), "c@clientes.test", copy_to="soporte+Sent@maildesk.test")
    [mail] = server.handler.accepted
    assert mail["to"] == ["c@clientes.test", "soporte+Sent@maildesk.test"]
    assert mail["smtputf8"] is False
    assert b"Hemos recibido su mensaje." in mail["content"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("550 5.1.1 no such user", PermanentSendError),
        ("450 4.2.0 mailbox busy", TransientSendError),
    ],
)
def test_every_recipient_refused_is_permanent_or_temporary_by_its_code(
    server: Server, answer: str, error: type[Exception]
) -> None:
    server.handler.refuse = {"a@clientes.test": answer, "b@clientes.test": answer}
    with pytest.raises(error, match=answer.split()[0]):
        send(session_for(server.port), "a@clientes.test", "b@clientes.test")
    assert server.handler.accepted == []


def test_one_recipient_refused_among_others_the_mail_still_leaves(
    server: Server, outbox_log: pytest.LogCaptureFixture
) -> None:
    server.handler.refuse = {"gone@clientes.test": "550 5.1.1 no such user"}
    send(session_for(server.port), "gone@clientes.test", "c@clientes.test")
    [mail] = server.handler.accepted
    assert mail["to"] == ["c@clientes.test"]
    assert "some recipients refused" in outbox_log.text


def test_a_refused_copy_does_not_stop_the_reply(
    server: Server, outbox_log: pytest.LogCaptureFixture
) -> None:
    server.handler.refuse = {"soporte+Sent@maildesk.test": "550 5.1.1 unknown"}
    send(session_for(server.port), "c@clientes.test", copy_to="soporte+Sent@maildesk.test")
    assert server.handler.accepted[0]["to"] == ["c@clientes.test"]
    assert "delivery copy refused: 550" in outbox_log.text


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("554 5.7.1 rejected as spam", PermanentSendError),
        ("451 4.3.0 try later", TransientSendError),
    ],
)
def test_data_refused_is_permanent_or_temporary_and_the_next_send_reconnects(
    server: Server, answer: str, error: type[Exception]
) -> None:
    session = session_for(server.port)

    async def go() -> None:
        server.handler.data_answer = answer
        with pytest.raises(error, match=answer.split()[0]):
            await session.send("soporte@maildesk.test", ["c@clientes.test"], raw_mail())
        server.handler.data_answer = "250 OK"
        await session.send("soporte@maildesk.test", ["c@clientes.test"], raw_mail())
        await session.close()

    asyncio.run(go())
    assert len(server.handler.accepted) == 1


def test_a_server_that_went_away_and_came_back_gets_a_new_connection(server: Server) -> None:
    session = session_for(server.port)

    async def go() -> None:
        await session.send("soporte@maildesk.test", ["c@clientes.test"], raw_mail())
        await asyncio.to_thread(server.restart)  # the server closed our connection
        # seen as closed: a new connection at once, not a failed attempt and a retry later
        await session.send("soporte@maildesk.test", ["c@clientes.test"], raw_mail())
        await session.close()

    asyncio.run(go())
    assert len(server.handler.accepted) == 2


def test_no_server_listening_is_temporary() -> None:
    with pytest.raises(TransientSendError, match=r"Connect|refused|Errno"):
        send(session_for(free_port()), "c@clientes.test")


def test_a_non_ascii_address_is_sent_with_smtputf8(server: Server) -> None:
    send(session_for(server.port), "josé@clientes.test")
    [mail] = server.handler.accepted
    assert mail["to"] == ["josé@clientes.test"]
    assert mail["smtputf8"] is True


def test_a_non_ascii_address_without_smtputf8_on_the_server_fails_for_good() -> None:
    handler, port = Scripted(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    try:
        with pytest.raises(PermanentSendError, match=r"SMTPUTF8.*josé@clientes\.test"):
            send(session_for(port), "josé@clientes.test")
        send(session_for(port), "jose@clientes.test")  # ASCII mail still goes
    finally:
        controller.stop()
    assert [mail["to"] for mail in handler.accepted] == [["jose@clientes.test"]]


def test_the_outbox_retries_a_temporary_refusal_later_and_gives_up_on_a_permanent_one(
    server: Server, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from maildesk.clock import FrozenClock
    from maildesk.db.store import Database
    from maildesk.db.tables import OutboxItem
    from maildesk.outbound.outbox import OutboxSender

    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    database.migrate()
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with database.session() as session:
        for number, to in enumerate(("later@clientes.test", "never@clientes.test"), 1):
            session.add(
                OutboxItem(purpose="ack", message_id=f"m{number}@maildesk.test",
                           mail_from="soporte@maildesk.test", recipients=to,
                           raw=raw_mail(to=to), status="queued", attempts=0,
                           next_attempt_at=start, created_at=start)
            )  # fmt: skip
    server.handler.refuse = {
        "later@clientes.test": "451 4.3.0 greylisted, try later",
        "never@clientes.test": "550 5.1.1 no such user",
    }
    config = SmtpConfig(host="127.0.0.1", port=server.port, security="none",
                        backoff_initial_seconds=30, max_attempts=5)  # fmt: skip
    clock = FrozenClock(start)

    def drain() -> tuple[int, int, int]:
        sender = OutboxSender(database, config, lambda: AiosmtplibSession(config, ""), clock)

        async def go() -> tuple[int, int, int]:
            try:
                result = await sender.drain()
            finally:
                await sender.close()
            return result.sent, result.retried, result.failed

        return asyncio.run(go())

    assert drain() == (0, 1, 1)
    with database.session() as session:
        rows = {r.recipients: r for r in session.scalars(select(OutboxItem))}
    assert rows["never@clientes.test"].status == "failed"
    assert "550" in rows["never@clientes.test"].last_error
    later = rows["later@clientes.test"]
    assert (later.status, later.attempts) == ("queued", 1)
    assert later.next_attempt_at == start + timedelta(seconds=30)  # the backoff, not at once
    assert drain() == (0, 0, 0)  # not due yet
    server.handler.refuse = {}
    clock.advance(timedelta(seconds=30))
    assert drain() == (1, 0, 0)
    assert [m["to"] for m in server.handler.accepted] == [["later@clientes.test"]]
    database.dispose()


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def outbox_lines() -> Iterator[list[logging.LogRecord]]:
    """Every record the outbox logs, once each (its own handler on its own logger)."""
    logger, kept = logging.getLogger("maildesk.outbox"), Kept()
    level = logger.level
    logger.addHandler(kept)
    logger.setLevel(logging.DEBUG)
    yield kept.records
    logger.removeHandler(kept)
    logger.setLevel(level)


def test_an_outage_is_said_once_counts_no_attempt_and_its_end_is_said_once(
    tmp_path: Path, outbox_lines: list[logging.LogRecord]
) -> None:
    from sqlalchemy import select

    from maildesk.clock import FrozenClock
    from maildesk.db.store import Database
    from maildesk.db.tables import OutboxItem
    from maildesk.outbound.outbox import OutboxSender

    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    database.migrate()
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with database.session() as session:
        for number in range(120):
            to = f"c{number}@clientes.test"
            session.add(
                OutboxItem(purpose="ack", message_id=f"m{number}@maildesk.test",
                           mail_from="soporte@maildesk.test", recipients=to,
                           raw=raw_mail(to=to), status="queued", attempts=0,
                           next_attempt_at=start, created_at=start)
            )  # fmt: skip
    handler, port = Scripted(), free_port()  # nothing listens there yet
    config = SmtpConfig(host="127.0.0.1", port=port, security="none", connections=2,
                        backoff_initial_seconds=2, backoff_max_seconds=8)  # fmt: skip
    clock = FrozenClock(start)
    sender = OutboxSender(database, config, lambda: AiosmtplibSession(config, ""), clock)

    async def drain() -> tuple[int, int, int]:
        result = await sender.drain()
        return result.sent, result.retried, result.failed

    async def outage_then_return() -> list[tuple[int, int, int]]:
        results = [await drain()]  # the server is down: said once
        results.append(await drain())  # within the backoff: nothing is tried
        for _ in range(6):  # 20 s of retries, each one failing quietly
            clock.advance(timedelta(seconds=8))
            results.append(await drain())
        controller = start_server(handler, port)
        try:
            clock.advance(timedelta(seconds=8))
            results.append(await drain())
        finally:
            await sender.close()
            controller.stop()
        return results

    results = asyncio.run(outage_then_return())

    assert results[1] == (0, 0, 0)
    assert all(sent == 0 for sent, _, _ in results[:-1])
    assert results[-1] == (120, 0, 0)
    assert len(handler.accepted) == 120
    with database.session() as session:
        rows = list(session.scalars(select(OutboxItem)))
        assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}  # no attempt burnt
    lines = outbox_lines
    down = [r.getMessage() for r in lines if r.levelno >= logging.WARNING]
    assert len(down) == 1
    assert f"127.0.0.1:{port} cannot take mail" in down[0] and "120 mail(s) wait" in down[0]
    back = [r.getMessage() for r in lines if "answers again" in r.getMessage()]
    assert len(back) == 1 and "after 56 s down (7 failed attempt(s))" in back[0]
    database.dispose()


def test_a_refused_login_fails_no_mail_for_good() -> None:
    from aiosmtpd.smtp import AuthResult

    handler, port = Scripted(), free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=False, handled=False),
    )  # fmt: skip
    controller.start()
    config = SmtpConfig(host="127.0.0.1", port=port, security="none", username="soporte")
    try:
        with pytest.raises(ServerUnavailable, match="login refused for 'soporte': 535"):
            send(AiosmtplibSession(config, "wrong"), "c@clientes.test")
    finally:
        controller.stop()
    assert handler.accepted == []


def test_a_server_that_takes_no_passwords_names_the_oauth2_settings() -> None:
    from aiosmtpd.smtp import AuthResult

    handler, port = Scripted(), free_port()
    refusal = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=False, handled=False, message=refusal),
    )  # fmt: skip
    controller.start()
    config = SmtpConfig(host="127.0.0.1", port=port, security="none", username="soporte")
    try:
        with pytest.raises(ServerUnavailable) as caught:
            send(AiosmtplibSession(config, "password"), "c@clientes.test")
    finally:
        controller.stop()
    assert "basic authentication is disabled" in str(caught.value)
    assert 'smtp.auth = "oauth2" and an [oauth2] section' in str(caught.value)
