"""The desk run by mail on the real stack: a staff member's reply with commands is obeyed
only when the receiving server authenticated it (trusted Authentication-Results) or it came
to the incident's secret reply address; anything else changes nothing and is answered."""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, IncidentEvent, SurveyAnswer
from maildesk.desk.authentication import command_address
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT, write_local_config
from maildesk.testing.support import client_mail, run_once

pytestmark = pytest.mark.stack

STAFF = "distribuidor@maildesk.test"
SECRET = "desk-test-secret"


@pytest.fixture
def desk_config(mail: MailStack, tmp_path: Path) -> Config:
    path = write_local_config(
        tmp_path, mail.imap_port, mail.smtp_port,
        extra=(
            "\n[desk]\n"
            'trusted_authserv_ids = ["mx.maildesk.test"]\n'
            'token_secret_env = "MAILDESK_TEST_DESK_SECRET"\n'
            f'staff = [{{ address = "{STAFF}", name = "Jefe", language = "es" }}]\n'
        ),
    )  # fmt: skip
    os.environ["MAILDESK_TEST_DESK_SECRET"] = SECRET
    config = load_config(path)
    mail.append(
        SUPPORT, client_mail("cliente1@clientes.test", "Sin ADSL", "No hay ADSL.").as_bytes()
    )
    assert run_once(config).outcomes == {"new_incident": 1}
    return config


def staff_mail(body: str, *, to: str = SUPPORT, results: str = "") -> bytes:
    headers = f"Authentication-Results: {results}\r\n" if results else ""
    return (
        f"{headers}From: Jefe <{STAFF}>\r\nTo: {to}\r\n"
        "Subject: Re: [MD-2026-000001] Sin ADSL\r\nMessage-ID: <cmd-1@maildesk.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}"
    ).encode()


def incident(config: Config) -> Incident:
    with Database(config.database.url).session() as session:
        found = session.scalars(select(Incident)).one()
        session.expunge(found)
        return found


def answer_to_staff(mail: MailStack) -> str:
    [raw] = mail.wait_for_messages(STAFF, 1, timeout=20)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return f"{message['Subject']}\n{message.get_body(('plain',)).get_content()}"


def test_an_authenticated_staff_reply_resolves_the_incident_and_is_answered(
    mail: MailStack, desk_config: Config
) -> None:
    body = (
        "prioridad P2\r\nresponder Ya está: el técnico cambió el router.\r\n"
        "resolver router cambiado, ya navega\r\n\r\nUn saludo\r\n> reabrir\r\n"
    )
    mail.append(SUPPORT, staff_mail(
        body, results="mx.maildesk.test; dkim=pass header.d=maildesk.test"
    ))  # fmt: skip

    summary = run_once(desk_config)

    assert summary.outcomes == {"command": 1}
    assert (incident(desk_config).status, incident(desk_config).priority) == ("resolved", "P2")
    answer = answer_to_staff(mail)
    assert answer.startswith("[MD-2026-000001] Hecho")
    assert (
        "- resolver router cambiado, ya navega: aplicada (estado: resuelta; el cliente ha "
        "recibido el aviso de resolución)" in answer
    )
    assert "- prioridad P2: aplicada (ya tenía prioridad P2)" in answer
    assert "Ahora: estado resuelta, prioridad P2" in answer
    # The client got the staff member's words, in their own thread, signed by him, and
    # the resolution notice with its survey (delivery order is the server's).
    received = mail.wait_for_messages("cliente1@clientes.test", 3, timeout=20)
    by_subject = {
        str(m["Subject"]).split("] ")[1].split(":")[0]: m
        for m in (email.message_from_bytes(r, policy=email.policy.default) for r in received)
    }
    assert sorted(by_subject) == ["Recibido", "Respuesta", "Resuelta"]
    to_client = by_subject["Respuesta"]
    text = to_client.get_body(("plain",)).get_content()
    assert "Ya está: el técnico cambió el router." in text and "Jefe" in text
    assert to_client["In-Reply-To"] and "MD-2026-000001" in to_client["Subject"]
    notice = by_subject["Resuelta"]
    assert notice["Subject"].startswith("[MD-2026-000001] Resuelta: Sin ADSL")
    notice_text = notice.get_body(("plain",)).get_content()
    assert "router cambiado, ya navega" in notice_text and "del 1 (muy mal) al 5" in notice_text
    with Database(desk_config.database.url).session() as session:
        actors = {e.actor for e in session.scalars(select(IncidentEvent))
                  if e.action.startswith("command:")}  # fmt: skip
    assert actors == {f"{STAFF} (dkim via mx.maildesk.test)"}


