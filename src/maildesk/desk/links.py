"""The links our mails carry so that answering them is one tap on a phone."""

from __future__ import annotations

from urllib.parse import quote

from maildesk.config import Config
from maildesk.desk.authentication import command_address


def staff_reply_address(config: Config, recipient: str, reference: str) -> str | None:
    """The secret reply address of ``reference`` for ``recipient`` when they are on the
    staff list and a token secret is set (a command sent to it is authenticated without
    any header); None otherwise."""
    secret = config.desk.token_secret()
    if secret is None or config.desk.staff_member(recipient) is None:
        return None
    return command_address(str(config.company.support_address), reference, recipient, secret)


def mailto(address: str, subject: str, body: str = "") -> str:
    link = f"mailto:{address}?subject={quote(subject)}"
    return f"{link}&body={quote(body)}" if body else link
