"""read_bounce: delivery status notifications → who failed, why, and for which of our mails.

The sample notices are written for these tests after the shapes real servers produce
(addresses, hosts and ids are made up).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maildesk.inbound.bounces import Bounce, FailedRecipient, read_bounce


def raw(headers: str, body: str) -> bytes:
    """Mail bytes from an LF-written literal (CRLF on the wire)."""
    head = headers.strip("\n").replace("\n", "\r\n")
    return (head + "\r\n\r\n" + body.lstrip("\n").replace("\n", "\r\n")).encode("utf-8")


OUR_REPLY = """From: Soporte <support@maildesk.test>
To: ana@clientes.test
Subject: [INC-2024-0042] Hemos recibido su incidencia
Message-ID: <ack-42.1730000000@maildesk.test>
X-Maildesk-Loop: support@maildesk.test

Hemos recibido su incidencia.
"""

# --- RFC 3464 reports ------------------------------------------------------------------------

POSTFIX_DSN = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@mx.clientes.test (Mail Delivery System)
To: support@maildesk.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R1"
""",
    f"""
--R1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.clientes.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<ana@clientes.test>: host mx2.clientes.test[192.0.2.7] said: 550 5.1.1
    <ana@clientes.test>: Recipient address rejected: User unknown

--R1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.clientes.test
X-Postfix-Queue-ID: 4XyZ1k2abc
Arrival-Date: Mon,  4 Nov 2024 10:00:00 +0100 (CET)

Final-Recipient: rfc822; ana@clientes.test
Original-Recipient: rfc822;ana@clientes.test
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx2.clientes.test
Diagnostic-Code: smtp; 550 5.1.1 <ana@clientes.test>: Recipient address
    rejected: User unknown

--R1
Content-Description: Undelivered Message
Content-Type: message/rfc822

{OUR_REPLY}
--R1--
""",
)

EXCHANGE_DSN_HEADERS_ONLY = raw(
    """
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@clientes.test>
To: <support@maildesk.test>
Subject: Undeliverable: [INC-2024-0042] Hemos recibido su incidencia
X-MS-Exchange-Message-Is-Ndr:
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_NDR_"
MIME-Version: 1.0
""",
    """
--_000_NDR_
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups:

jordi@botiga.cat (jordi@botiga.cat)
The email address you entered couldn't be found.

--_000_NDR_
Content-Type: message/delivery-status

Reporting-MTA: dns;EX01.botiga.cat
Received-From-MTA: dns;mx.maildesk.test
Arrival-Date: Mon, 4 Nov 2024 09:00:00 +0000

Original-Recipient: rfc822;jordi@botiga.cat
Final-Recipient: rfc822;jordi.old@botiga.cat
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found

--_000_NDR_
Content-Type: text/rfc822-headers

From: Soporte <support@maildesk.test>
To: jordi@botiga.cat
Subject: =?utf-8?q?[INC-2024-0043]_Incidencia_recibida_=E2=80=94_l=C3=ADnea?=
Message-ID: <ack-43.1730000001@maildesk.test>

--_000_NDR_--
""",
)

DELAYED_DSN = raw(
    """
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.maildesk.test>
To: support@maildesk.test
Subject: Delayed Mail (still being retried)
Content-Type: multipart/report; report-type=delivery-status; boundary="D"
""",
    """
--D
Content-Type: text/plain

This is the mail system at host mx.maildesk.test.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

--D
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.maildesk.test

Final-Recipient: rfc822; pep@ferreteria.test
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.ferreteria.test[198.51.100.4]:25:
    Connection timed out
Will-Retry-Until: Fri, 8 Nov 2024 10:00:00 +0100 (CET)

--D
Content-Type: text/rfc822-headers

Message-ID: <ack-44@maildesk.test>
Subject: Incidencia recibida

--D--
""",
)

