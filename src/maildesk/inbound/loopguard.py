"""Mail-loop care in one place: is a mail automatic, and may we answer it automatically?

Follows RFC 3834 and the habits of real autoresponders (Mailman's replybot): a mail that
is itself automatic never gets an automatic answer and never opens an incident.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from maildesk.inbound.parse import ParsedMail

LOOP_HEADER = "X-Maildesk-Loop"

_ROBOT_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"notifications?|listserv|majordomo|mail-daemon)([+=\-].*)?$"
)
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}


def automatic_reason(mail: ParsedMail, own_addresses: Collection[str]) -> str | None:
    """Why this mail is machine-generated (so no incident and no reply), or None."""
    if mail.header(LOOP_HEADER) is not None:  # first: our own copies are told apart by it
        return "loop:own-reply"
    auto_submitted = (mail.header("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"auto-submitted:{auto_submitted.split(';')[0].strip()}"
    for loop in mail.header_all("X-Loop"):
        if loop.strip().lower() in own_addresses:
            return "loop:x-loop"
    precedence = (mail.header("Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"precedence:{precedence}"
    if mail.header("List-Id") is not None or mail.header("List-Unsubscribe") is not None:
        return "mailing-list"
    if mail.header("X-Autoreply") is not None or mail.header("X-Autorespond") is not None:
        return "x-autoreply"
    if mail.return_path == "":
        return "return-path:null"
    if mail.content_type == "multipart/report":
        return "bounce:delivery-report"
    if not mail.from_address:
        return "sender:missing"
    if mail.from_address in own_addresses:
        return "sender:own-address"
    if _ROBOT_LOCALPARTS.match(mail.from_address.split("@", 1)[0]):
        return f"sender:{mail.from_address.split('@', 1)[0]}"
    return None


def reply_suppressed_reason(
    mail: ParsedMail, replies_recently: int, max_replies: int
) -> str | None:
    """Why a human mail still gets no automatic answer, or None when we may answer."""
    suppress = (mail.header("X-Auto-Response-Suppress") or "").lower()
    if any(token in suppress for token in ("all", "autoreply", "oof")):
        return f"x-auto-response-suppress:{suppress.strip()}"
    if replies_recently >= max_replies:
        return f"rate-limit:{replies_recently}>={max_replies}"
    return None
