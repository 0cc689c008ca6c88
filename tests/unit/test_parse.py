"""parse_mail: MIME bytes → ParsedMail, and the quote/signature trimmer behind clean_text."""

from __future__ import annotations

import base64
import hashlib
import quopri
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maildesk.inbound.parse import (
    FORWARD_MARKER,
    Attachment,
    ParsedMail,
    UnparseableMail,
    parse_mail,
)
from maildesk.inbound.quotes import clean_reply, is_forward_subject

CET = timezone(timedelta(hours=1))


def mail(headers: str, body: bytes | str = b"", *, charset: str = "utf-8") -> bytes:
    """Raw mail bytes: header lines (LF in the literal, CRLF on the wire), blank line, body."""
    head = headers.strip("\n").replace("\n", "\r\n").encode(charset)
    data = body.encode(charset) if isinstance(body, str) else body
    return head + b"\r\n\r\n" + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


# --- plain mails, headers, charsets -------------------------------------------------------

GMAIL_PLAIN = mail(
    """
Return-Path: <Marta.Puig@BotigaPuig.cat>
Received: from mail.botigapuig.cat (mail.botigapuig.cat [192.0.2.10])
\tby mx.telecom.es (Postfix) with ESMTPS id 4Abc
\tfor <soporte@telecom.es>; Mon, 30 Nov 2026 10:00:02 +0100 (CET)
From: Marta Puig <Marta.Puig@BotigaPuig.cat>
To: Soporte Telecom <soporte@telecom.es>, "Pérez, Juan" <Juan@Telecom.es>
Cc: jordi@botigapuig.cat
Subject: Sin conexión   en la tienda
\tde Gràcia
Date: Mon, 30 Nov 2026 09:59:50 +0100
Message-ID: <CAF1234abcd@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit
""",
    "Hola,\n\nDesde ayer no tenemos conexión y el datáfono no funciona.\n\nUn saludo,\nMarta\n",
)


def test_plain_utf8_mail_headers_and_body() -> None:
    parsed = parse_mail(GMAIL_PLAIN)

    assert isinstance(parsed, ParsedMail)
    assert parsed.message_id == "CAF1234abcd@mail.gmail.com"
    assert parsed.subject == "Sin conexión en la tienda de Gràcia"
    assert parsed.from_address == "marta.puig@botigapuig.cat"
    assert parsed.from_name == "Marta Puig"
    assert parsed.to == ("soporte@telecom.es", "juan@telecom.es")
    assert parsed.cc == ("jordi@botigapuig.cat",)
    assert parsed.reply_to is None
    assert parsed.date == datetime(2026, 11, 30, 9, 59, 50, tzinfo=CET)
    assert parsed.return_path == "marta.puig@botigapuig.cat"
    assert parsed.content_type == "text/plain"
    assert parsed.body_text == (
        "Hola,\n\nDesde ayer no tenemos conexión y el datáfono no funciona.\n\nUn saludo,\nMarta"
    )
    assert parsed.body_html is None
    assert parsed.clean_text == "Hola,\n\nDesde ayer no tenemos conexión y el datáfono no funciona."
    assert parsed.attachments == ()
    assert parsed.defects == ()
    assert parsed.raw_size == len(GMAIL_PLAIN)
    assert parsed.sha256 == hashlib.sha256(GMAIL_PLAIN).hexdigest()


def test_headers_are_kept_in_order_decoded_and_unfolded() -> None:
    parsed = parse_mail(GMAIL_PLAIN)

    names = [name for name, _ in parsed.headers]
    assert names[:4] == ["Return-Path", "Received", "From", "To"]
    assert parsed.header("message-id") == "<CAF1234abcd@mail.gmail.com>"
    assert parsed.header("X-Missing") is None
    received = parsed.header_all("received")
    assert len(received) == 1 and "\n" not in received[0] and "by mx.telecom.es" in received[0]