TWO_RECIPIENTS_DSN = raw(
    """
From: postmaster@mx.maildesk.test
To: support@maildesk.test
Subject: Delivery Status Notification (Failure)
Content-Type: multipart/report; report-type="delivery-status"; boundary="T"
""",
    """
--T
Content-Type: text/plain

Two recipients could not be reached.
--T
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.maildesk.test

Final-Recipient: rfc822; <Luis@Empresa.test>
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

Final-Recipient: rfc822; maria@empresa.test
Action: failed
Status: 5.2.1
Diagnostic-Code: smtp; 550 5.2.1 Mailbox disabled

Final-Recipient: rfc822; jefe@empresa.test
Action: relayed
Status: 2.0.0
--T--
""",
)

BASE64_STATUS_DSN = raw(
    """
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.test>
To: support@maildesk.test
Subject: Delivery Status Notification (Failure)
Content-Type: multipart/report; report-type=delivery-status; boundary="G"
""",
    """
--G
Content-Type: text/plain; charset="UTF-8"

** Address not found **

Your message wasn't delivered to nadie@gmail.test because the address couldn't be found.

--G
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

"""
    + base64.encodebytes(
        b"Reporting-MTA: dns; googlemail.test\r\n\r\n"
        b"Final-Recipient: rfc822; nadie@gmail.test\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550-5.1.1 The email account that\r\n"
        b" you tried to reach does not exist.\r\n"
    ).decode("ascii")
    + """
--G
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

"""
    + base64.encodebytes(OUR_REPLY.replace("\n", "\r\n").encode()).decode("ascii")
    + """
--G--
""",
)

GLOBAL_DSN = raw(
    """
From: MAILER-DAEMON@mx.test
To: support@maildesk.test
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=global-delivery-status; boundary="U"
""",
    """
--U
Content-Type: text/plain

Undeliverable.
--U
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.test

Final-Recipient: utf-8; josé@correo.test
Action: failed
Status: 5.1.1

--U--
""",
)

# --- plain-text notices ----------------------------------------------------------------------

POSTFIX_PLAIN = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@mail.clientes.test (Mail Delivery System)
To: support@maildesk.test
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/mixed; boundary="P"
""",
    f"""
--P
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.clientes.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to <postmaster>

                   The mail system

<marta@clientes.test>: host mx.clientes.test[192.0.2.9] said: 552 5.2.2
    <marta@clientes.test>: Mailbox full (in reply to RCPT TO command)

--P
Content-Type: message/rfc822

{OUR_REPLY}
--P--
""",
)

EXIM_PLAIN = raw(
    """
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@hosting.test>
To: support@maildesk.test
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: pau@botiga.test
Auto-Submitted: auto-replied
""",
    """
This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  pau@botiga.test
    host mx450-1.botiga.test [203.0.113.45]
    SMTP error from remote mail server after RCPT TO:<pau@botiga.test>:
    550 5.1.1 <pau@botiga.test>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <support@maildesk.test>
From: Soporte <support@maildesk.test>
To: pau@botiga.test
Subject: [INC-2024-0050] Hemos recibido
 su incidencia
Message-ID: <ack-50@maildesk.test>

Hemos recibido su incidencia. Message-ID: <not-this@x.test>
""",
)

EXIM_DELAYED = raw(
    """
From: Mail Delivery System <Mailer-Daemon@hosting.test>
To: support@maildesk.test
Subject: Warning: message 1tX-000abc-00 delayed 24 hours
""",
    """
This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on hosting.test.

The message identifier is:     1tX-000abc-00
The subject of the message is: Hemos recibido su incidencia

The address to which the message has not yet been delivered is:

  rosa@lento.test
    Delay reason: SMTP error from remote mail server after RCPT TO:<rosa@lento.test>:
    451 4.7.1 Greylisted, please try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered.
""",
)

QMAIL_PLAIN = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@qmail.test
To: support@maildesk.test
Subject: failure notice
""",
    """
Hi. This is the qmail-send program at qmail.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<toni@qmail.test>:
192.0.2.55 does not like recipient.
Remote host said: 550 5.1.1 <toni@qmail.test>... User unknown
Giving up on 192.0.2.55.

--- Below this line is a copy of the message.

Return-Path: <support@maildesk.test>
Message-ID: <ack-51@maildesk.test>
From: support@maildesk.test
Subject: Hemos recibido su incidencia

Hemos recibido su incidencia.
""",
)

