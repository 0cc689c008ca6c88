"""Hand-off: each sorted incident forwarded to the team that must solve it, once, with the
client's mail attached byte for byte; unsure ones wait for a person's decision."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.cli import main
from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Handoff, Incident, OutboxItem
from maildesk.inbound.pipeline import InboundMail, Outcome, Pipeline
from maildesk.outbound.handoff import handoff_pending, phones_in
from maildesk.runtime.daemon import build_parts
from maildesk.testing.stackconfig import BILLING, SUPPORT, TECHNICAL, write_offline_config

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, open


def client_raw(subject: str, body: str, sender: str, number: int) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)  # CRLF line endings, as IMAP returns them
    msg["From"] = f"Ferretería Ruiz <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = f"<client-{number}@clientes.test>"
    msg.set_content(body)
    return msg.as_bytes()


def configured(tmp_path: Path, extra: str = "", relay: str = "") -> tuple[Path, Config, Pipeline]:
    path = write_offline_config(tmp_path, handoff=True)
    if extra:
        path.write_text(path.read_text().replace("kinds = {}", extra))
    if relay:
        path.write_text(path.read_text().replace("relay = {}", relay))
    config = load_config(path)
    return path, config, build_parts(config, FrozenClock(NOW)).pipeline


def handle(pipeline: Pipeline, raw: bytes, uid: int) -> str:
    handled = pipeline.handle(InboundMail("INBOX", 1, uid, len(raw), raw))
    assert handled.outcome is Outcome.NEW_INCIDENT
    return str(handled.reference)


def outbox(config: Config, purpose: str) -> list[OutboxItem]:
    database = Database(config.database.url)
    with database.session() as session:
        rows = list(session.scalars(select(OutboxItem).where(OutboxItem.purpose == purpose)))
    database.dispose()
    return rows


def handoffs(config: Config) -> list[tuple[str, str]]:
    database = Database(config.database.url)
    with database.session() as session:
        rows = [(h.incident.reference, h.address) for h in session.scalars(select(Handoff))]
    database.dispose()
    return rows


def attached_original(raw: bytes) -> bytes:
    """The message/rfc822 part's bytes exactly as carried (between its headers and the
    boundary that closes it)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    boundary = msg.get_boundary()
    assert boundary is not None
    part = raw.split(b"--" + boundary.encode())[2]  # 0 preamble, 1 summary, 2 attachment
    headers, _, body = part.partition(b"\r\n\r\n")
    assert b"Content-Type: message/rfc822" in headers
    return body.removesuffix(b"\r\n")  # the line break before the boundary is the boundary's


def test_a_technical_mail_is_acknowledged_and_handed_to_the_technical_service(
    tmp_path: Path,
) -> None:
    _, config, pipeline = configured(tmp_path)
    raw = client_raw(
        "Sin internet en la tienda",
        "Desde esta mañana la fibra no funciona, el router tiene la luz LOS en rojo.\n"
        "Podéis llamarme al 612 345 678 o al fijo 976 11 22 33.\n",
        "ferreteria.ruiz@clientes.test",
        1,
    )
    reference = handle(pipeline, raw, 1)
    assert len(outbox(config, "ack")) == 1
    [forward] = outbox(config, "handoff")
    assert forward.recipients == TECHNICAL
    assert handoffs(config) == [(reference, TECHNICAL)]
    msg = email.message_from_bytes(forward.raw, policy=email.policy.default)
    assert msg["Subject"].startswith(f"[{reference}] Avería de ADSL/fibra — Ferretería Ruiz")
    assert msg["Reply-To"] == SUPPORT and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] == f"<{forward.message_id}>"
    summary = msg.get_body(("plain",)).get_content()
    assert "ferreteria.ruiz@clientes.test" in summary
    assert "612 345 678" in summary and "976 11 22 33" in summary
    assert "prioridad P1" in summary and "Idioma del cliente: español" in summary
    assert "technical-vs-billing" in summary  # why it was sorted so
    assert attached_original(forward.raw) == raw  # byte for byte


def test_a_billing_mail_goes_to_the_cdf_and_other_mail_to_nobody(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path)
    billing = handle(pipeline, client_raw(
        "Factura duplicada", "Nos habéis cobrado dos veces la factura de noviembre, 49,90 €.",
        "a@clientes.test", 1), 1)  # fmt: skip
    handle(pipeline, client_raw(
        "Presupuesto", "Queremos un presupuesto para tres líneas móviles y fibra nueva.",
        "b@clientes.test", 2), 2)  # fmt: skip
    assert handoffs(config) == [(billing, BILLING)]
    assert [row.recipients for row in outbox(config, "handoff")] == [BILLING]


