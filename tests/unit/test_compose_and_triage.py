"""Reply headers, first triage rules, backoff and log context: the pure parts."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maildesk.config import load_config
from maildesk.outbound.compose import compose_reply
from maildesk.outbound.outbox import backoff_delay
from maildesk.outbound.render import RenderedMail
from maildesk.runtime.logs import setup_logging
from maildesk.runtime.wiring import default_triager
from maildesk.schedule import build_calendar
from maildesk.text import normalize
from maildesk.triage.rules import TriageInput

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
CALENDAR = build_calendar(CONFIG.schedule)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # Wednesday 10:30 in Madrid: open
MADRID = ZoneInfo("Europe/Madrid")


def reply_args(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "rendered": RenderedMail("[MD-2026-000007] Recibido: Sin internet", "texto", "<p>html</p>"),
        "sender_name": "Soporte Telecom Ebro",
        "sender_address": "soporte@example-telecom.es",
        "to_address": "bar@clientes.test",
        "to_name": "Pepe Ruiz",
        "reference": "MD-2026-000007",
        "language": "es",
        "in_reply_to": "abc@clientes.test",
        "references": ("root@clientes.test", "abc@clientes.test"),
        "now": NOW,
        "zone": ZoneInfo("Europe/Madrid"),
    }
    args.update(overrides)
    return args


def compose_raw(**overrides: object) -> bytes:
    return compose_reply(**reply_args(**overrides)).raw  # type: ignore[arg-type]


def reply(**overrides: object) -> email.message.EmailMessage:
    args = reply_args(**overrides)
    outgoing = compose_reply(**args)  # type: ignore[arg-type]
    msg = email.message_from_bytes(outgoing.raw, policy=email.policy.default)
    assert msg["Message-ID"] == f"<{outgoing.message_id}>"
    assert outgoing.recipients == (args["to_address"],)
    return msg  # type: ignore[return-value]


def test_reply_is_threaded_and_marked_automatic() -> None:
    msg = reply()
    assert msg["In-Reply-To"] == "<abc@clientes.test>"
    assert msg["References"] == "<root@clientes.test> <abc@clientes.test>"  # no repeats
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Maildesk-Loop"] == "soporte@example-telecom.es"
    assert msg["Content-Language"] == "es"
    assert msg["Date"].endswith("+0100")  # local time of the schedule's zone
    assert msg["Message-ID"].endswith("@example-telecom.es>")
    assert msg.get_body(("plain",)).get_content().strip() == "texto"
    assert msg.get_body(("html",)).get_content().strip() == "<p>html</p>"


def test_accented_long_subject_is_encoded_without_a_leading_space() -> None:
    subject = "[MD-2026-000007] Recibido: URGENTE!! sin internet y el datáfono no cobra"
    msg = reply(rendered=RenderedMail(subject, "t", "<p>h</p>"))
    assert msg["Subject"] == subject


@pytest.mark.parametrize(
    "subject",
    [
        "Rebut: la fibra no va 💡 " + "àèíòú ç l·l " * 12,  # 4-byte characters, many words
        "Received: " + "no dial tone on the main line " * 8,  # long plain ASCII
        "Recibido",
    ],
)
def test_any_subject_round_trips_in_short_lines(subject: str) -> None:
    raw = compose_raw(rendered=RenderedMail(subject, "t", "<p>h</p>"))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == f"{' '.join(subject.split())} [MD-2026-000007]"
    assert not msg.defects
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


@pytest.mark.parametrize(
    "name",
    ['Pérez, "Pepe" \\ Ruiz', "Ana (bar) <x@y>", "Núria Puig i Soler", "Joan", ""],
)
def test_display_names_round_trip(name: str) -> None:
    msg = reply(to_name=name, sender_name="Soporte Telecom Ebro, S.L.")
    assert msg["To"].addresses[0].display_name == name
    assert msg["To"].addresses[0].addr_spec == "bar@clientes.test"
    assert msg["From"].addresses[0].display_name == "Soporte Telecom Ebro, S.L."


def test_bodies_keep_every_character() -> None:
    text = "Hola Núria,\n\nel datàfon ja està configurat · 💳\n" * 40
    msg = reply(rendered=RenderedMail("[MD-2026-000007] x", text, f"<p>{text}</p>"))
    # Text travels with CRLF line breaks (RFC 2045 canonical form); nothing else changes.
    plain = msg.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == text
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == f"<p>{text}</p>"
    assert msg.get_body(("plain",))["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Hola N=C3=BAria," in msg.as_string()  # readable in the raw mail


def test_reference_is_added_when_a_template_forgets_it() -> None:
    msg = reply(rendered=RenderedMail("Recibido", "t", "<p>h</p>"))
    assert msg["Subject"] == "Recibido [MD-2026-000007]"


def test_reply_without_client_message_id_has_no_threading_headers() -> None:
    msg = reply(in_reply_to=None, references=())
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_message_ids_are_unique() -> None:
    assert reply()["Message-ID"] != reply()["Message-ID"]


# The keyword rules (the fallback of the trained model, tested in test_classifier.py).
KEYWORDS = CONFIG.model_copy(
    update={"triage": CONFIG.triage.model_copy(update={"classifier": "keywords"})}
)


def classify(subject: str, body: str, language: str = "es", sender: str = "a@b.c"):  # type: ignore[no-untyped-def]
    triager = default_triager(KEYWORDS, CALENDAR)
    return triager.triage(TriageInput(subject, body, language, sender), NOW)


@pytest.mark.parametrize(
    ("subject", "body", "category", "kind"),
    [
        ("Factura duplicada", "Nos han cobrado dos veces la factura.", "billing", "invoice_error"),
        ("Sin internet", "No tenemos internet desde ayer.", "technical", "outage"),
        ("Portabilitat", "La portabilitat del número està aturada.", "technical", "portability"),
        ("Direct debit", "Our direct debit was returned by the bank.", "billing", "payment"),
        ("CENTRALITA", "la centralita no desvia las llamadas", "technical", "pbx_setup"),
    ],
)
def test_keyword_classifier_finds_category_and_kind(
    subject: str, body: str, category: str, kind: str
) -> None:
    result = classify(subject, body)
    assert (result.classification.category, result.classification.kind) == (category, kind)
    assert result.classification.reason.startswith("keywords: ")
    assert not result.unsure


def test_no_evidence_is_other_and_unsure() -> None:
    result = classify("Hola", "Quería saber si abren el sábado.")
    assert result.classification.category == "other"
    assert result.unsure
    assert result.classification.reason == "keywords: none matched"


def test_urgency_raises_priority_with_reason() -> None:
    calm = classify("Centralita", "La centralita no está configurada.")
    urgent = classify("Centralita", "URGENTE: la centralita no está configurada.")
    assert calm.priority.level == "P2"
    assert urgent.priority.level == "P1"
    assert urgent.priority.reason == "kind pbx_setup P2; urgent cue 'urgente'"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("El datáfono no funciona y no podemos cobrar a los clientes.", "es"),
        ("El datàfon no va i no podem cobrar.", "ca"),
        ("The card machine is dead and we can't take payments.", "en"),
    ],
)
def test_card_payments_failing_is_urgent_in_every_language(text: str, language: str) -> None:
    assert classify("Datáfono", text, language).priority.level == "P1"


def test_information_request_is_lowered_and_vip_is_raised() -> None:
    info = classify("Tarifa", "Quería saber qué tarifa de fibra me conviene.")
    assert info.priority.level == "P4"  # tariff_change is P4 already: stays at the floor
    info = classify("Centralita", "Quería saber si la centralita admite más extensiones.")
    assert info.priority.level == "P3"
    assert "information request 'queria saber'" in info.priority.reason
    vip_config = CONFIG.model_copy(
        update={"priority": CONFIG.priority.model_copy(update={"vip": ("@hotelmarina.es",)})}
    )
    triager = default_triager(vip_config, CALENDAR)
    vip = triager.triage(
        TriageInput(
            "Centralita", "La centralita no está configurada.", "es", "gerente@hotelmarina.es"
        ),
        NOW,
    )
    assert vip.priority.level == "P1" and vip.priority.reason.endswith("VIP client")


def test_deadlines_count_business_time_from_arrival() -> None:
    # card_terminal (P2): first response 1h, resolution 1d = 9 business hours.
    result = classify("Datáfono", "El datáfono nuevo no está configurado.")
    assert result.priority.level == "P2"
    assert result.deadline.first_response_due.astimezone(MADRID) == datetime(
        2026, 11, 25, 11, 30, tzinfo=MADRID
    )
    # 10:30→14:00 (3.5 h) + 16:00→20:00 (4 h) + Thursday 9:00→10:30 (1.5 h)
    assert result.deadline.resolution_due.astimezone(MADRID) == datetime(
        2026, 11, 26, 10, 30, tzinfo=MADRID
    )


def test_priority_scales_the_kind_targets() -> None:
    outage = CONFIG.kind("outage")
    assert CONFIG.targets(outage, "P1") == (30, 8 * 60)  # its own level: as documented
    card = CONFIG.kind("card_terminal")
    first, resolution = CONFIG.targets(card, "P1")  # one level up from P2
    assert (first, resolution) == pytest.approx((60 * 0.5 / 0.75, 9 * 60 * 0.5 / 0.75))


def test_normalize_ignores_case_accents_and_middle_dot() -> None:
    assert normalize("  Instal·lació  DATÁFONO\n") == "installacio datafono"


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [backoff_delay(n, CONFIG.smtp).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == CONFIG.smtp.backoff_max_seconds
    assert delays == sorted(delays)


def test_log_lines_carry_their_context_as_text_and_json() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    log = logging.getLogger("maildesk.test")
    log.info("mail handled", extra={"message_id": "a@b", "reference": "MD-2026-000001"})
    assert "mail handled message_id=a@b reference=MD-2026-000001" in stream.getvalue()
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    log.info("reply sent", extra={"message_id": "c@d", "outbox_id": 3})
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "reply sent" and entry["message_id"] == "c@d"
    assert entry["outbox_id"] == 3
    setup_logging("INFO", "text")