EXCHANGE_PLAIN = raw(
    """
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@empresa.test>
To: support@maildesk.test
Subject: Undeliverable: Hemos recibido su incidencia
Content-Type: text/plain; charset="utf-8"
""",
    """
Delivery has failed to these recipients or groups:

laura@empresa.test (laura@empresa.test)
The email address you entered couldn't be found. Please check the recipient's email
address and try to resend the message.

Diagnostic information for administrators:

Generating server: EX02.empresa.test

laura@empresa.test
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'

Original message headers:

Received: from mx.maildesk.test (192.0.2.1) by EX02.empresa.test
Message-ID: <ack-52@maildesk.test>
Subject: Hemos recibido su incidencia
From: support@maildesk.test
""",
)

GMAIL_PLAIN = raw(
    """
From: Mail Delivery Subsystem <mailer-daemon@googlemail.test>
To: support@maildesk.test
Subject: Delivery Status Notification (Failure)
Content-Type: multipart/mixed; boundary="GM"
""",
    """
--GM
Content-Type: text/plain; charset="UTF-8"

** Address not found **

Your message wasn't delivered to no.existe@gmail.test because the address couldn't be
found, or is unable to receive mail.

The response from the remote server was:
550 5.1.1 The email account that you tried to reach does not exist.

--GM
Content-Type: text/rfc822-headers

Message-ID: <ack-53@maildesk.test>
Subject: Hemos recibido su incidencia
--GM--
""",
)

SPANISH_PLAIN = raw(
    """
Return-Path: <>
From: Servicio de entrega de correo <postmaster@correo.test>
To: support@maildesk.test
Subject: =?iso-8859-1?q?No_se_ha_podido_entregar_el_mensaje?=
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable
""",
    """
No se ha podido entregar el mensaje a los siguientes destinatarios:

    carmen.lopez@correo.test
    El servidor remoto respondi=F3: 550 5.1.1 Usuario desconocido

---------- Mensaje original ----------
Message-ID: <ack-54@maildesk.test>
Subject: =3D?utf-8?q?Hemos_recibido_su_incidencia?=3D
From: support@maildesk.test
""",
)


# A returned copy quoted inline: its headers, then our acknowledgement.
def quoted_copy(number: int, to: str) -> str:
    return f"""Return-Path: <support@maildesk.test>
Received: from desk.maildesk.test (desk.maildesk.test [192.0.2.25])
\tby mx.maildesk.test (Postfix) with ESMTPSA id 4Q3BBCF69D
From: Soporte <support@maildesk.test>
To: <{to}>
Subject: [INC-2024-{number:04d}] Hemos recibido su incidencia
Message-ID: <ack-{number}@maildesk.test>
Auto-Submitted: auto-replied

Hemos recibido su incidencia. Si escribe a otros@clientes.test, indique el número.

otros@clientes.test
"""


POSTFIX_RETURNED_HEADERS = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@mail.clientes.test (Mail Delivery System)
To: support@maildesk.test
Subject: Undelivered Mail Returned to Sender
""",
    """
This is the mail system at host mail.clientes.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<claire@clientes.test>: host mx.clientes.test[203.0.113.12] said: 550 5.1.1
    <claire@clientes.test>: Recipient address rejected: User unknown

--- Returned message headers ---

"""
    + quoted_copy(60, "claire@clientes.test"),
)

POSTFIX_NO_MARKER = raw(
    """
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.clientes.test>
To: support@maildesk.test
Subject: Delayed Mail (still being retried)
""",
    """
This is the mail system at host mx.clientes.test.

# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #

Your message could not be delivered for more than 4 hour(s).

<luc@clientes.test>: connect to mail.clientes.test[203.0.113.77]:25: Connection refused