def test_a_kind_can_have_an_address_of_its_own(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path, 'kinds = { portability = "portas@operador.test" }')
    body = (
        "La portabilidad de nuestros 3 números sigue sin hacerse, el operador donante dice "
        "que no le ha llegado la solicitud."
    )
    reference = handle(pipeline, client_raw("Portabilidad atascada", body, "c@clientes.test", 1), 1)
    assert handoffs(config) == [(reference, "portas@operador.test")]


def test_an_unsure_incident_waits_for_a_person_then_goes_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, config, pipeline = configured(tmp_path)
    reference = handle(
        pipeline, client_raw("Hola", "Buenos días, gracias.", "d@clientes.test", 1), 1
    )
    database = Database(config.database.url)
    with database.session() as session:
        assert session.scalars(select(Incident.unsure)).one() is True
    assert handoffs(config) == []
    renderer = build_parts(config, FrozenClock(NOW)).renderer
    assert handoff_pending(database, config, renderer, NOW) == []  # still unsure: it waits

    assert main(["--config", str(path), "incidents", "set", reference,
                 "--category", "billing"]) == 0  # fmt: skip
    assert "handed off to its team" in capsys.readouterr().out
    assert handoffs(config) == [(reference, BILLING)]
    assert handoff_pending(database, config, renderer, NOW) == []  # never twice
    assert len(outbox(config, "handoff")) == 1
    database.dispose()


def test_the_same_mail_read_twice_is_handed_off_once(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path)
    raw = client_raw("Datáfono", "El datáfono no conecta, no podemos cobrar con tarjeta.",
                     "e@clientes.test", 1)  # fmt: skip
    handle(pipeline, raw, 1)
    again = pipeline.handle(InboundMail("INBOX", 1, 2, len(raw), raw))
    assert again.outcome is Outcome.DUPLICATE
    assert len(handoffs(config)) == 1 and len(outbox(config, "handoff")) == 1


def test_forwarding_off_hands_off_nothing(tmp_path: Path) -> None:
    path = write_offline_config(tmp_path)  # as the other tests run: routing.forward = false
    config = load_config(path)
    assert config.routing.forward is False
    pipeline = build_parts(config, FrozenClock(NOW)).pipeline
    handle(pipeline, client_raw("Sin internet", "La fibra no va desde ayer.", "f@c.test", 1), 1)
    assert handoffs(config) == [] and outbox(config, "handoff") == []


def test_phone_numbers_found_in_a_mail() -> None:
    text = "Llamadme al 612 345 678, al +34 976112233 o al 0034 93 123 45 67; ref 2026-0001"
    assert phones_in(text) == ["612 345 678", "+34 976112233", "0034 93 123 45 67"]


def test_the_teams_answer_joins_the_incident_and_is_its_first_response(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path)
    body = "No tenemos tono en el fijo desde ayer por la tarde."
    reference = handle(pipeline, client_raw("Sin línea", body, "g@clientes.test", 1), 1)
    [forward] = outbox(config, "handoff")
    answer = EmailMessage(policy=email.policy.SMTP)
    answer["From"] = f"Soporte técnico <{TECHNICAL}>"
    answer["To"] = SUPPORT
    answer["Subject"] = f"RE: [{reference}] Avería"
    answer["Message-ID"] = "<answer-1@operador.test>"
    answer["In-Reply-To"] = f"<{forward.message_id}>"
    answer.set_content("Revisado: avería en la central, técnico asignado para mañana.\n\n> citado")
    raw = answer.as_bytes()
    handled = pipeline.handle(InboundMail("INBOX", 1, 2, len(raw), raw))
    assert (handled.outcome, handled.reason) == (Outcome.TEAM_ANSWER, "team:technical_service")
    database = Database(config.database.url)
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        handoff = session.scalars(select(Handoff)).one()
        assert incident.first_response_at == NOW and handoff.answered_at == NOW
    database.dispose()
    assert len(outbox(config, "followup")) == 0  # nothing sent back to the team

    # another agent of the team, on the same thread, is the team too; a client is not
    colleague = raw.replace(TECHNICAL.encode(), b"otra.agente@operador.test").replace(
        b"answer-1@", b"answer-2@"
    )
    handled = pipeline.handle(InboundMail("INBOX", 1, 3, len(colleague), colleague))
    assert handled.outcome is Outcome.TEAM_ANSWER


