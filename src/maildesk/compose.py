"""Build outgoing replies as RFC 5322 bytes, with the threading and loop-guard headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email import charset as _charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from maildesk.loopguard import LOOP_HEADER
from maildesk.render import RenderedMail

_UTF8 = _charset.Charset("utf-8")  # base64 bodies: 7-bit safe, and encoded in C (fast)
_SMTP = compat32.clone(linesep="\r\n")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    message_id: str  # without angle brackets
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes


def new_message_id(domain: str, tag: str) -> str:
    """A Message-ID of our own, fixed before the first send attempt."""
    return f"{tag}.{uuid.uuid4().hex[:16]}@{domain}"  # short enough not to be folded


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
    """An automatic answer (RFC 3834) in the client's thread, carrying the reference."""
    domain = sender_address.rsplit("@", 1)[-1]
    message_id = new_message_id(domain, reference.lower())
    subject = rendered.subject
    if f"[{reference}]" not in subject:
        subject = f"{subject} [{reference}]"
    # The compat32 classes build the same mail several times faster than EmailMessage's
    # header registry; names and subject are encoded as RFC 2047 words when not ASCII.
    msg = MIMEMultipart("alternative")
    msg["From"] = formataddr((sender_name, sender_address), charset="utf-8")
    msg["To"] = formataddr((to_name, to_address), charset="utf-8") if to_name else to_address
    # A Header object (not its encoded string) folds after "Subject: ", not before the words.
    msg["Subject"] = (
        subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    )  # type: ignore[assignment]
    msg["Date"] = format_datetime(now.astimezone(zone))
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    thread = [*references, in_reply_to] if in_reply_to else list(references)
    if thread:
        msg["References"] = " ".join(f"<{mid}>" for mid in dict.fromkeys(thread))
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = sender_address
    msg["X-Maildesk-Reference"] = reference
    msg["Content-Language"] = language
    msg.attach(MIMEText(rendered.text, "plain", _UTF8))
    msg.attach(MIMEText(rendered.html, "html", _UTF8))
    raw = msg.as_bytes(policy=_SMTP)
    return OutgoingMail(message_id, sender_address, (to_address,), raw)
