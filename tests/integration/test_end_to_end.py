"""The whole path on the real stack: SMTP → Postfix → Dovecot → maildesk → SMTP → client."""

from __future__ import annotations

import asyncio
import email
import email.policy

import pytest
from sqlalchemy import select

from maildesk.clock import SystemClock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, Message, OutboxItem
from maildesk.runtime.daemon import build_parts
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT
from maildesk.testing.support import client_mail, count_rows, run_once

pytestmark = pytest.mark.stack


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_client_mail_gets_one_incident_and_one_threaded_acknowledgement(
    mail: MailStack, stack_config: Config
) -> None:
    sent = client_mail(
        "bar.pepe@clientes.test",
        "Sin internet en el bar",
        "Buenos días,\n\nDesde esta mañana no tenemos internet y no podemos cobrar con "
        "tarjeta. El router tiene la luz roja.\n\nPepe",
    )
    mail.deliver(sent.as_bytes(), to=SUPPORT, mail_from="bar.pepe@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)

    summary = run_once(stack_config)

    assert summary.outcomes == {"new_incident": 1}
    assert summary.sent.sent == 1
    [raw] = mail.wait_for_messages("bar.pepe@clientes.test", 1)
    ack = parse(raw)
    db = Database(stack_config.database.url)
    with db.session() as session:
        [incident] = session.scalars(select(Incident)).all()
        [outbox] = session.scalars(select(OutboxItem)).all()
    db.dispose()
    original_id = sent["Message-ID"]
    assert ack["In-Reply-To"] == original_id
    assert original_id in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert f"[{incident.reference}]" in ack["Subject"]
    assert ack["Message-ID"] == f"<{outbox.message_id}>"
    assert outbox.status == "sent"
    assert incident.category == "technical"
    assert incident.kind == "outage"
    assert incident.language == "es"
    assert incident.acknowledged_at is not None
    text = ack.get_body(preferencelist=("plain",)).get_content()
    assert incident.reference in text
    # The handled mail left the inbox for the processed folder, after the commit.
    assert mail.message_count(SUPPORT) == 0
    assert mail.message_count(SUPPORT, "Processed") == 1
    # Nothing is waiting: no second acknowledgement ever arrives.
    assert run_once(stack_config).outcomes == {}
    assert mail.message_count("bar.pepe@clientes.test") == 1


def test_auto_reply_is_logged_without_incident_or_reply(
    mail: MailStack, stack_config: Config
) -> None:
    auto = client_mail(
        "autoreply@clientes.test",
        "Fuera de la oficina: Sin internet",
        "Estoy fuera de la oficina hasta el lunes.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    mail.deliver(auto.as_bytes(), to=SUPPORT, mail_from="autoreply@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)

    summary = run_once(stack_config)

    assert summary.outcomes == {"ignored": 1}
    assert summary.sent.sent == 0
    assert count_rows(stack_config, Incident) == 0
    assert count_rows(stack_config, OutboxItem) == 0
    assert (
        count_rows(
            stack_config,
            Message,
            Message.disposition == "ignored",
            Message.reason == "auto-reply:auto-submitted:auto-replied",
        )
        == 1
    )
    assert mail.message_count(SUPPORT, "Processed") == 1
    assert mail.message_count("autoreply@clientes.test") == 0


def test_restart_and_redelivery_process_nothing_twice(
    mail: MailStack, stack_config: Config
) -> None:
    first = client_mail(
        "cliente1@clientes.test",
        "Factura duplicada",
        "Nos han cobrado dos veces la factura de octubre.",
    )
    mail.deliver(first.as_bytes(), to=SUPPORT, mail_from="cliente1@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)
    assert run_once(stack_config).outcomes == {"new_incident": 1}

    # A restart finds nothing new.
    assert run_once(stack_config).outcomes == {}
    # The same mail put back in the inbox is recognised by its Message-ID…
    mail.append(SUPPORT, first.as_bytes())
    # …and a mail without Message-ID, seen twice, by its content.
    anonymous = client_mail(
        "cliente2@clientes.test",
        "Portabilidad parada",
        "La portabilidad de mi número lleva dos semanas parada.",
    )
    del anonymous["Message-ID"]
    mail.append(SUPPORT, anonymous.as_bytes())
    mail.append(SUPPORT, anonymous.as_bytes())

    summary = run_once(stack_config)

    assert summary.outcomes == {"duplicate": 2, "new_incident": 1}
    assert count_rows(stack_config, Incident) == 2
    assert mail.message_count("cliente1@clientes.test") == 1
    assert len(mail.wait_for_messages("cliente2@clientes.test", 1)) == 1
    assert mail.message_count(SUPPORT) == 0


def test_reply_from_client_attaches_to_its_incident(mail: MailStack, stack_config: Config) -> None:
    first = client_mail(
        "cliente3@clientes.test",
        "La centralita no desvía llamadas",
        "Después de la instalación la centralita no desvía las llamadas.",
    )
    mail.deliver(first.as_bytes(), to=SUPPORT, mail_from="cliente3@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)
    run_once(stack_config)
    [ack_raw] = mail.wait_for_messages("cliente3@clientes.test", 1)
    ack = parse(ack_raw)

    answer = client_mail(
        "cliente3@clientes.test",
        f"Re: {ack['Subject']}",
        "Les adjunto el modelo: es una centralita de 8 extensiones.",
        headers={
            "In-Reply-To": ack["Message-ID"],
            "References": f"{first['Message-ID']} {ack['Message-ID']}",
        },
    )
    mail.deliver(answer.as_bytes(), to=SUPPORT, mail_from="cliente3@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)
    summary = run_once(stack_config)

    assert summary.outcomes == {"followup": 1}
    assert count_rows(stack_config, Incident) == 1
    assert (
        count_rows(
            stack_config,
            Message,
            Message.disposition == "followup",
            Message.incident_id.is_not(None),
        )
        == 1
    )
    replies = mail.wait_for_messages("cliente3@clientes.test", 2)
    followup = parse(replies[1])
    assert followup["In-Reply-To"] == answer["Message-ID"]
    reference = ack["X-Maildesk-Reference"]
    assert f"[{reference}]" in followup["Subject"]


def test_smtp_outage_delays_acknowledgements_then_delivers_each_once(
    mail: MailStack, stack_config: Config
) -> None:
    mail.stop_smtp()
    senders = ["cliente1@clientes.test", "cliente2@clientes.test", "cliente3@clientes.test"]
    for sender in senders:
        # Postfix is down: the mails reach the mailbox directly over IMAP.
        mail.append(
            SUPPORT,
            client_mail(
                sender, "Datáfono sin configurar", "El datáfono nuevo no está configurado."
            ).as_bytes(),
        )

    down = run_once(stack_config)

    assert down.outcomes == {"new_incident": 3}
    assert down.sent.sent == 0 and down.sent.retried >= 1
    assert count_rows(stack_config, OutboxItem, OutboxItem.status == "queued") == 3
    assert count_rows(stack_config, OutboxItem, OutboxItem.last_error != "") >= 1
    assert all(mail.message_count(s) == 0 for s in senders)

    mail.start_smtp()
    parts = build_parts(stack_config, SystemClock())

    async def until_sent() -> int:
        total = 0
        for _ in range(60):
            total += (await parts.sender.drain()).sent
            if total == 3:
                break
            await asyncio.sleep(0.2)
        return total

    assert asyncio.run(until_sent()) == 3
    parts.database.dispose()
    for sender in senders:
        assert len(mail.wait_for_messages(sender, 1)) == 1
    assert count_rows(stack_config, OutboxItem, OutboxItem.status == "sent") == 3
    # And nothing more arrives later.
    assert run_once(stack_config).sent.sent == 0
    mail.wait_until_delivered()
    assert [mail.message_count(s) for s in senders] == [1, 1, 1]