def test_incidents_show_lists_the_hand_offs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _config, pipeline = configured(tmp_path)
    body = "El datáfono nuevo no conecta con el banco, no podemos cobrar."
    reference = handle(pipeline, client_raw("Datáfono", body, "h@clientes.test", 1), 1)
    assert main(["--config", str(path), "incidents", "show", reference, "--json"]) == 0

    detail = json.loads(capsys.readouterr().out)
    [handoff] = detail["handoffs"]
    assert (handoff["team"], handoff["to"], handoff["answered_at"] or None) == (
        "technical_service",
        TECHNICAL,
        None,
    )
    assert [(c["who"], c["what"]) for c in detail["conversation"]] == [
        ("client", "new_incident"),
        ("maildesk", "acknowledgement"),
        ("maildesk", "to the team"),
    ]
    assert main(["--config", str(path), "incidents", "show", reference]) == 0
    out = capsys.readouterr().out
    assert f"→ technical_service <{TECHNICAL}>  (new incident; not answered yet)" in out
    assert f"maildesk → {TECHNICAL}  (to the team, queued)" in out


def test_a_clients_later_mail_goes_to_the_same_team_on_its_thread_once(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path)
    body = "La fibra se corta cada tarde desde el lunes."
    reference = handle(pipeline, client_raw("Cortes de fibra", body, "i@clientes.test", 1), 1)
    [first] = outbox(config, "handoff")
    later = EmailMessage(policy=email.policy.SMTP)
    later["From"] = "Ferretería Ruiz <i@clientes.test>"
    later["To"] = SUPPORT
    later["Subject"] = f"Re: [{reference}] Recibido: Cortes de fibra"
    later["Message-ID"] = "<client-2@clientes.test>"
    later.set_content("Hoy se ha cortado tres veces, a las 17:10, 18:40 y 19:05.")
    raw = later.as_bytes()
    assert pipeline.handle(InboundMail("INBOX", 1, 2, len(raw), raw)).outcome is Outcome.FOLLOWUP
    assert pipeline.handle(InboundMail("INBOX", 1, 3, len(raw), raw)).outcome is (Outcome.DUPLICATE)
    forwards = outbox(config, "handoff")
    assert len(forwards) == 2 and forwards[1].recipients == TECHNICAL
    msg = email.message_from_bytes(forwards[1].raw, policy=email.policy.default)
    assert msg["In-Reply-To"] == f"<{first.message_id}>"
    assert "un nuevo correo del cliente" in msg.get_body(("plain",)).get_content()
    assert attached_original(forwards[1].raw) == raw
    assert len(handoffs(config)) == 1  # still one hand-off: the same team's thread


def test_a_reassigned_incident_goes_to_the_new_team_and_the_old_one_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, config, pipeline = configured(tmp_path)
    body = "Nos llega la factura con un cargo de instalación que no corresponde."
    reference = handle(pipeline, client_raw("Instalación", body, "j@clientes.test", 1), 1)
    assert main(["--config", str(path), "incidents", "set", reference,
                 "--category", "technical", "--kind", "line_installation"]) == 0  # fmt: skip
    capsys.readouterr()
    before = {address for _, address in handoffs(config)}
    target = BILLING if before == {TECHNICAL} else TECHNICAL
    category = "billing" if target == BILLING else "technical"
    kind = "invoice_error" if target == BILLING else "line_installation"
    assert main(["--config", str(path), "incidents", "set", reference,
                 "--category", category, "--kind", kind]) == 0  # fmt: skip
    assert "handed off to its team" in capsys.readouterr().out
    assert {address for _, address in handoffs(config)} == {TECHNICAL, BILLING}
    rows = outbox(config, "handoff")
    [notice] = [r for r in rows if r.message_id.startswith("reassigned.")]
    assert notice.recipients == (before.pop())
    text = email.message_from_bytes(notice.raw, policy=email.policy.default)
    assert text["Subject"].startswith(f"[{reference}] Reasignada")
    assert "se ha reasignado a" in text.get_body(("plain",)).get_content()
    database = Database(config.database.url)
    renderer = build_parts(config, FrozenClock(NOW)).renderer
    assert handoff_pending(database, config, renderer, NOW) == []  # and never again
    database.dispose()


