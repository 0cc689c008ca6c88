"""Schedule on the real stack, with an injected clock: out-of-hours and in-hours answers."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from maildesk.clock import FrozenClock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import Incident
from maildesk.runtime.daemon import Daemon, build_parts
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT
from maildesk.testing.support import client_mail

pytestmark = pytest.mark.stack

MADRID = ZoneInfo("Europe/Madrid")


def answer_at(
    mail: MailStack, config: Config, instant: datetime, sender: str, subject: str, body: str
) -> tuple[email.message.EmailMessage, Incident]:
    mail.append(SUPPORT, client_mail(sender, subject, body).as_bytes())
    parts = build_parts(config, FrozenClock(instant))
    asyncio.run(Daemon(parts).run_once())
    parts.database.dispose()
    [raw] = mail.wait_for_messages(sender, 1)
    db = Database(config.database.url)
    with db.session() as session:
        incident = session.scalars(select(Incident).order_by(Incident.id.desc())).first()
    db.dispose()
    assert incident is not None
    return email.message_from_bytes(raw, policy=email.policy.default), incident  # type: ignore[return-value]


def text_of(msg: email.message.EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_friday_evening_mail_gets_the_out_of_hours_answer_naming_monday(
    mail: MailStack, stack_config: Config
) -> None:
    friday = datetime(2026, 11, 27, 20, 5, tzinfo=MADRID)  # closed since 20:00
    ack, incident = answer_at(
        mail,
        stack_config,
        friday,
        "bar.pepe@clientes.test",
        "Factura de octubre",
        "Me han cobrado dos veces la factura.",
    )
    text = text_of(ack)
    assert "fuera de nuestro horario" in text
    assert "volvemos a abrir el lunes 30 de noviembre a las 9:00" in text
    assert "https://clientes.operador.example" in text  # self-service options
    assert incident.arrived_out_of_hours
    # invoice_error (P3): first response 4 business hours, resolution 5 d = 45 h,
    # counted from Monday 9:00: five full business days, to Friday's closing.
    assert incident.first_response_due == datetime(2026, 11, 30, 13, 0, tzinfo=MADRID)
    assert incident.resolution_due == datetime(2026, 12, 4, 20, 0, tzinfo=MADRID)
    assert "el lunes 30 de noviembre a las 13:00" in text


def test_friday_1955_is_last_call_answered_as_out_of_hours_from_monday(
    mail: MailStack, stack_config: Config
) -> None:
    # 19:55 is open until 20:00, but inside the 10-minute last call: nobody will pick it up
    # today, so the client is told Monday 9:00 and the clock starts then.
    friday = datetime(2026, 11, 27, 19, 55, tzinfo=MADRID)
    ack, incident = answer_at(
        mail,
        stack_config,
        friday,
        "gestoria.llobregat@clientes.test",
        "No tenim internet",
        "Bon vespre, no tenim internet a l'oficina des de fa una hora. Gràcies.",
    )
    text = text_of(ack)
    assert incident.arrived_out_of_hours
    assert (
        "Ens ha arribat just al tancament: tornem a obrir el dilluns 30 de novembre a les 9:00"
        in text
    )
    # An outage is P1 with a 30-minute first response, counted from Monday 9:00.
    assert incident.kind == "outage"
    assert incident.first_response_due == datetime(2026, 11, 30, 9, 30, tzinfo=MADRID)
    assert "900 000 000" in text  # the 24-hour line for an urgent outage


def test_friday_1945_is_still_in_hours_and_its_clock_runs_now(
    mail: MailStack, stack_config: Config
) -> None:
    friday = datetime(2026, 11, 27, 19, 45, tzinfo=MADRID)
    ack, incident = answer_at(
        mail,
        stack_config,
        friday,
        "cliente2@clientes.test",
        "Sin internet",
        "No tenemos internet en la tienda.",
    )
    text = text_of(ack)
    assert not incident.arrived_out_of_hours
    assert "fuera de nuestro horario" not in text and "justo al cierre" not in text
    # 15 business minutes on Friday, 15 on Monday.
    assert incident.first_response_due == datetime(2026, 11, 30, 9, 15, tzinfo=MADRID)
    assert "el lunes 30 de noviembre a las 9:15" in text


def test_saturday_catalan_mail_gets_the_closed_answer_in_catalan(
    mail: MailStack, stack_config: Config
) -> None:
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=MADRID)
    ack, incident = answer_at(
        mail,
        stack_config,
        saturday,
        "gestoria.llobregat@clientes.test",
        "No tenim internet",
        "Bon dia, no tenim internet a l'oficina des d'ahir. Gràcies.",
    )
    text = text_of(ack)
    assert incident.language == "ca"
    assert "tornem a obrir el dilluns 30 de novembre a les 9:00" in text
    assert "900 000 000" in text  # the 24-hour line for an urgent outage
    assert ack["Subject"].startswith(f"[{incident.reference}] Rebut:")


def test_tuesday_morning_mail_gets_the_in_hours_answer(
    mail: MailStack, stack_config: Config
) -> None:
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=MADRID)
    ack, incident = answer_at(
        mail,
        stack_config,
        tuesday,
        "cliente1@clientes.test",
        "Centralita sin configurar",
        "La centralita que nos instalaron no tiene las extensiones configuradas.",
    )
    text = text_of(ack)
    assert not incident.arrived_out_of_hours
    assert "fuera de nuestro horario" not in text
    assert "Hemos recibido su mensaje y hemos abierto la incidencia" in text
    # pbx_setup (P2): 2 h first response, 2 d = 18 business hours to resolve.
    assert incident.first_response_due == datetime(2026, 12, 1, 12, 0, tzinfo=MADRID)
    assert incident.resolution_due == datetime(2026, 12, 3, 10, 0, tzinfo=MADRID)
    assert "el jueves 3 de diciembre a las 10:00" in text