def test_iso_8859_1_quoted_printable_body() -> None:
    body = quopri.encodestring(
        "La línea de la oficina está caída desde el lunes.\n".encode("latin-1")
    )
    raw = mail(
        """
From: oficina@gestoria.es
Subject: Averia
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable
""",
        body,
    )

    parsed = parse_mail(raw)

    assert parsed.body_text == "La línea de la oficina está caída desde el lunes."
    assert parsed.defects == ()


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1"])
def test_windows_1252_bytes_decode_euro_and_curly_quotes(charset: str) -> None:
    # Outlook labels cp1252 text as iso-8859-1; € (0x80) and ’ (0x92) must survive either way.
    raw = mail(
        f"""
From: admin@bar-pepe.es
Subject: Cobro
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: 8bit
""",
        "Nos han cobrado 45 € de más en la cuota del “datáfono”.\n".encode("cp1252"),
    )

    assert parse_mail(raw).body_text == "Nos han cobrado 45 € de más en la cuota del “datáfono”."


def test_base64_body() -> None:
    text = "El router fa pampallugues i la fibra no va.\nGràcies."
    raw = mail(
        """
From: botiga@exemple.cat
Subject: Fibra
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64
""",
        b64(text.encode()),
    )

    assert parse_mail(raw).body_text == text


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("=?UTF-8?B?RmFjdHVyYSBkdXBsaWNhZGEgZGUgbm92aWVtYnJl?=", "Factura duplicada de noviembre"),
        ("=?iso-8859-1?Q?L=EDnea_ca=EDda_en_Reus?=", "Línea caída en Reus"),
        (
            "=?utf-8?q?La_connexi=C3=B3_no_va?= =?utf-8?q?_des_d=27ahir?=",
            "La connexió no va des d'ahir",
        ),
        ("RE: =?UTF-8?B?w6k=?= y =?ISO-8859-1?Q?=E9?= fin", "RE: é y é fin"),
        # one UTF-8 character split across two encoded words
        ("=?utf-8?B?Q29icm8g4oK=?= =?utf-8?B?rCBkb2JsZQ==?=", "Cobro € doble"),
    ],
)
def test_rfc2047_subjects(encoded: str, expected: str) -> None:
    raw = mail(f"From: a@b.es\nSubject: {encoded}", "x")

    assert parse_mail(raw).subject == expected


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("=?UTF-8?Q?Jos=C3=A9_Mar=C3=ADa_N=C3=BA=C3=B1ez?= <JM@Nunez.es>", "José María Núñez"),
        ("=?iso-8859-1?B?TvpyaWEgVmlsYQ==?= <jm@nunez.es>", "Núria Vila"),
        ('"Núñez, José" <jm@nunez.es>', "Núñez, José"),
    ],
)
def test_display_names_are_decoded(header: str, name: str) -> None:
    parsed = parse_mail(mail(f"From: {header}\nSubject: x", "x"))

    assert parsed.from_name == name
    assert parsed.from_address == "jm@nunez.es"


def test_unknown_charset_is_decoded_with_fallback_and_recorded() -> None:
    raw = mail(
        """
From: a@b.es
Subject: =?x-klingon?Q?Conexi=F3n?=
Content-Type: text/plain; charset="x-unknown"
""",
        b"Conexi\xf3n ca\xedda en la tienda \xff\xfe",
    )

    parsed = parse_mail(raw)

    assert parsed.body_text.startswith("Conexión caída en la tienda")
    assert parsed.subject == "Conexión"
    assert "charset-unknown:x-unknown" in parsed.defects
    assert "header:subject:charset-unknown:x-klingon" in parsed.defects


def test_undecodable_utf8_bytes_become_replacement_characters() -> None:
    # Mostly valid UTF-8 with one broken byte: keep UTF-8 and replace the bad byte.
    raw = mail(
        "From: a@b.es\nSubject: x\nContent-Type: text/plain; charset=utf-8",
        "Línea caída, número ".encode() + b"\xff" + " atención".encode(),
    )

    parsed = parse_mail(raw)

    assert parsed.body_text == "Línea caída, número \ufffd atención"
    assert "charset-mislabelled:utf-8" in parsed.defects


