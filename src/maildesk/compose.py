"""Build outgoing replies as RFC 5322 bytes, with the threading and loop-guard headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from maildesk.loopguard import LOOP_HEADER
from maildesk.render import RenderedMail


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
    msg = EmailMessage()
    msg["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    try:
        msg["To"] = Address(display_name=to_name, addr_spec=to_address)
    except (ValueError, IndexError):
        # An address the header model rejects still gets a best-effort header;
        # the SMTP server has the last word and a refusal is logged by the outbox.
        msg["To"] = to_address
    msg["Subject"] = subject
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
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = language  # after set_content, which drops Content-* headers
    return OutgoingMail(message_id, sender_address, (to_address,), msg.as_bytes())