"""
    + quoted_copy(61, "luc@clientes.test"),
)

EXCHANGE_SPANISH = raw(
    """
From: Microsoft Outlook <postmaster@gestoria.test>
To: support@maildesk.test
Subject: No se puede entregar: [INC-2024-0062] Hemos recibido su incidencia
Content-Type: text/plain; charset=utf-8
""",
    """
No se pudo entregar a estos destinatarios o grupos:

gestoria@gestoria.test
No se encontró la dirección de correo electrónico que escribió.

Información de diagnóstico para administradores:

gestoria@gestoria.test
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'

Encabezados del mensaje original:

"""
    + quoted_copy(62, "gestoria@gestoria.test"),
)

SPANISH_MAILBOX_FULL = raw(
    """
Return-Path: <>
From: Servicio de Correo <post.master@correo.test>
To: support@maildesk.test
Subject: Mensaje no entregado
Content-Type: text/plain; charset=utf-8
""",
    """
Su mensaje no ha podido ser entregado a los siguientes destinatarios:

    rosa@inmobiliaria.test
    Motivo: el buzón del destinatario está lleno (552 5.2.2)

El mensaje ha sido devuelto al remitente.

---- Mensaje original ----

"""
    + quoted_copy(63, "rosa@inmobiliaria.test"),
)

SPANISH_LATIN1 = (
    raw(
        """
From: post_master@smtp.correo.test
To: support@maildesk.test
Subject: Error en la entrega del mensaje
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit
""",
        """
No ha sido posible entregar el mensaje al destinatario:

<admin@ferreteria.test>: dirección desconocida (550 5.1.1)

Cabeceras del mensaje original:

"""
        + quoted_copy(64, "admin@ferreteria.test"),
    )
    .decode("utf-8")
    .encode("iso-8859-1")
)

DOMINO = raw(
    """
Return-Path: <>
From: Mail Router <postmaster@grupo.test>
To: support@maildesk.test
Subject: DELIVERY FAILURE: User jserra (jserra@grupo.test) not listed in Domino Directory
""",
    """
Your message

  Subject: [INC-2024-0065] Hemos recibido su incidencia

was not delivered to:

  jserra@grupo.test

because:

  User jserra (jserra@grupo.test) not listed in Domino Directory

Message-ID: <ack-65@maildesk.test>
""",
)

YAHOO = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@yahoo.test
To: support@maildesk.test
Subject: Failure Notice
""",
    """
Sorry, we were unable to deliver your message to the following address.

<cafe@yahoo.test>:
554: delivery error: dd This user doesn't have a yahoo.test account (cafe@yahoo.test)

--- Below this line is a copy of the message.

"""
    + quoted_copy(66, "cafe@yahoo.test"),
)

FRENCH = raw(
    """
From: postmaster@orange.test
To: support@maildesk.test
Subject: Echec de distribution
Content-Type: text/plain; charset=utf-8
""",
    """
Ce message a été généré automatiquement.

Votre message n'a pas pu être distribué au destinataire suivant :

  luc@orange.test
  Raison : adresse inconnue (550 5.1.1)

----- Message d'origine -----

"""
    + quoted_copy(67, "luc@orange.test"),
)

RAW_8BIT_ORIGINAL = POSTFIX_DSN.replace(
    b"Subject: [INC-2024-0042] Hemos recibido su incidencia",
    "Subject: [INC-2024-0042] Avería en la línea".encode(),
)


@dataclass(frozen=True)
class Case:
    raw: bytes
    kind: str
    address: str
    status: str
    action: str
    permanent: bool
    message_id: str | None
    subject: str | None = None
    diagnostic: str = ""