@pytest.mark.parametrize(
    ("declared", "payload", "defect"),
    [
        ('charset="us-ascii"', "La línea no va".encode(), "charset-mislabelled:us-ascii"),
        ("charset=utf-8", "La línea no va".encode("latin-1"), "charset-mislabelled:utf-8"),
        ("format=flowed", "La línea no va".encode("latin-1"), "charset-missing"),
    ],
)
def test_mislabelled_8bit_text_is_repaired(declared: str, payload: bytes, defect: str) -> None:
    raw = mail(f"From: a@b.es\nSubject: x\nContent-Type: text/plain; {declared}", payload)

    parsed = parse_mail(raw)

    assert parsed.body_text == "La línea no va"
    assert defect in parsed.defects


def test_raw_8bit_headers_are_decoded() -> None:
    raw = (
        b"From: Jos\xc3\xa9 P\xc3\xa9rez <jose@x.es>\r\nSubject: Aver\xeda en la l\xednea\r\n\r\nx"
    )

    parsed = parse_mail(raw)

    assert parsed.from_name == "José Pérez"
    assert parsed.subject == "Avería en la línea"
    assert "header:subject:8bit-not-utf8" in parsed.defects


def test_mail_without_body_has_empty_texts() -> None:
    parsed = parse_mail(b"From: a@b.es\r\nSubject: (sin asunto)\r\n")

    assert parsed.body_text == ""
    assert parsed.clean_text == ""
    assert parsed.extra["body_source"] == "none"


# --- HTML and multipart ---------------------------------------------------------------------

HTML_BODY = """<html><head><style>p {color: red}</style><script>alert("x")</script></head>
<body><div>Bon dia,</div><div>La factura d&#39;aquest mes est&agrave; duplicada:</div>
<table><tr><td>Concepte</td><td>Import</td></tr><tr><td>Quota fibra</td><td>45,00 €</td></tr>
</table><p>Podeu revisar-ho?<br>Gràcies</p></body></html>"""


def test_html_only_mail_is_converted_to_readable_text() -> None:
    raw = mail(
        "From: a@b.cat\nSubject: Factura\nContent-Type: text/html; charset=utf-8",
        HTML_BODY,
    )

    parsed = parse_mail(raw)

    lines = parsed.body_text.splitlines()
    assert lines[0] == "Bon dia,"
    assert "La factura d'aquest mes està duplicada:" in lines
    assert any(line.split() == ["Quota", "fibra", "45,00", "€"] for line in lines)
    assert "Podeu revisar-ho?" in lines and "Gràcies" in lines
    assert "<" not in parsed.body_text and "alert" not in parsed.body_text
    assert "color" not in parsed.body_text
    assert parsed.body_html is not None and "<table>" in parsed.body_html
    assert parsed.extra["body_source"] == "text/html"


ALTERNATIVE = mail(
    """
From: laura@gestoria.es
Subject: Incidencia
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"
""",
    """--alt
Content-Type: text/plain; charset=utf-8

Texto plano: la centralita no desvía llamadas.
--alt
Content-Type: text/html; charset=utf-8

<p>HTML: la centralita <b>no</b> desvía llamadas.</p>
--alt--
""",
)


def test_multipart_alternative_prefers_text_plain() -> None:
    parsed = parse_mail(ALTERNATIVE)

    assert parsed.content_type == "multipart/alternative"
    assert parsed.body_text == "Texto plano: la centralita no desvía llamadas."
    assert parsed.body_html == "<p>HTML: la centralita <b>no</b> desvía llamadas.</p>"
    assert parsed.extra["body_source"] == "text/plain"


def test_blank_text_plain_falls_back_to_html() -> None:
    raw = mail(
        "From: a@b.es\nSubject: x\nContent-Type: multipart/alternative; boundary=b",
        "--b\nContent-Type: text/plain\n\n \n"
        "--b\nContent-Type: text/html\n\n<p>Sin línea</p>\n--b--\n",
    )

    assert parse_mail(raw).body_text == "Sin línea"


# --- attachments ----------------------------------------------------------------------------

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 120


