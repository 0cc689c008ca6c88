"""Bounces of our own mail join their incident and stop automatic replies to the address;
automatic mail a person should read can still open an incident, never acknowledged."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import FailingAddress, Incident, IncidentEvent, Message, OutboxItem
from maildesk.inbound.pipeline import InboundMail, Outcome
from maildesk.reports.incidents import incident_detail
from maildesk.runtime.daemon import build_parts
from maildesk.testing.stackconfig import write_offline_config

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Madrid: open
CLIENT = "ana@clientes.test"


def make_config(tmp_path: Path, extra: str = "") -> Config:
    path = write_offline_config(tmp_path)
    if extra:
        text = path.read_text()
        text = text.replace("open_incident_for = []", extra)
        path.write_text(text)
    return load_config(path)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def client_raw(number: int, body: str = "No tenemos tono en la línea fija.") -> bytes:
    return (
        f"From: Ana Gil <{CLIENT}>\r\nTo: support@maildesk.test\r\nSubject: Sin línea {number}\r\n"
        f"Date: Tue, 24 Nov 2026 09:58:00 +0100\r\nMessage-ID: <c{number}@clientes.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def dsn(original_id: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A Postfix-style RFC 3464 report returning the headers of one of our replies."""
    return (
        "From: MAILER-DAEMON@mx.clientes.test (Mail Delivery System)\r\n"
        "To: support@maildesk.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-" + status + "@mx.clientes.test>\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at mx.clientes.test.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.clientes.test\r\n\r\n"
        f"Final-Recipient: rfc822; {CLIENT}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{CLIENT}>: Recipient address rejected\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Soporte <support@maildesk.test>\r\nTo: {CLIENT}\r\n"
        f"Subject: Recibido\r\nMessage-ID: <{original_id}>\r\n\r\n--B--\r\n"
    ).encode()


def handle(config: Config, uid: int, raw: bytes, at: datetime = NOW) -> Any:
    pipeline = build_parts(config, FrozenClock(at)).pipeline
    [handled] = pipeline.handle_batch([InboundMail("INBOX", 7, uid, len(raw), raw)])
    return handled


def rows(config: Config, model: type) -> list[Any]:
    with Database(config.database.url).session() as session:
        found = list(session.scalars(select(model)))
        session.expunge_all()
        return found


def events(config: Config, action: str) -> list[str]:
    return [e.detail for e in rows(config, IncidentEvent) if e.action == action]


def test_a_bounce_of_our_reply_joins_its_incident_and_stops_replies_to_the_address(
    config: Config,
) -> None:
    first = handle(config, 1, client_raw(1))
    [ack] = rows(config, OutboxItem)

    bounced = handle(config, 2, dsn(ack.message_id), NOW + timedelta(minutes=2))
    later = handle(config, 3, client_raw(3), NOW + timedelta(hours=1))

    assert bounced.outcome is Outcome.BOUNCE and bounced.reference == first.reference
    assert "permanent" in bounced.reason
    [message] = [m for m in rows(config, Message) if m.disposition == "bounce"]
    first_incident = next(i for i in rows(config, Incident) if i.reference == first.reference)
    assert message.incident_id == first_incident.id
    [detail] = events(config, "bounce")
    assert f"{CLIENT} 5.1.1 failed" in detail and "Recipient address rejected" in detail
    [failing] = rows(config, FailingAddress)
    assert (failing.address, failing.source, failing.failures) == (CLIENT, "bounce", 1)
    assert failing.until == NOW + timedelta(minutes=2) + timedelta(days=7)
    # The client writes again within the week: an incident, and no reply to a dead address.
    assert later.outcome is Outcome.NEW_INCIDENT and later.replies == 0
    assert any(d.startswith("failing-address:bounce until") for d in events(config, "no-reply"))
    assert len(rows(config, OutboxItem)) == 1
    shown = incident_detail(Database(config.database.url), config, later.reference)
    assert shown is not None and shown["client_failing"]["source"] == "bounce"
    assert shown["client_failing"]["failures"] == 1
    # After the period, replies go again.
    again = handle(config, 4, client_raw(4), NOW + timedelta(days=8))
    assert again.replies == 1


def test_a_delay_notice_joins_the_incident_but_marks_nothing(config: Config) -> None:
    handle(config, 1, client_raw(1))
    [ack] = rows(config, OutboxItem)

    delayed = handle(config, 2, dsn(ack.message_id, "4.4.1", "delayed"))

    assert delayed.outcome is Outcome.BOUNCE and "delayed" in delayed.reason
    assert rows(config, FailingAddress) == []


def test_a_bounce_of_mail_that_is_not_ours_is_only_recorded(config: Config) -> None:
    handled = handle(config, 1, dsn("someone-else@elsewhere.test"))

    assert handled.outcome is Outcome.IGNORED and handled.reason.startswith("bounce:")
    assert rows(config, Incident) == [] and rows(config, FailingAddress) == []


def test_automatic_kinds_can_still_open_an_incident_without_an_answer(tmp_path: Path) -> None:
    config = make_config(tmp_path, 'open_incident_for = ["auto-reply"]')
    out_of_office = (
        f"From: Ana Gil <{CLIENT}>\r\nTo: support@maildesk.test\r\n"
        "Subject: Respuesta automática: factura de octubre\r\nMessage-ID: <ooo@clientes.test>\r\n"
        "\r\nEstoy fuera hasta el lunes. Para urgencias de facturación llame al 600 000 000.\r\n"
    ).encode()
    listed = (
        "From: Boletín <news@ofertas.test>\r\nTo: support@maildesk.test\r\n"
        "Subject: Ofertas de fibra\r\nList-Id: <ofertas.test>\r\nMessage-ID: <n1@ofertas.test>\r\n"
        "\r\nNuevas tarifas de fibra.\r\n"
    ).encode()

    opened = handle(config, 1, out_of_office)
    ignored = handle(config, 2, listed)

    assert opened.outcome is Outcome.NEW_INCIDENT and opened.replies == 0
    assert ignored.outcome is Outcome.IGNORED and ignored.reason.startswith("list:")
    assert rows(config, OutboxItem) == []
    assert events(config, "no-reply") == ["automatic: auto-reply:subject"]


class Refusing:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such user"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_permanent_refusal_of_a_reply_marks_the_address_failing(config: Config) -> None:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        handle(config, 1, client_raw(1))
        smtp = config.smtp.model_copy(update={"port": port})
        parts = build_parts(config.model_copy(update={"smtp": smtp}), FrozenClock(NOW))

        async def drain() -> tuple[int, int, int]:
            try:
                result = await parts.sender.drain()
            finally:
                await parts.sender.close()
            return result.sent, result.retried, result.failed

        assert asyncio.run(drain()) == (0, 0, 1)
    finally:
        controller.stop()
    [failing] = rows(config, FailingAddress)
    assert (failing.address, failing.source) == (CLIENT, "smtp")
    assert "550" in failing.detail
    [failed] = events(config, "send-failed")
    assert failed == f"ack to {CLIENT}: {CLIENT}: 550 5.1.1 no such user"
