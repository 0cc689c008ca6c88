"""Hand-off on the real mail stack: the client's acknowledgement and the team's forward both
delivered by Postfix to Dovecot, the original attached byte for byte; an unsure mail waits
for a person; a daemon killed between commit and send still forwards exactly once."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.config import Config, load_config
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import BILLING, SUPPORT, TECHNICAL, write_local_config
from maildesk.testing.support import run_once

pytestmark = pytest.mark.stack


@pytest.fixture
def handoff_config(tmp_path: Path, mail: MailStack) -> Config:
    path = write_local_config(
        tmp_path, mail.imap_port, mail.smtp_port, backoff_initial_seconds=0.3, handoff=True
    )
    return load_config(path)


def client_raw(sender: str, subject: str, body: str, number: int) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f"Cliente {number} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = f"<handoff-{number}@clientes.test>"
    msg.set_content(body)
    return msg.as_bytes()


def attachment(raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "message/rfc822"]
    payload = part.get_payload()
    assert isinstance(payload, list)
    return payload[0].as_bytes(policy=email.policy.SMTP)  # type: ignore[no-any-return]


def test_technical_and_billing_mail_reach_their_teams_with_the_original(
    mail: MailStack, handoff_config: Config
) -> None:
    technical = client_raw(
        "bar.pepe@clientes.test",
        "Sin internet y el datáfono no cobra",
        "Desde las 9 no hay internet en el bar, el router tiene la luz roja. Tel. 612 345 678.",
        1,
    )
    billing = client_raw(
        "ferreteria.garcia@clientes.test",
        "Factura cobrada dos veces",
        "Nos habéis cargado dos veces la factura de noviembre (49,90 €). Devolvednos una.",
        2,
    )
    mail.append(SUPPORT, technical)
    mail.append(SUPPORT, billing)
    summary = run_once(handoff_config)
    assert summary.outcomes == {"new_incident": 2}
    assert summary.sent.sent == 4  # two acknowledgements, two forwards
    mail.wait_until_delivered()
    [to_client] = mail.wait_for_messages("bar.pepe@clientes.test", 1)
    [forward] = mail.wait_for_messages(TECHNICAL, 1)
    [cdf] = mail.wait_for_messages(BILLING, 1)
    assert mail.message_count(TECHNICAL) == 1 and mail.message_count(BILLING) == 1
    reference = email.message_from_bytes(to_client)["X-Maildesk-Reference"]
    head = email.message_from_bytes(forward, policy=email.policy.default)
    assert head["Subject"].startswith(f"[{reference}] ")
    assert head["Reply-To"] == SUPPORT
    assert attachment(forward) == technical  # the client's mail, unchanged
    assert attachment(cdf) == billing
    assert "612 345 678" in head.get_body(("plain",)).get_content()


def test_an_unsure_mail_is_forwarded_only_after_a_person_decides(
    mail: MailStack, handoff_config: Config, tmp_path: Path
) -> None:
    mail.append(SUPPORT, client_raw("cliente4@clientes.test", "Hola", "Buenos días, gracias.", 3))
    assert run_once(handoff_config).outcomes == {"new_incident": 1}
    mail.wait_until_delivered()
    assert mail.message_count("cliente4@clientes.test") == 1  # acknowledged
    assert mail.message_count(TECHNICAL) == 0 and mail.message_count(BILLING) == 0

    config_path = str(tmp_path / "maildesk.toml")
    assert main(["--config", config_path, "incidents", "set", "MD-2026-000001",
                 "--category", "technical", "--note", "llamé al cliente"]) == 0  # fmt: skip
    assert run_once(handoff_config).sent.sent == 1  # the forward the decision queued
    assert run_once(handoff_config).sent.sent == 0  # and never again
    mail.wait_until_delivered()
    assert mail.message_count(TECHNICAL) == 1 and mail.message_count(BILLING) == 0


def test_the_teams_answer_by_smtp_joins_the_incident_and_nothing_goes_back_to_the_team(
    mail: MailStack, handoff_config: Config
) -> None:
    from sqlalchemy import select

    from maildesk.db.store import Database
    from maildesk.db.tables import Incident, Message

    mail.append(SUPPORT, client_raw("cliente5@clientes.test", "Sin tono",
                                    "El fijo no tiene tono desde ayer.", 4))  # fmt: skip
    run_once(handoff_config)
    [forward] = mail.wait_for_messages(TECHNICAL, 1)
    head = email.message_from_bytes(forward, policy=email.policy.default)
    answer = EmailMessage()
    answer["From"] = f"Soporte técnico <{TECHNICAL}>"
    answer["To"] = head["Reply-To"]
    answer["Subject"] = f"RE: {head['Subject']}"
    answer["Message-ID"] = "<answer-e2e@operador.test>"
    answer["In-Reply-To"] = head["Message-ID"]
    answer.set_content("Avería localizada en la central; queda resuelta esta tarde.")
    mail.deliver(answer.as_bytes(), to=SUPPORT, mail_from=TECHNICAL)  # a real SMTP submission
    mail.wait_for_messages(SUPPORT, 1)
    summary = run_once(handoff_config)
    assert summary.outcomes == {"team_answer": 1} and summary.sent.sent == 0
    database = Database(handoff_config.database.url)
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        dispositions = [
            m.disposition for m in session.scalars(select(Message).order_by(Message.id))
        ]
        assert incident.first_response_at is not None
    database.dispose()
    assert dispositions == ["new_incident", "team_answer"]
    mail.wait_until_delivered()
    assert mail.message_count(TECHNICAL) == 1  # the forward only: no acknowledgement to a team


def test_with_relay_the_client_gets_the_teams_answer_in_their_own_thread(
    mail: MailStack, tmp_path: Path
) -> None:
    path = write_local_config(
        tmp_path, mail.imap_port, mail.smtp_port, backoff_initial_seconds=0.3, handoff=True
    )
    path.write_text(path.read_text().replace("relay = {}", 'relay = { billing_centre = "always" }'))
    config = load_config(path)
    client = "hotel.marina@clientes.test"
    body = "El importe de la factura de noviembre es el doble."
    mail.append(SUPPORT, client_raw(client, "Factura de noviembre", body, 5))
    run_once(config)
    [forward] = mail.wait_for_messages(BILLING, 1)
    head = email.message_from_bytes(forward, policy=email.policy.default)
    answer = EmailMessage()
    answer["From"] = f"CDF <{BILLING}>"
    answer["To"] = head["Reply-To"]
    answer["Subject"] = f"RE: {head['Subject']}"
    answer["Message-ID"] = "<answer-relay-e2e@operador.test>"
    answer["In-Reply-To"] = head["Message-ID"]
    answer.set_content("Emitimos un abono por la diferencia en la próxima factura.")
    mail.deliver(answer.as_bytes(), to=SUPPORT, mail_from=BILLING)
    mail.wait_for_messages(SUPPORT, 1)
    assert run_once(config).outcomes == {"team_answer": 1}
    mail.wait_until_delivered()
    _, relayed = mail.wait_for_messages(client, 2)  # the acknowledgement, then the answer
    relay = email.message_from_bytes(relayed, policy=email.policy.default)
    assert relay["In-Reply-To"] == "<handoff-5@clientes.test>"
    assert "Emitimos un abono" in relay.get_body(("plain",)).get_content()
    assert BILLING not in relayed.decode("utf-8", "replace")