def test_attachments_are_listed_with_name_type_and_decoded_size() -> None:
    raw = mail(
        """
From: =?utf-8?Q?Administraci=C3=B3?= <admin@botiga.cat>
Subject: Factura incorrecta
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"
""",
        f"""--mix
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Adjunto la factura y una foto del router.</p><img src="cid:foto1">
--rel
Content-Type: image/png; name="router.png"
Content-Disposition: inline; filename="router.png"
Content-ID: <foto1>
Content-Transfer-Encoding: base64

{b64(PNG)}
--rel--
--mix
Content-Type: application/pdf; name="factura.pdf"
Content-Disposition: attachment; filename="factura.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}
--mix
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''Factura%20n%C2%BA%2012%20-%20d%C3%A9bito.pdf
Content-Transfer-Encoding: base64

{b64(PDF)}
--mix
Content-Type: text/plain; name="=?utf-8?Q?registro_l=C3=ADnea.txt?="
Content-Disposition: attachment

Log del router: PPPoE timeout
--mix
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="C:\\Users\\Pep\\Documents\\contracte.docx"

PK
--mix--
""",
    )

    parsed = parse_mail(raw)

    assert parsed.attachments == (
        Attachment("router.png", "image/png", len(PNG)),
        Attachment("factura.pdf", "application/pdf", len(PDF)),
        Attachment("Factura nº 12 - débito.pdf", "application/pdf", len(PDF)),
        Attachment("registro línea.txt", "text/plain", len("Log del router: PPPoE timeout")),
        Attachment("contracte.docx", "application/octet-stream", 2),
    )
    assert parsed.body_text == "Adjunto la factura y una foto del router."
    assert "PPPoE" not in parsed.body_text


def test_rfc2231_filename_with_continuations_and_latin1() -> None:
    raw = mail(
        "From: a@b.es\nSubject: x\nContent-Type: multipart/mixed; boundary=m",
        """--m
Content-Type: text/plain

ver adjunto
--m
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*0*=iso-8859-1''Reclamaci%F3n%20;
 filename*1*=cami%F3n.pdf

%PDF
--m--
""",
    )

    assert parse_mail(raw).attachments[0].filename == "Reclamación camión.pdf"


# --- forwarded messages and bounces ----------------------------------------------------------

FORWARD_AS_ATTACHMENT = mail(
    """
From: Marta <marta@botiga.cat>
To: soporte@telecom.es
Subject: =?utf-8?Q?RV:_Reclamaci=C3=B3n_cliente?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"
""",
    f"""--outer
Content-Type: text/plain; charset=utf-8

Us reenvio la queixa d'un client. Podeu mirar-ho?

Salutacions,
Marta
--outer
Content-Type: message/rfc822

From: Cliente Enfadado <cliente@gmail.com>
To: marta@botiga.cat
Subject: =?utf-8?Q?Cobro_doble_con_dat=C3=A1fono?=
Date: Mon, 30 Nov 2026 08:00:00 +0100
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

El dat=E1fono me cobr=F3 dos veces 30 =80.

Un saludo
--inner
Content-Type: application/pdf
Content-Disposition: attachment; filename="ticket.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}
--inner--

--outer--
""",
)


def test_forwarded_rfc822_is_an_attachment_and_its_text_is_appended() -> None:
    parsed = parse_mail(FORWARD_AS_ATTACHMENT)

    forwarded, ticket = parsed.attachments
    assert forwarded.filename == "Cobro doble con datáfono.eml"
    assert forwarded.content_type == "message/rfc822"
    assert forwarded.size > len(PDF)
    assert ticket == Attachment("ticket.pdf", "application/pdf", len(PDF))
    own, forwarded_text = parsed.body_text.split(FORWARD_MARKER)
    assert own.startswith("Us reenvio la queixa d'un client.")
    assert "From: Cliente Enfadado <cliente@gmail.com>" in forwarded_text
    assert "Subject: Cobro doble con datáfono" in forwarded_text
    assert "El datáfono me cobró dos veces 30 €." in forwarded_text


def test_clean_text_keeps_forwarded_complaint_but_drops_signatures() -> None:
    clean = parse_mail(FORWARD_AS_ATTACHMENT).clean_text

    assert clean.startswith("Us reenvio la queixa d'un client. Podeu mirar-ho?")
    assert FORWARD_MARKER in clean
    assert "El datáfono me cobró dos veces 30 €." in clean
    assert "Salutacions" not in clean and "Un saludo" not in clean


