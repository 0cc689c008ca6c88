"""Loop rules: which mails are automatic, and when a human mail still gets no answer."""

from __future__ import annotations

import pytest

from maildesk.inbound.loopguard import automatic_reason, reply_suppressed_reason
from maildesk.inbound.parse import ParsedMail, parse_mail

OWN = frozenset({"support@maildesk.test", "distribuidor@maildesk.test"})


def mail(headers: str, body: str = "Hola, no tengo internet.") -> ParsedMail:
    base = (
        "From: Ana <ana@clientes.test>\r\nTo: support@maildesk.test\r\n"
        "Subject: Ayuda\r\nMessage-ID: <a1@clientes.test>\r\n"
    )
    return parse_mail((base + headers + "\r\n" + body + "\r\n").encode())


def test_ordinary_client_mail_is_not_automatic() -> None:
    assert automatic_reason(mail(""), OWN) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied\r\n", "auto-submitted:auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y\r\n", "auto-submitted:auto-generated"),
        ("Precedence: bulk\r\n", "precedence:bulk"),
        ("Precedence: junk\r\n", "precedence:junk"),
        ("Precedence: list\r\n", "precedence:list"),
        ("List-Id: <ofertas.clientes.test>\r\n", "mailing-list"),
        ("X-Autoreply: yes\r\n", "x-autoreply"),
        ("Return-Path: <>\r\n", "return-path:null"),
        ("X-Maildesk-Loop: support@maildesk.test\r\n", "loop:own-reply"),
        ("X-Loop: support@maildesk.test\r\n", "loop:x-loop"),
    ],
)
def test_automatic_mail_is_recognised_by_its_headers(headers: str, reason: str) -> None:
    assert automatic_reason(mail(headers), OWN) == reason


def test_auto_submitted_no_is_a_human_mail() -> None:
    assert automatic_reason(mail("Auto-Submitted: no\r\n"), OWN) is None


def test_precedence_first_class_is_a_human_mail() -> None:
    assert automatic_reason(mail("Precedence: first-class\r\n"), OWN) is None


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("MAILER-DAEMON@clientes.test", "sender:mailer-daemon"),
        ("noreply@operador.test", "sender:noreply"),
        ("no-reply@operador.test", "sender:no-reply"),
        ("do-not-reply@banco.test", "sender:do-not-reply"),
        ("postmaster@clientes.test", "sender:postmaster"),
        ("support@maildesk.test", "sender:own-address"),
        ("Distribuidor@Maildesk.test", "sender:own-address"),
    ],
)
def test_robot_and_own_senders_are_automatic(sender: str, reason: str) -> None:
    raw = (
        f"From: {sender}\r\nTo: support@maildesk.test\r\nSubject: x\r\n"
        "Message-ID: <b@x>\r\n\r\nbody\r\n"
    ).encode()
    assert automatic_reason(parse_mail(raw), OWN) == reason


def test_a_person_named_like_a_robot_in_the_domain_is_not_automatic() -> None:
    raw = b"From: noreply.fan@clientes.test\r\nTo: s@x\r\nSubject: x\r\n\r\nhola\r\n"
    assert automatic_reason(parse_mail(raw), OWN) is None


def test_delivery_report_is_a_bounce() -> None:
    raw = (
        b"From: Mail Delivery System <mailer@clientes.test>\r\nTo: support@maildesk.test\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; clientes.test\r\n\r\nFinal-Recipient: rfc822; x@y\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n"
    )
    assert automatic_reason(parse_mail(raw), OWN) == "bounce:delivery-report"


def test_missing_sender_is_automatic() -> None:
    raw = b"To: support@maildesk.test\r\nSubject: x\r\n\r\nhola\r\n"
    assert automatic_reason(parse_mail(raw), OWN) == "sender:missing"


def test_rate_limit_stops_replies_to_a_chatty_sender() -> None:
    human = mail("")
    assert reply_suppressed_reason(human, 4, 5) is None
    assert reply_suppressed_reason(human, 5, 5) == "rate-limit:5>=5"


@pytest.mark.parametrize("value", ["All", "OOF, AutoReply", "AutoReply"])
def test_outlook_suppression_header_is_honoured(value: str) -> None:
    reason = reply_suppressed_reason(mail(f"X-Auto-Response-Suppress: {value}\r\n"), 0, 5)
    assert reason is not None and reason.startswith("x-auto-response-suppress")


def test_outlook_suppression_of_delivery_receipts_only_still_gets_a_reply() -> None:
    assert reply_suppressed_reason(mail("X-Auto-Response-Suppress: DR, RN\r\n"), 0, 5) is None


def test_our_own_copy_is_recognised_before_its_auto_submitted_header() -> None:
    own = mail("X-Maildesk-Loop: support@maildesk.test\r\nAuto-Submitted: auto-replied\r\n")
    assert automatic_reason(own, OWN) == "loop:own-reply"
