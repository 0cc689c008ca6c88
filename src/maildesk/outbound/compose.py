"""Build outgoing replies as RFC 5322 bytes, with the threading and loop-guard headers.

The mail is written directly rather than through ``email.message``: every header we emit is
either ASCII or an RFC 2047 encoded word of our own, and both bodies are quoted-printable,
so there is nothing for a general serializer to decide — and it ran for every reply (a third
of the pipeline's MIME time was folding one Subject).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.utils import format_datetime

from maildesk.db.tables import Incident, OutboxItem
from maildesk.inbound.loopguard import LOOP_HEADER
from maildesk.outbound.render import RenderedMail

CRLF = "\r\n"
# An encoded word may have 75 characters (RFC 2047 §2); ours have at most 64
# ("=?utf-8?b?" + 52 + "?="), so that "Subject: " and the first word fit in 78.
_WORD_BYTES = 39  # 52 base64 characters
_PLAIN_HEADER_LIMIT = 76  # longer ASCII values are encoded too, which folds them


_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class UnwritableAddress(ValueError):
    """An address no reply can carry (no domain, a domain IDNA refuses, spaces…)."""


def writable_address(address: str) -> str:
    """``address`` as a reply carries it: the domain in its ASCII (IDNA) form; a non-ASCII
    local part stays UTF-8, which the outbox sends only over SMTPUTF8 (RFC 6531).

    Raises ``UnwritableAddress`` with the reason."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise UnwritableAddress(f"not an address: {address!r}")
    if any(c.isspace() or c in '<>"(),;:\\[]' or ord(c) < 32 for c in address):
        raise UnwritableAddress(f"characters an address cannot hold: {address!r}")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnwritableAddress(f"domain not valid IDNA: {domain!r} ({exc})") from exc
    domain = domain.lower()
    if len(domain) > 253 or not all(_DNS_LABEL.fullmatch(x) for x in domain.split(".")):
        raise UnwritableAddress(f"not a domain name: {domain!r}")
    return f"{local}@{domain}"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    message_id: str  # without angle brackets
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes


def new_message_id(domain: str, tag: str) -> str:
    """A Message-ID of our own, fixed before the first send attempt."""
    return f"{tag}.{uuid.uuid4().hex[:16]}@{domain}"  # short enough not to be folded


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 base64 words, one per folded line, never splitting a character."""
    words: list[str] = []
    chunk = bytearray()
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=")
            chunk.clear()
        chunk += data
    if chunk or not words:
        words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=")
    return (CRLF + " ").join(words)


def header_text(text: str) -> str:
    """An unstructured header value: as is when short plain ASCII, else encoded words."""
    text = " ".join(text.split())  # no line breaks or tabs from a template
    if text.isascii() and len(text) <= _PLAIN_HEADER_LIMIT:
        return text
    return encoded_words(text)


def mailbox_header(name: str, address: str) -> str:
    """``Name <address>``, the name quoted when needed, encoded when not ASCII."""
    name = " ".join(name.split())
    if not name:
        return address
    if not name.isascii():
        return f"{encoded_words(name)}{CRLF} <{address}>"
    if any(c in name for c in '()<>@,;:\\".[]'):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{address}>'
    return f"{name} <{address}>"


def _text_part(content_type: str, text: str) -> str:
    """Quoted-printable: Spanish, Catalan and English are mostly ASCII, so the body stays
    readable in the raw mail and about a quarter smaller than base64. Lines of at most 76
    characters, CRLF endings, trailing blanks and a lone leading dot encoded."""
    lines = CRLF.join(text.replace("\r\n", "\n").split("\n"))
    body = binascii.b2a_qp(lines.encode("utf-8"), istext=True).decode("ascii")
    # The line break before the next boundary belongs to the boundary (RFC 2046), not to
    # the text: a text ending with a newline keeps it.
    return (
        f'Content-Type: {content_type}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{body}{CRLF}"
    )


def compose_reply(
    *,
    rendered: RenderedMail,
    sender_name: str,
    sender_address: str,
    to_address: str,
    to_name: str,
    reference: str,
    language: str,
    in_reply_to: str | None,
    references: tuple[str, ...],
    now: datetime,
    zone: tzinfo,
) -> OutgoingMail:
    """An automatic answer (RFC 3834) in the client's thread, carrying the reference.

    Raises ``UnwritableAddress`` when ``to_address`` cannot be written."""
    to_address = writable_address(to_address)
    subject = rendered.subject
    if f"[{reference}]" not in subject:
        subject = f"{subject} [{reference}]"
    thread_headers = [f"In-Reply-To: <{in_reply_to}>"] if in_reply_to else []
    thread = [*references, in_reply_to] if in_reply_to else list(references)
    if thread:
        ids = [f"<{mid}>" for mid in dict.fromkeys(thread)]
        thread_headers.append("References: " + (CRLF + " ").join(ids))
    return _automatic_mail(
        rendered=rendered,
        subject=subject,
        sender_name=sender_name,
        sender_address=sender_address,
        to_header=mailbox_header(to_name, to_address),
        recipients=(to_address,),
        tag=reference.lower(),
        auto_submitted="auto-replied",
        thread_headers=thread_headers,
        reference=reference,
        language=language,
        now=now,
        zone=zone,
    )


def compose_notice(
    *,
    rendered: RenderedMail,
    sender_name: str,
    sender_address: str,
    recipients: tuple[str, ...],
    tag: str,
    language: str,
    now: datetime,
    zone: tzinfo,
    reference: str | None = None,
    reply_to: str | None = None,
) -> OutgoingMail:
    """A mail of our own to the business (digest, alert): automatic, not a reply (RFC 3834
    ``auto-generated``), marked with our loop header so that its copy is recognised.
    ``reply_to``: where a reply should go (a staff member's secret reply address)."""
    return _automatic_mail(
        rendered=rendered,
        subject=rendered.subject,
        sender_name=sender_name,
        sender_address=sender_address,
        to_header=", ".join(recipients),
        recipients=recipients,
        tag=tag,
        auto_submitted="auto-generated",
        thread_headers=[f"Reply-To: {reply_to}"] if reply_to else [],
        reference=reference,
        language=language,
        now=now,
        zone=zone,
    )


def compose_forward(
    *,
    rendered: RenderedMail,
    sender_name: str,
    sender_address: str,
    to_address: str,
    reference: str,
    language: str,
    original: bytes,
    now: datetime,
    zone: tzinfo,
    in_reply_to: str | None = None,
) -> OutgoingMail:
    """An incident handed to its team: our summary (text and HTML) and the client's mail
    attached byte for byte as ``message/rfc822``; answers come back to the support address
    (``Reply-To``), threaded to this mail's Message-ID and tagged with the reference. A
    later mail of the client goes ``in_reply_to`` the first forward: the team's thread."""
    subject = rendered.subject
    if f"[{reference}]" not in subject:
        subject = f"[{reference}] {subject}"
    message_id = new_message_id(sender_address.rsplit("@", 1)[-1], f"fwd.{reference.lower()}")
    mixed = f"=_maildesk_{secrets.token_hex(12)}"
    alternative = f"=_maildesk_{secrets.token_hex(12)}"
    headers = [
        f"From: {mailbox_header(sender_name, sender_address)}",
        f"To: {to_address}",
        f"Reply-To: {sender_address}",
        f"Subject: {header_text(subject)}",
        f"Date: {format_datetime(now.astimezone(zone))}",
        f"Message-ID: <{message_id}>",
        *([f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"] if in_reply_to else []),
        "Auto-Submitted: auto-generated",
        "X-Auto-Response-Suppress: All",
        f"{LOOP_HEADER}: {sender_address}",
        f"X-Maildesk-Reference: {reference}",
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed;{CRLF} boundary="{mixed}"',
    ]
    # RFC 2046 §5.2.1: a message/rfc822 part is 7bit, 8bit or binary, never re-encoded.
    encoding = "7bit" if original.isascii() else "8bit"
    head = (
        CRLF.join(headers)
        + CRLF
        + CRLF
        + f"--{mixed}{CRLF}"
        + f'Content-Type: multipart/alternative;{CRLF} boundary="{alternative}"{CRLF}{CRLF}'
        + f"--{alternative}{CRLF}"
        + _text_part("text/plain", rendered.text)
        + f"--{alternative}{CRLF}"
        + _text_part("text/html", rendered.html)
        + f"--{alternative}--{CRLF}"
        + f"--{mixed}{CRLF}"
        + f"Content-Type: message/rfc822{CRLF}"
        + f'Content-Disposition: attachment; filename="{reference}.eml"{CRLF}'
        + f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
    ).encode("ascii")
    # The line break before a boundary belongs to the boundary: ours, so that the original
    # keeps its own last line break when the attachment is taken out again.
    raw = head + original + f"{CRLF}--{mixed}--{CRLF}".encode("ascii")
    return OutgoingMail(message_id, sender_address, (to_address,), raw)


def _automatic_mail(
    *,
    rendered: RenderedMail,
    subject: str,
    sender_name: str,
    sender_address: str,
    to_header: str,
    recipients: tuple[str, ...],
    tag: str,
    auto_submitted: str,
    thread_headers: list[str],
    reference: str | None,
    language: str,
    now: datetime,
    zone: tzinfo,
) -> OutgoingMail:
    """Headers, then the text and HTML alternatives, quoted-printable UTF-8, with a Message-ID of
    our own and the headers that keep other robots (and ourselves) from answering it."""
    message_id = new_message_id(sender_address.rsplit("@", 1)[-1], tag)
    boundary = f"=_maildesk_{secrets.token_hex(12)}"
    headers = [
        f"From: {mailbox_header(sender_name, sender_address)}",
        f"To: {to_header}",
        f"Subject: {header_text(subject)}",
        f"Date: {format_datetime(now.astimezone(zone))}",
        f"Message-ID: <{message_id}>",
        *thread_headers,
        f"Auto-Submitted: {auto_submitted}",
        "X-Auto-Response-Suppress: All",
        f"{LOOP_HEADER}: {sender_address}",
        *([f"X-Maildesk-Reference: {reference}"] if reference else []),
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
    ]
    raw = (
        CRLF.join(headers)
        + CRLF
        + CRLF
        + f"--{boundary}{CRLF}"
        + _text_part("text/plain", rendered.text)
        + f"--{boundary}{CRLF}"
        + _text_part("text/html", rendered.html)
        + f"--{boundary}--{CRLF}"
    ).encode("utf-8")  # ASCII but for a non-ASCII address (RFC 6532, sent with SMTPUTF8)
    return OutgoingMail(message_id, sender_address, recipients, raw)


def queued_row(
    outgoing: OutgoingMail, purpose: str, now: datetime, incident: Incident | None = None
) -> OutboxItem:
    """The outbox row that sends ``outgoing``: queued, due now."""
    return OutboxItem(
        incident=incident,
        purpose=purpose,
        message_id=outgoing.message_id,
        mail_from=outgoing.mail_from,
        recipients=",".join(outgoing.recipients),
        raw=outgoing.raw,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