CASES = {
    "postfix-dsn": Case(
        POSTFIX_DSN,
        "delivery-status",
        "ana@clientes.test",
        "5.1.1",
        "failed",
        True,
        "ack-42.1730000000@maildesk.test",
        "[INC-2024-0042] Hemos recibido su incidencia",
        "550 5.1.1 <ana@clientes.test>: Recipient address rejected: User unknown",
    ),
    "exchange-dsn-headers-only": Case(
        EXCHANGE_DSN_HEADERS_ONLY,
        "delivery-status",
        "jordi@botiga.cat",  # the Original-Recipient, what we sent to
        "5.1.10",
        "failed",
        True,
        "ack-43.1730000001@maildesk.test",
        "[INC-2024-0043] Incidencia recibida — línea",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found",
    ),
    "delayed-dsn": Case(
        DELAYED_DSN,
        "delivery-status",
        "pep@ferreteria.test",
        "4.4.1",
        "delayed",
        False,
        "ack-44@maildesk.test",
        "Incidencia recibida",
        "connect to mx.ferreteria.test[198.51.100.4]:25: Connection timed out",
    ),
    "base64-dsn": Case(
        BASE64_STATUS_DSN,
        "delivery-status",
        "nadie@gmail.test",
        "5.1.1",
        "failed",
        True,
        "ack-42.1730000000@maildesk.test",
        "[INC-2024-0042] Hemos recibido su incidencia",
        "550-5.1.1 The email account that you tried to reach does not exist.",
    ),
    "global-dsn": Case(
        GLOBAL_DSN, "delivery-status", "josé@correo.test", "5.1.1", "failed", True, None
    ),
    "postfix-plain": Case(
        POSTFIX_PLAIN,
        "plain-text",
        "marta@clientes.test",
        "5.2.2",
        "failed",
        True,
        "ack-42.1730000000@maildesk.test",
        "[INC-2024-0042] Hemos recibido su incidencia",
        "host mx.clientes.test[192.0.2.9] said: 552 5.2.2 <marta@clientes.test>: "
        "Mailbox full (in reply to RCPT TO command)",
    ),
    "exim-plain": Case(
        EXIM_PLAIN,
        "plain-text",
        "pau@botiga.test",
        "5.1.1",
        "failed",
        True,
        "ack-50@maildesk.test",
        "[INC-2024-0050] Hemos recibido su incidencia",
        "550 5.1.1 <pau@botiga.test>: Recipient address rejected: User unknown",
    ),
    "exim-delayed": Case(
        EXIM_DELAYED,
        "plain-text",
        "rosa@lento.test",
        "4.7.1",
        "delayed",
        False,
        None,
        None,
        "451 4.7.1 Greylisted, please try again later",
    ),
    "qmail-plain": Case(
        QMAIL_PLAIN,
        "plain-text",
        "toni@qmail.test",
        "5.1.1",
        "failed",
        True,
        "ack-51@maildesk.test",
        "Hemos recibido su incidencia",
        "Remote host said: 550 5.1.1 <toni@qmail.test>... User unknown",
    ),
    "exchange-plain": Case(
        EXCHANGE_PLAIN,
        "plain-text",
        "laura@empresa.test",
        "5.1.10",
        "failed",
        True,
        "ack-52@maildesk.test",
        "Hemos recibido su incidencia",
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'",
    ),
    "gmail-plain": Case(
        GMAIL_PLAIN,
        "plain-text",
        "no.existe@gmail.test",
        "5.1.1",
        "failed",
        True,
        "ack-53@maildesk.test",
        "Hemos recibido su incidencia",
        "550 5.1.1 The email account that you tried to reach does not exist.",
    ),
    "spanish-plain": Case(
        SPANISH_PLAIN,
        "plain-text",
        "carmen.lopez@correo.test",
        "5.1.1",
        "failed",
        True,
        "ack-54@maildesk.test",
        "Hemos recibido su incidencia",
        "El servidor remoto respondió: 550 5.1.1 Usuario desconocido",
    ),
    # a returned copy quoted inline under other markers, or none: its Message-ID still counts
    "postfix-returned-message-headers": Case(
        POSTFIX_RETURNED_HEADERS,
        "plain-text",
        "claire@clientes.test",
        "5.1.1",
        "failed",
        True,
        "ack-60@maildesk.test",
        "[INC-2024-0060] Hemos recibido su incidencia",
    ),
    "postfix-copy-without-marker": Case(
        POSTFIX_NO_MARKER,
        "plain-text",
        "luc@clientes.test",
        "4.0.0",
        "delayed",
        False,
        "ack-61@maildesk.test",
        "[INC-2024-0061] Hemos recibido su incidencia",
    ),
    "exchange-spanish-encabezados": Case(
        EXCHANGE_SPANISH,
        "plain-text",
        "gestoria@gestoria.test",
        "5.1.10",
        "failed",
        True,
        "ack-62@maildesk.test",
        "[INC-2024-0062] Hemos recibido su incidencia",
    ),
    # notices worded in other ways
    "spanish-no-ha-podido-ser-entregado": Case(
        SPANISH_MAILBOX_FULL,
        "plain-text",
        "rosa@inmobiliaria.test",
        "5.2.2",
        "failed",
        True,
        "ack-63@maildesk.test",
        "[INC-2024-0063] Hemos recibido su incidencia",
        "Motivo: el buzón del destinatario está lleno (552 5.2.2)",
    ),
    "spanish-no-ha-sido-posible-latin1": Case(
        SPANISH_LATIN1,
        "plain-text",
        "admin@ferreteria.test",
        "5.1.1",
        "failed",
        True,
        "ack-64@maildesk.test",
        "[INC-2024-0064] Hemos recibido su incidencia",
        "dirección desconocida (550 5.1.1)",
    ),
    "domino-was-not-delivered-to": Case(
        DOMINO,
        "plain-text",
        "jserra@grupo.test",
        "5.0.0",
        "failed",
        True,
        "ack-65@maildesk.test",
        "[INC-2024-0065] Hemos recibido su incidencia",
    ),
    "yahoo-unable-to-deliver": Case(
        YAHOO,
        "plain-text",
        "cafe@yahoo.test",
        "5.0.0",
        "failed",
        True,
        "ack-66@maildesk.test",
        "[INC-2024-0066] Hemos recibido su incidencia",
    ),
    "french-n-a-pas-pu-etre-distribue": Case(
        FRENCH,
        "plain-text",
        "luc@orange.test",
        "5.1.1",
        "failed",
        True,
        "ack-67@maildesk.test",
        "[INC-2024-0067] Hemos recibido su incidencia",
        "Raison : adresse inconnue (550 5.1.1)",
    ),
    # raw UTF-8 in the returned original's subject is read as UTF-8, not replaced
    "raw-8bit-original-subject": Case(
        RAW_8BIT_ORIGINAL,
        "delivery-status",
        "ana@clientes.test",
        "5.1.1",
        "failed",
        True,
        "ack-42.1730000000@maildesk.test",
        "[INC-2024-0042] Avería en la línea",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bounces_are_read(case: Case) -> None:
    bounce = read_bounce(case.raw)
    assert bounce is not None
    assert bounce.kind == case.kind
    assert [r.address for r in bounce.recipients] == [case.address]
    recipient = bounce.recipients[0]
    assert recipient.status == case.status
    assert recipient.action == case.action
    assert bounce.permanent is case.permanent
    assert bounce.original_message_id == case.message_id
    assert bounce.original_subject == case.subject
    if case.diagnostic:
        assert recipient.diagnostic == case.diagnostic


def test_each_recipient_of_a_report_has_its_own_status() -> None:
    bounce = read_bounce(TWO_RECIPIENTS_DSN)
    assert bounce == Bounce(
        kind="delivery-status",
        recipients=(
            FailedRecipient("luis@empresa.test", "4.2.2", "delayed", "452 4.2.2 Mailbox full"),
            FailedRecipient("maria@empresa.test", "5.2.1", "failed", "550 5.2.1 Mailbox disabled"),
        ),  # the relayed one is no failure
        original_message_id=None,
        original_subject=None,
        permanent=True,
    )


def test_a_status_is_made_up_from_the_action_when_none_is_given() -> None:
    dsn = TWO_RECIPIENTS_DSN.replace(b"Status: 5.2.1\r\n", b"").replace(
        b"550 5.2.1 Mailbox disabled", b"mailbox disabled"
    )
    bounce = read_bounce(dsn)
    assert bounce is not None
    assert bounce.recipients[1] == FailedRecipient(
        "maria@empresa.test", "5.0.0", "failed", "mailbox disabled"
    )


def test_exim_recipients_come_from_its_header_when_the_text_names_none() -> None:
    mangled = EXIM_PLAIN.replace(b"  pau@botiga.test\r\n", b"  (address removed)\r\n")
    bounce = read_bounce(mangled)
    assert bounce is not None
    assert bounce.recipients == (FailedRecipient("pau@botiga.test", "5.0.0", "failed", ""),)


def test_a_report_without_readable_status_fields_is_read_from_its_text() -> None:
    unreadable = POSTFIX_DSN.replace(b"Action: failed\r\nStatus: 5.1.1\r\n", b"").replace(
        b"Final-Recipient:", b"X-Final:"
    )
    bounce = read_bounce(unreadable)
    assert bounce is not None
    assert bounce.kind == "plain-text"
    assert bounce.recipients[0].address == "ana@clientes.test"
    assert bounce.recipients[0].status == "5.1.1"
    assert bounce.original_message_id == "ack-42.1730000000@maildesk.test"


def test_exim_names_every_failed_recipient_in_its_header() -> None:
    two = EXIM_PLAIN.replace(b"  pau@botiga.test\r\n", b"  (addresses removed)\r\n").replace(
        b"X-Failed-Recipients: pau@botiga.test", b"X-Failed-Recipients: a@b.test, C@D.test"
    )
    bounce = read_bounce(two)
    assert bounce is not None
    assert [r.address for r in bounce.recipients] == ["a@b.test", "c@d.test"]


SUCCESS_DSN = raw(
    """
Return-Path: <>
From: MAILER-DAEMON@mx.test (Mail Delivery System)
To: support@maildesk.test
Subject: Successful Mail Delivery Report
Content-Type: multipart/report; report-type=delivery-status; boundary="S"
""",
    """
--S
Content-Type: text/plain

This is the mail system at host mx.test.

Your message was successfully delivered to the destination(s)
listed below.

<ana@clientes.test>: delivery via mx2.test[192.0.2.7]:25: 250 2.0.0 Ok

--S
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.test

Final-Recipient: rfc822; ana@clientes.test
Action: relayed
Status: 2.0.0
--S--
""",
)

READ_RECEIPT = raw(
    """
Return-Path: <>
From: Ana <ana@clientes.test>
To: support@maildesk.test
Subject: Read: Hemos recibido su incidencia
Content-Type: multipart/report; report-type=disposition-notification; boundary="M"
""",
    """
--M
Content-Type: text/plain

Your message was read on Monday.
--M
Content-Type: message/disposition-notification

Final-Recipient: rfc822; ana@clientes.test
Original-Message-ID: <ack-42@maildesk.test>
Disposition: manual-action/MDN-sent-manually; displayed
--M--
""",
)

HUMAN_QUOTING_A_NOTICE = raw(
    """
From: Ana <ana@clientes.test>
To: support@maildesk.test
Subject: Fwd: Undelivered Mail Returned to Sender
""",
    """
No me llegan vuestros correos, me sale esto:

This is the mail system at host mail.clientes.test.

<ana@clientes.test>: host mx.clientes.test[192.0.2.9] said: 552 5.2.2 Mailbox full
""",
)

HUMAN_FORWARDING_A_DSN = raw(
    """
From: Ana <ana@clientes.test>
To: support@maildesk.test
Subject: Fwd: Undeliverable
Content-Type: multipart/mixed; boundary="F"
""",
    """
--F
Content-Type: text/plain

Mirad esto.
--F
Content-Type: message/rfc822

"""
    + POSTFIX_DSN.decode()
    + """
--F--
""",
)

SUCCESS_PLAIN = raw(
    """
From: MAILER-DAEMON@mx.test
To: support@maildesk.test
Subject: Successful Mail Delivery Report
""",
    """
This is the mail system at host mx.test.

Your message was successfully delivered to the destination(s) listed below.

<ana@clientes.test>: delivery via mx2.test[192.0.2.7]:25: 250 2.0.0 Ok
""",
)


@pytest.mark.parametrize(
    "data",
    [
        SUCCESS_DSN,
        SUCCESS_PLAIN,
        READ_RECEIPT,
        HUMAN_QUOTING_A_NOTICE,
        HUMAN_FORWARDING_A_DSN,
        raw("From: Ana <ana@clientes.test>\nSubject: Sin internet", "No tengo internet."),
        raw("From: MAILER-DAEMON@mx.test\nSubject: Hello", "Nothing about delivery here."),
        raw(
            "From: MAILER-DAEMON@mx.test\nSubject: Undelivered Mail Returned to Sender",
            "This is the mail system at host mx.test.\n\nNobody is named here.\n",
        ),
        # people quoting the new notice wordings: no robot sender, no null return path
        raw(
            "From: Jordi <jserra@grupo.test>\nSubject: Correo que no llega",
            "Your message\n\nwas not delivered to:\n\n  jserra@grupo.test\n",
        ),
        raw(
            "From: Rosa <rosa@inmobiliaria.test>\nSubject: Mi buzón",
            "Me sale: Su mensaje no ha podido ser entregado a los siguientes destinatarios:\n"
            "\n    rosa@inmobiliaria.test\n",
        ),
        raw(
            "From: Luc <luc@orange.test>\nSubject: Problème",
            "Votre message n'a pas pu être distribué au destinataire suivant :\n\n"
            "  luc@orange.test\n",
        ),
        # a robot's notice that names nobody except in the quoted copy's headers
        raw(
            "From: MAILER-DAEMON@mx.test\nSubject: Failure Notice",
            "Sorry, we were unable to deliver your message.\n\n" + quoted_copy(70, "x@y.test"),
        ),
        b"",
        b"\x00\x01\x02 binary junk \xff\xfe",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x",
        b"Content-Type: multipart/report; report-type*=''delivery-status; boundary=x\r\n\r\n",
        b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n--\r\n",
    ],
)
def test_other_mail_is_no_bounce(data: bytes) -> None:
    assert read_bounce(data) is None


def test_a_huge_bounce_is_read_quickly() -> None:
    padding = "x" * 76 + "\n"
    huge = POSTFIX_DSN.replace(b"Hemos recibido su incidencia.", (padding * 200_000).encode())
    start = time.perf_counter()
    bounce = read_bounce(huge)
    assert time.perf_counter() - start < 2
    assert bounce is not None and bounce.recipients[0].address == "ana@clientes.test"
    assert bounce.original_message_id == "ack-42.1730000000@maildesk.test"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 300_000,  # one endless line
        "a@" * 150_000,
        ("<" + "b" * 60 + "@" + "c." * 100 + "\n") * 2000,
        ("  " + "d" * 5000 + "@e\n") * 50,
        "Your message wasn't delivered to " + "f" * 200_000,
    ],
    ids=["long-line", "many-ats", "long-domains", "long-local-parts", "long-inline"],
)
def test_hostile_notices_do_not_take_long(text: str) -> None:
    data = raw(
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.test\nSubject: Undelivered Mail",
        "This is the mail system at host mx.test.\n\n" + text,
    )
    start = time.perf_counter()
    read_bounce(data)
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_cut_off_bounces_never_raise(case: Case) -> None:
    for end in range(0, len(case.raw), 37):
        result = read_bounce(case.raw[:end])
        assert result is None or isinstance(result, Bounce)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_bounce_or_none(data: bytes) -> None:
    result = read_bounce(b"Content-Type: multipart/report; boundary=b\r\n\r\n--b\r\n" + data)
    assert result is None or isinstance(result, Bounce)