@pytest.mark.parametrize(
    ("results", "reason"),
    [
        ("", "el correo no trae cabecera Authentication-Results"),
        ("mx.evil.test; dkim=pass header.d=maildesk.test", "de un servidor de confianza"),
        ("mx.maildesk.test; dkim=fail header.d=maildesk.test", "mx.maildesk.test no ha auten"),
        # a forger signs with his own domain: a pass, but not for the staff member's
        (
            "mx.maildesk.test; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=evil.test",
            "mx.maildesk.test no ha autenticado a distribuidor@maildesk.test",
        ),
    ],
)  # fmt: skip
def test_an_unauthenticated_command_mail_changes_nothing_and_is_told_why(
    mail: MailStack, desk_config: Config, results: str, reason: str
) -> None:
    mail.append(SUPPORT, staff_mail("resolver\r\n", results=results))

    summary = run_once(desk_config)

    assert summary.outcomes == {"followup": 1}  # kept as a message of the incident
    assert incident(desk_config).status == "open"
    answer = answer_to_staff(mail)
    assert answer.startswith("[MD-2026-000001] Órdenes no aplicadas")
    assert reason in answer


def test_the_secret_reply_address_authenticates_and_a_wrong_one_does_not(
    mail: MailStack, desk_config: Config
) -> None:
    good = command_address(SUPPORT, "MD-2026-000001", STAFF, SECRET.encode())
    wrong = command_address(SUPPORT, "MD-2026-000001", "otro@maildesk.test", SECRET.encode())
    mail.append(SUPPORT, staff_mail("esperar falta el contrato\r\n", to=wrong))
    assert run_once(desk_config).outcomes == {"followup": 1}
    assert incident(desk_config).status == "open"

    mail.append(SUPPORT, staff_mail("esperar falta el contrato\r\n", to=good).replace(
        b"cmd-1@", b"cmd-2@"))  # fmt: skip
    assert run_once(desk_config).outcomes == {"command": 1}
    assert incident(desk_config).status == "waiting"


def test_commands_only_in_quoted_text_are_not_executed(
    mail: MailStack, desk_config: Config
) -> None:
    mail.append(SUPPORT, staff_mail(
        "Gracias, lo miro mañana.\r\n\r\n> resolver\r\n",
        results="mx.maildesk.test; dkim=pass header.d=maildesk.test",
    ))  # fmt: skip

    summary = run_once(desk_config)

    assert "command" not in summary.outcomes
    assert incident(desk_config).status == "open"


def test_a_survey_reply_of_2_is_kept_and_the_distributor_reopens_from_the_alert(
    mail: MailStack, desk_config: Config
) -> None:
    assert desk_config.company.distributor_address == STAFF
    mail.append(SUPPORT, staff_mail(
        "resolver cambiado el router\r\n",
        results="mx.maildesk.test; dkim=pass header.d=maildesk.test",
    ))  # fmt: skip
    assert run_once(desk_config).outcomes == {"command": 1}
    answer_to_staff(mail)
    [_, resolved] = mail.wait_for_messages("cliente1@clientes.test", 2, timeout=20)
    notice = email.message_from_bytes(resolved, policy=email.policy.default)

    # The client answers the survey from her phone: "2", a word, and the quoted notice.
    reply = client_mail(
        "cliente1@clientes.test", f"Re: {notice['Subject']}",
        "2, sigue yendo lento\n\n> ¿Cómo valora la atención recibida?\n",
        headers={"In-Reply-To": notice["Message-ID"], "References": notice["Message-ID"]},
    )  # fmt: skip
    mail.append(SUPPORT, reply.as_bytes())
    assert run_once(desk_config).outcomes == {"survey": 1}
    assert incident(desk_config).status == "resolved"  # a score, not a new complaint
    with Database(desk_config.database.url).session() as session:
        answer = session.scalars(select(SurveyAnswer)).one()
        assert (answer.score, answer.comment, answer.how) == (2, "sigue yendo lento", "reply")

    # The distributor is alerted, and his reply goes to his own secret address.
    alerts = mail.wait_for_messages(STAFF, 2, timeout=20)  # the command answer, then this
    alert = email.message_from_bytes(alerts[-1], policy=email.policy.default)
    assert alert["Subject"].startswith("Valoración 2/5 [MD-2026-000001]")
    assert "sigue yendo lento" in alert.get_body(("plain",)).get_content()
    secret_address = command_address(SUPPORT, "MD-2026-000001", STAFF, SECRET.encode())
    assert alert["Reply-To"] == secret_address

    # "reabrir" sent back, with no Authentication-Results at all: obeyed.
    mail.append(SUPPORT, staff_mail("reabrir\r\n", to=secret_address).replace(
        b"cmd-1@", b"cmd-3@"))  # fmt: skip
    assert run_once(desk_config).outcomes == {"command": 1}
    reopened = incident(desk_config)
    assert (reopened.status, reopened.reopened_count) == ("open", 1)


def test_commands_from_an_address_off_the_staff_list_are_an_ordinary_client_mail(
    mail: MailStack, desk_config: Config
) -> None:
    raw = staff_mail(
        "resolver\r\nprioridad P1\r\n", results="mx.maildesk.test; dkim=pass header.d=maildesk.test"
    ).replace(STAFF.encode(), b"cliente1@clientes.test")
    mail.append(SUPPORT, raw)

    summary = run_once(desk_config)

    assert summary.outcomes == {"followup": 1}
    assert (incident(desk_config).status, incident(desk_config).priority) != ("resolved", "P1")
    assert incident(desk_config).status == "open"
    with Database(desk_config.database.url).session() as session:
        actions = {e.action for e in session.scalars(select(IncidentEvent))}
    assert not any(a.startswith("command") for a in actions)