def test_base64_encoded_rfc822_part_is_unwrapped() -> None:
    inner = mail("From: x@y.es\nSubject: Baja de la línea", "Quiero dar de baja la línea.")
    raw = mail(
        "From: a@b.es\nSubject: Fwd: baja\nContent-Type: multipart/mixed; boundary=m",
        f"""--m
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

{b64(inner)}
--m--
""",
    )

    parsed = parse_mail(raw)

    assert parsed.attachments[0].filename == "Baja de la línea.eml"
    assert parsed.body_text.endswith("Quiero dar de baja la línea.")


def test_bounce_returned_message_is_not_read_as_forwarded_text() -> None:
    raw = mail(
        """
From: MAILER-DAEMON@mx.telecom.es
Return-Path: <>
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="r"
""",
        """--r
Content-Type: text/plain

This is the mail system at host mx.telecom.es. Your message could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.telecom.es

Final-Recipient: rfc822; nadie@botiga.cat
Action: failed
Status: 5.1.1
--r
Content-Type: message/rfc822

From: soporte@telecom.es
Subject: Incidencia 1234 recibida

Hemos recibido su incidencia.
--r--
""",
    )

    parsed = parse_mail(raw)

    assert parsed.return_path == ""
    assert parsed.content_type == "multipart/report"
    assert FORWARD_MARKER not in parsed.body_text
    assert "Hemos recibido" not in parsed.body_text
    assert [a.filename for a in parsed.attachments] == ["Incidencia 1234 recibida.eml"]


def test_deeply_nested_multiparts_stop_with_a_defect() -> None:
    depth = 40
    opening = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(depth)
    )
    closing = "".join(f"--b{i}--\n" for i in reversed(range(depth + 1)))
    body = opening + f"--b{depth}\nContent-Type: text/plain\n\nhondo\n" + closing
    raw = mail("From: a@b.es\nSubject: x\nContent-Type: multipart/mixed; boundary=b0", body)

    parsed = parse_mail(raw)

    assert "mime-too-deep" in parsed.defects
    assert parsed.body_text == ""


# --- quoted history, signatures and footers (through parse_mail and directly) ---------------