def test_with_relay_the_teams_new_words_reach_the_client_in_their_thread(tmp_path: Path) -> None:
    _, config, pipeline = configured(tmp_path, relay='relay = { technical_service = "always" }')
    body = "El teléfono fijo no da tono desde ayer."
    reference = handle(pipeline, client_raw("Sin tono", body, "k@clientes.test", 1), 1)
    [forward] = outbox(config, "handoff")
    answer = EmailMessage(policy=email.policy.SMTP)
    answer["From"] = f"Soporte técnico <{TECHNICAL}>"
    answer["To"] = SUPPORT
    answer["Subject"] = f"RE: [{reference}] Sin tono"
    answer["Message-ID"] = "<answer-relay@operador.test>"
    answer["In-Reply-To"] = f"<{forward.message_id}>"
    answer.set_content(
        "Línea revisada: era un corte en la caja de la calle, ya reparado.\n"
        "Para dudas, escriban a jefe.turno@operador.test.\n\n"
        "El mar, 1 dic 2026 a las 10:00, soporte escribió:\n> Nueva incidencia para ustedes\n"
    )
    raw = answer.as_bytes()
    handled = pipeline.handle(InboundMail("INBOX", 1, 2, len(raw), raw))
    assert handled.outcome is Outcome.TEAM_ANSWER and handled.replies == 1
    [relay] = outbox(config, "relay")
    assert relay.recipients == "k@clientes.test"
    msg = email.message_from_bytes(relay.raw, policy=email.policy.default)
    assert msg["In-Reply-To"] == "<client-1@clientes.test>"  # the client's own thread
    text = msg.get_body(("plain",)).get_content()
    assert "ya reparado" in text and "Nueva incidencia para ustedes" not in text  # no quotes
    assert "operador.test" not in text and "[…]" in text  # no internal address
    assert reference in msg["Subject"]


@pytest.mark.parametrize(("days", "opens_new"), [(3, False), (20, True)])
def test_a_reply_to_a_long_resolved_incident_opens_a_linked_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], days: int, opens_new: bool
) -> None:
    from datetime import timedelta

    from maildesk.db.tables import Message

    path, config, _ = configured(tmp_path)
    first = build_parts(config, FrozenClock(NOW)).pipeline
    body = "El router se reinicia solo cada pocos minutos."
    old = handle(first, client_raw("Router", body, "l@clientes.test", 1), 1)
    assert main(["--config", str(path), "incidents", "set", old, "--status", "resolved"]) == 0
    database = Database(config.database.url)
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        incident.resolved_at = NOW
    later = NOW + timedelta(days=days)
    reply = EmailMessage(policy=email.policy.SMTP)
    reply["From"] = "Ferretería Ruiz <l@clientes.test>"
    reply["To"] = SUPPORT
    reply["Subject"] = f"Re: [{old}] Recibido: Router"
    reply["Message-ID"] = "<client-late@clientes.test>"
    reply["In-Reply-To"] = "<client-1@clientes.test>"
    reply.set_content("Vuelve a pasar lo del router: se reinicia cada pocos minutos.")
    raw = reply.as_bytes()
    pipeline = build_parts(config, FrozenClock(later)).pipeline
    handled = pipeline.handle(InboundMail("INBOX", 1, 2, len(raw), raw))
    with database.session() as session:
        incidents = session.scalars(select(Incident).order_by(Incident.id)).all()
        if opens_new:
            assert handled.outcome is Outcome.NEW_INCIDENT and handled.reference != old
            assert incidents[1].previous is not None and incidents[1].previous.reference == old
            assert incidents[0].status == "resolved"
        else:
            assert handled.outcome is Outcome.FOLLOWUP and handled.reference == old
            assert len(incidents) == 1 and incidents[0].status == "open"
        dispositions = [m.disposition for m in session.scalars(select(Message))]
    database.dispose()
    assert dispositions == ["new_incident", "new_incident" if opens_new else "followup"]
    if not opens_new:  # reopened: its team is told, on its thread
        last = outbox(config, "handoff")[-1]
        note = email.message_from_bytes(last.raw, policy=email.policy.default)
        assert (
            "reabierta: el cliente ha vuelto a escribir" in note.get_body(("plain",)).get_content()
        )
    if opens_new:
        [ack] = [r for r in outbox(config, "ack") if r.recipients == "l@clientes.test"][1:]
        text = email.message_from_bytes(ack.raw, policy=email.policy.default)
        assert (
            f"Continúa la incidencia {old}, ya resuelta" in text.get_body(("plain",)).get_content()
        )
        assert main(["--config", str(path), "incidents", "show", str(handled.reference)]) == 0
        assert f"follows_on_from     {old}" in capsys.readouterr().out


def test_report_levels_gives_each_teams_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, pipeline = configured(tmp_path)
    handle(pipeline, client_raw("Sin fibra", "La fibra no va desde ayer.", "m@clientes.test", 1), 1)
    at = "2026-12-01T13:00:00+01:00"
    assert main(["--config", str(path), "report", "levels", "--json", "--at", at]) == 0
    teams = json.loads(capsys.readouterr().out)["teams"]
    assert teams["technical_service"]["handed"] == 1
    assert teams["technical_service"]["waiting"] == 1
    assert teams["technical_service"]["target_minutes"] == 240.0
    assert main(["--config", str(path), "report", "levels", "--at", at]) == 0
    assert "Hand-offs to the teams" in capsys.readouterr().out
