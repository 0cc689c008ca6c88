"""Which mails are the same mail: duplicates recorded, a reused Message-ID handled as a mail
of its own, unreadable twins each kept; and addresses no reply can carry cost the reply only,
never the incident."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import (
    DuplicateMail,
    Incident,
    IncidentEvent,
    Message,
    OutboxItem,
    QuarantinedMail,
)
from maildesk.inbound.pipeline import InboundMail, Outcome, Pipeline, content_hash
from maildesk.outbound.compose import UnwritableAddress, writable_address
from maildesk.reports.incidents import incident_detail
from maildesk.runtime.daemon import build_parts
from maildesk.testing.stackconfig import write_offline_config

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Madrid: open


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_offline_config(tmp_path))


def pipeline(config: Config) -> Pipeline:
    return build_parts(config, FrozenClock(NOW)).pipeline


def raw_mail(
    *,
    body: str = "No tenemos tono en la línea fija desde esta mañana.",
    subject: str = "Sin línea",
    sender: str = "Ana Gil <ana@clientes.test>",
    message_id: str = "<m1@clientes.test>",
    trace: str = "",
) -> bytes:
    return (
        f"{trace}From: {sender}\r\nTo: support@maildesk.test\r\nSubject: {subject}\r\n"
        f"Date: Tue, 24 Nov 2026 09:58:00 +0100\r\nMessage-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def inbound(uid: int, raw: bytes) -> InboundMail:
    return InboundMail("INBOX", 7, uid, len(raw), raw)


def rows(config: Config, model: type) -> list:
    with Database(config.database.url).session() as session:
        found = list(session.scalars(select(model).order_by(model.id)))
        session.expunge_all()
        return found


def test_the_same_mail_delivered_twice_is_one_incident_and_the_second_is_recorded(
    config: Config,
) -> None:
    first = raw_mail(trace="Received: from a.example by mx1; Tue, 24 Nov 2026 09:58:01\r\n")
    again = raw_mail(
        trace="Received: from a.example by mx2; Tue, 24 Nov 2026 09:59:30\r\n"
        "Delivered-To: support+alias@maildesk.test\r\n"
    )
    assert content_hash(first) == content_hash(again)  # only trace headers differ

    handled = pipeline(config).handle_batch([inbound(1, first)])
    handled += pipeline(config).handle_batch([inbound(2, again)])

    assert [h.outcome for h in handled] == [Outcome.NEW_INCIDENT, Outcome.DUPLICATE]
    [incident] = rows(config, Incident)
    [message] = rows(config, Message)
    [duplicate] = rows(config, DuplicateMail)
    assert (duplicate.kind, duplicate.uid, duplicate.message_id) == (
        "same-mail",
        2,
        "m1@clientes.test",
    )
    assert duplicate.matched_message_id == message.id
    assert duplicate.incident_id == incident.id
    assert duplicate.content_hash == message.content_hash == content_hash(first)
    shown = incident_detail(Database(config.database.url), config, incident.reference)
    assert shown is not None
    assert [(d["kind"], d["uid"]) for d in shown["duplicates"]] == [("same-mail", 2)]


def test_a_different_mail_reusing_a_message_id_is_a_mail_of_its_own(config: Config) -> None:
    first = raw_mail()
    other = raw_mail(subject="Factura duplicada", body="Nos han cobrado dos veces la cuota.")
    other_again = raw_mail(
        subject="Factura duplicada",
        body="Nos han cobrado dos veces la cuota.",
        trace="Received: from b.example by mx2\r\n",
    )

    handled = pipeline(config).handle_batch(
        [inbound(1, first), inbound(2, other), inbound(3, other_again)]
    )

    assert [h.outcome for h in handled] == [
        Outcome.NEW_INCIDENT,
        Outcome.NEW_INCIDENT,
        Outcome.DUPLICATE,
    ]
    incidents = rows(config, Incident)
    assert len(incidents) == 2
    assert {i.category for i in incidents} == {"technical", "billing"}
    messages = rows(config, Message)
    assert [m.message_id for m in messages] == ["m1@clientes.test"] * 2
    reuse, twin = rows(config, DuplicateMail)
    assert (reuse.kind, reuse.uid, reuse.matched_message_id) == (
        "reused-message-id",
        2,
        messages[0].id,
    )
    assert (twin.kind, twin.uid, twin.matched_message_id) == ("same-mail", 3, messages[1].id)
    assert twin.incident_id == messages[1].incident_id != reuse.incident_id


def test_byte_identical_unreadable_twins_each_keep_a_quarantine_entry(config: Config) -> None:
    junk = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

    handled = pipeline(config).handle_batch([inbound(1, junk), inbound(2, junk)])
    again = pipeline(config).handle_batch([inbound(2, junk)])  # the same UID seen again

    assert [h.outcome for h in handled + again] == [Outcome.QUARANTINED] * 3
    kept = rows(config, QuarantinedMail)
    assert [q.uid for q in kept] == [1, 2]
    assert kept[0].sha256 == kept[1].sha256


@pytest.mark.parametrize(
    ("address", "written"),
    [
        ("ana@clientes.test", "ana@clientes.test"),
        ("ana@Clientes.TEST", "ana@clientes.test"),
        ("ana@correos-españa.es", "ana@xn--correos-espaa-tkb.es"),
        ("josé@clientes.test", "josé@clientes.test"),  # SMTPUTF8 at send time
        ("josé@ñandú.es", "josé@xn--and-6ma2c.es"),
    ],
)
def test_addresses_are_written_with_an_ascii_domain(address: str, written: str) -> None:
    assert writable_address(address) == written


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ana",
        "@clientes.test",
        "ana@",
        "ana maría@clientes.test",
        "a<b@c.es",
        "a@b..es",
        "a@-b-.es",
        "a@" + "x" * 64 + ".es",
    ],
)
def test_addresses_no_reply_can_carry_are_refused_with_a_reason(address: str) -> None:
    with pytest.raises(UnwritableAddress):
        writable_address(address)


def test_a_client_with_a_non_ascii_address_gets_a_utf8_reply(config: Config) -> None:
    [handled] = pipeline(config).handle_batch(
        [inbound(1, raw_mail(sender="José Pérez <josé@ñandú.es>"))]
    )

    assert handled.outcome is Outcome.NEW_INCIDENT and handled.replies == 1
    [ack] = rows(config, OutboxItem)
    assert ack.recipients == "josé@xn--and-6ma2c.es"
    head = ack.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    assert "<josé@xn--and-6ma2c.es>" in head


def test_an_address_no_reply_can_carry_costs_the_reply_and_keeps_the_incident(
    config: Config,
) -> None:
    [handled] = pipeline(config).handle_batch(
        [inbound(1, raw_mail(sender="Ana <ana@clientes..test>"))]
    )

    assert handled.outcome is Outcome.NEW_INCIDENT and handled.replies == 0
    [incident] = rows(config, Incident)
    assert rows(config, OutboxItem) == []
    events = [e for e in rows(config, IncidentEvent) if e.action == "no-reply"]
    assert len(events) == 1 and "address not writable" in events[0].detail
    assert incident.reference == handled.reference