def test_gmail_spanish_reply_keeps_only_the_new_words() -> None:
    raw = mail(
        "From: pedro@taller.es\nSubject: Re: Incidencia 1234\nContent-Type: text/plain",
        """Hola, el técnico no ha venido todavía y seguimos sin línea.

Saludos,
Pedro

El lun, 30 nov 2026 a las 9:00, Soporte Telecom (<soporte@telecom.es>)
escribió:

> Buenos días Pedro,
> el técnico pasará mañana por la mañana.
""",
    )

    parsed = parse_mail(raw)

    assert parsed.clean_text == "Hola, el técnico no ha venido todavía y seguimos sin línea."
    assert "> Buenos días" in parsed.body_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Bon dia, encara no tenim línia.\n\n"
            "El dl., 30 de nov. 2026 a les 9:00, Suport <suport@telecom.cat> va escriure:\n"
            "> Hola, ja està solucionat?\n",
            "Bon dia, encara no tenim línia.",
            id="gmail-catalan",
        ),
        pytest.param(
            "The card terminal still shows error 05.\n\nBest regards,\nJohn Smith\n\n"
            "On Mon, 30 Nov 2026 at 09:00, Support <support@telecom.es> wrote:\n"
            "> Is it working now?\n",
            "The card terminal still shows error 05.",
            id="gmail-english",
        ),
        pytest.param(
            "Buenos días:\n\nSeguimos sin servicio en la oficina de Reus.\n\nAtentamente,\n\n"
            "Laura Gómez\nAdministración | Gestoría Gómez\nTel. 977 000 000\n\n"
            "De: Soporte Telecom <soporte@telecom.es>\n"
            "Enviado el: lunes, 30 de noviembre de 2026 9:00\n"
            "Para: Laura Gómez <laura@gestoria.es>\nAsunto: RE: Incidencia 1234\n\n"
            "Buenos días, ¿puede confirmar si ya funciona?\n",
            "Buenos días:\n\nSeguimos sin servicio en la oficina de Reus.",
            id="outlook-spanish-header-block",
        ),
        pytest.param(
            "The line is still down.\n\nRegards,\nJohn\n\n-----Original Message-----\n"
            "From: Support <support@telecom.es>\nSent: Monday, November 30, 2026 9:00 AM\n"
            "To: John\nSubject: Ticket 1234\n\nIs it working now?\n",
            "The line is still down.",
            id="outlook-original-message",
        ),
        pytest.param(
            "Ja us ho vaig dir: la centraleta no desvia.\n\n_______________________________\n"
            "De: Suport <suport@telecom.cat>\nEnviat el: dilluns, 30 de novembre de 2026 9:00\n"
            "Per a: Jordi\nTema: Incidència 77\n\nBon dia\n",
            "Ja us ho vaig dir: la centraleta no desvia.",
            id="outlook-catalan-rule",
        ),
        pytest.param(
            "No funciona el datàfon, torna a donar error 05.\n\nEnviat des del meu iPhone\n\n"
            "> El 30 nov 2026, a les 9:00, Suport <suport@telecom.cat> va escriure:\n> \n"
            "> Bon dia\n",
            "No funciona el datàfon, torna a donar error 05.",
            id="apple-mail-catalan",
        ),
        pytest.param(
            "Sigue igual.\n\nEnviado desde mi iPhone\n\n"
            "El 30 nov 2026, a las 9:00, Soporte <soporte@telecom.es> escribió:\n\n"
            "> ¿Ha reiniciado el router?\n",
            "Sigue igual.",
            id="apple-mail-spanish",
        ),
        pytest.param(
            "El 30/11/26 a las 9:00, Soporte escribió:\n> ¿Funciona ya?\n\n"
            "No, sigue sin funcionar.\n",
            "No, sigue sin funcionar.",
            id="bottom-posting",
        ),
        pytest.param(
            "La centralita no desvía llamadas.\n-- \nJordi Puig\nCEO · Puig Assessors\n",
            "La centralita no desvía llamadas.",
            id="dash-dash-signature",
        ),
        pytest.param(
            "Hola,\n\nNecesito el duplicado de la factura de octubre.\n\nUn saludo,\n"
            "Ana Martín\nDpto. Contabilidad\n\n"
            "AVISO LEGAL: Este mensaje y sus archivos adjuntos van dirigidos exclusivamente a su\n"
            "destinatario, pudiendo contener información confidencial.\n\n"
            "En cumplimiento de la Ley Orgánica 3/2018 y del Reglamento (UE) 2016/679, le\n"
            "informamos de que sus datos serán tratados por EMPRESA S.L.\n",
            "Hola,\n\nNecesito el duplicado de la factura de octubre.",
            id="spanish-lopd-footer",
        ),
        pytest.param(
            "Bon dia,\nla fibra no va des d'ahir.\nGràcies\n\n"
            "Aquest missatge i els seus annexos són confidencials i s'adrecen exclusivament "
            "al destinatari.\n",
            "Bon dia,\nla fibra no va des d'ahir.",
            id="catalan-footer",
        ),
        pytest.param(
            "Please cancel the second mobile line.\n\nKind regards,\nAnne\n\n"
            "This email and any attachments are confidential and intended solely for the "
            "addressee.\n",
            "Please cancel the second mobile line.",
            id="english-footer",
        ),
    ],
)
def test_clean_reply_per_client_style(text: str, expected: str) -> None:
    assert clean_reply(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Gracias por la rápida respuesta, pero sigue fallando.\nMarta",  # thanks is content
        "No va el router.\n\nUn saludo\nMarta\n\nPD: tampoco funciona el fijo.",  # postscript
        "Quiero ejercer mi derecho de supresión según el RGPD.\n\nY saber qué datos tenéis.",
    ],
)
def test_clean_reply_keeps_client_words_that_look_like_boilerplate(text: str) -> None:
    assert clean_reply(text) == text


def test_clean_reply_never_returns_empty_for_a_mail_with_content() -> None:
    only_history = "> El técnico pasará mañana.\n> Un saludo"
    thanks = "Gracias!\n\nEl lun, 30 nov 2026 a las 9:00, Soporte <s@t.es> escribió:\n> Hecho."

    assert clean_reply(only_history) == only_history
    assert clean_reply(thanks) == "Gracias!"
    assert clean_reply("  \n\n ") == ""


def test_gmail_inline_forward_keeps_forwarded_content_and_drops_its_history() -> None:
    text = """Mirad lo que nos ha llegado del cliente.

---------- Forwarded message ---------
De: Cliente <cliente@gmail.com>
Date: lun, 30 nov 2026 a las 8:00
Subject: Cobro duplicado
To: <tienda@botiga.es>

Me habéis cobrado dos veces. Quiero la devolución.

Saludos

El dom, 29 nov 2026 a las 20:00, Tienda <tienda@botiga.es> escribió:
> Lo revisamos mañana.
"""

    clean = clean_reply(text)

    assert clean.startswith("Mirad lo que nos ha llegado del cliente.")
    assert "---------- Forwarded message ---------" in clean
    assert "Subject: Cobro duplicado" in clean
    assert clean.endswith("Me habéis cobrado dos veces. Quiero la devolución.")


def test_outlook_forward_is_kept_only_when_the_subject_says_forward() -> None:
    text = """Os paso lo que nos ha enviado el cliente.

________________________________
De: Cliente <cliente@gmail.com>
Enviado: lunes, 30 de noviembre de 2026 8:00
Para: tienda@botiga.es
Asunto: Cobro duplicado

Me habéis cobrado dos veces con el datáfono.
"""

    assert is_forward_subject("RV: Cobro duplicado")
    assert is_forward_subject("Fwd: Cobro duplicado")
    assert not is_forward_subject("RE: RV: Cobro duplicado")
    assert "dos veces con el datáfono" in clean_reply(text, forwarded=True)
    assert clean_reply(text) == "Os paso lo que nos ha enviado el cliente."


# --- broken headers, ids, dates, return path ----------------------------------------------


def test_broken_headers_do_not_crash_and_are_recorded() -> None:
    raw = mail(
        """
From: <<<@@@>>>, "unterminated
Subject: =?utf-8?B?###?= hola
Date: ayer por la tarde
Message-ID:
To: ,,,;;; undisclosed-recipients:;
Content-Type: text/plain; charset=utf-8
""",
        "Sigo sin línea.",
    )

    parsed = parse_mail(raw)

    assert parsed.from_address == ""
    assert parsed.subject == "=?utf-8?B?###?= hola"
    assert parsed.date is None
    assert parsed.message_id is None
    assert parsed.to == ()
    assert parsed.body_text == "Sigo sin línea."
    assert "header:subject:encoded-word-invalid" in parsed.defects
    assert "header:date:unparseable" in parsed.defects
    assert "header:from:no-address" in parsed.defects


def test_from_falls_back_when_the_strict_address_parser_gives_nothing() -> None:
    parsed = parse_mail(mail("From: Juan juan@bar-pepe.es\nSubject: x", "x"))

    assert parsed.from_address == "juan@bar-pepe.es"


def test_references_in_reply_to_and_message_id_parsing() -> None:
    ids = [f"id{i}.{i * 7}@mail.example.es" for i in range(40)]
    folded = "\n ".join(f"<{i}>" for i in ids)
    raw = mail(
        f"""
From: a@b.es
Subject: x
Message-ID:   <  CA+x=y/z@mail.gmail.com >
In-Reply-To: <prev@telecom.es> (Soporte's message of "Mon, 30 Nov 2026")
References: junk <first@botiga.cat> some text <prev@telecom.es>
 {folded} <first@botiga.cat>
""",
        "x",
    )

    parsed = parse_mail(raw)

    assert parsed.message_id == "CA+x=y/z@mail.gmail.com"
    assert parsed.in_reply_to == ("prev@telecom.es",)
    assert parsed.references == ("first@botiga.cat", "prev@telecom.es", *ids)


def test_message_id_without_brackets_and_absent() -> None:
    assert parse_mail(mail("From: a@b.es\nMessage-ID: abc@x.es", "x")).message_id == "abc@x.es"
    assert parse_mail(mail("From: a@b.es\nSubject: x", "x")).message_id is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("Return-Path: <>\n", ""),
        ("Return-Path: < >\n", ""),
        ("Return-Path: <Bounces+X@Mailer.Example.com>\n", "bounces+x@mailer.example.com"),
    ],
)
def test_return_path(header: str, expected: str | None) -> None:
    raw = mail(f"{header}From: a@b.es\nSubject: x", "x")

    assert parse_mail(raw).return_path == expected


def test_date_without_zone_is_aware_utc() -> None:
    raw = mail("From: a@b.es\nDate: Mon, 30 Nov 2026 09:00:00 -0000", "x")

    assert parse_mail(raw).date == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_reply_to_is_lower_cased_address() -> None:
    raw = mail("From: a@b.es\nReply-To: Facturación <Facturacion@Botiga.CAT>", "x")

    assert parse_mail(raw).reply_to == "facturacion@botiga.cat"


def test_nul_bytes_never_reach_the_texts() -> None:
    raw = mail("From: a@b.es\nSubject: x", b"linea\x00 caida")

    assert parse_mail(raw).body_text == "linea caida"


# --- not a mail at all ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b" \r\n\t\r\n", "empty"),
        (b"\x00" * 2048, "binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "no-headers"),
        (b"Hola, esto no es un correo.\nSolo texto.\n", "no-headers"),
        (b"\r\n \r\nHola, esto no es un correo.\n", "no-headers"),
    ],
)
def test_not_a_mail_raises_unparseable_with_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnparseableMail) as caught:
        parse_mail(raw)

    assert caught.value.reason == reason


def test_mbox_from_line_is_accepted() -> None:
    raw = b"From marta@botiga.cat Mon Nov 30 09:00:00 2026\nSubject: Hola\n\nLinea caida\n"

    assert parse_mail(raw).subject == "Hola"


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_parse_or_raise_unparseable(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw)
    except UnparseableMail as exc:
        assert exc.reason in {"empty", "no-headers", "binary", "parser-error"}
    else:
        assert parsed.raw_size == len(raw)


_HEADER_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\r\n"), max_size=60
)
_CONTENT_TYPES = st.sampled_from(
    [
        "text/plain; charset=utf-8",
        "text/plain; charset=x-bogus",
        "text/html; charset=iso-8859-1",
        "multipart/mixed; boundary=zz",
        "multipart/alternative",
        "message/rfc822",
        "multipart/report; boundary=zz",
        "application/pdf; name==?utf-8?B?###?=",
    ]
)
_BODY_CHUNKS = st.lists(
    st.one_of(
        st.binary(max_size=80),
        st.sampled_from(
            [
                b"--zz\r\n",
                b"--zz--\r\n",
                b"\r\n\r\n",
                b"Content-Type: message/rfc822\r\n",
                b"Content-Transfer-Encoding: base64\r\n",
                b"Content-Transfer-Encoding: quoted-printable\r\n",
                b"Content-Disposition: attachment; filename*=x''%FF%00\r\n",
                b"=?utf-8?B?w6k=?= =C3=\r\n",
                b"> El lun, 30 nov 2026, X escribi\xc3\xb3:\r\n",
            ]
        ),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(["From", "To", "Cc", "Subject", "Date", "References", "Return-Path"]),
            _HEADER_TEXT,
            st.sampled_from(["utf-8", "latin-1"]),
        ),
        max_size=6,
    ),
    content_type=_CONTENT_TYPES,
    body=_BODY_CHUNKS,
)
def test_mail_shaped_bytes_always_parse(
    headers: list[tuple[str, str, str]], content_type: str, body: list[bytes]
) -> None:
    head = b"".join(
        f"{name}: {value}\r\n".encode(charset, "replace") for name, value, charset in headers
    )
    raw = head + f"Content-Type: {content_type}\r\n\r\n".encode() + b"".join(body)

    parsed = parse_mail(raw)

    assert parsed.raw_size == len(raw)
    assert "\x00" not in parsed.body_text
