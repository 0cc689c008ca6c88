"""Delivery status notifications → ``Bounce``: who could not be reached, why, and for which
of our mails (the returned original's Message-ID, which we stored when we sent it).

Pure: no I/O, stdlib ``email`` only, and ``read_bounce`` never raises. Two shapes:

- ``delivery-status``: an RFC 3464 ``multipart/report`` with a ``message/delivery-status``
  part (per-recipient ``Final-Recipient``/``Original-Recipient``, ``Action``, ``Status``,
  ``Diagnostic-Code``) and the original as ``message/rfc822`` or ``text/rfc822-headers``;
- ``plain-text``: the human-readable notices of Postfix, Exim, qmail, Exchange, Gmail,
  Domino, Yahoo, Spanish and French servers, read only when the mail also *looks* like a
  bounce (a mailer-daemon sender, a null return path, a delivery subject…), so that a
  client's mail quoting one is not mistaken for it. The original's Message-ID comes from
  the copy the notice quotes (after a marker line such as "Original message headers", or
  its own ``Return-Path:`` line), else from any ``Message-ID:`` line of the notice.

A successful delivery report (``Action: delivered``) is no bounce, and a ``Bounce`` always
names at least one recipient. The recipient is the ``Original-Recipient`` when it is an
address (what we sent to, before any forwarding), else the ``Final-Recipient``.
"""

from __future__ import annotations

import base64
import email
import email.header
import email.parser
import email.policy
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

MAX_BYTES = 512 * 1024  # the report comes first; a huge returned original is cut off
MAX_TEXT = 64 * 1024  # characters of human-readable text searched
MAX_PARTS = 64
MAX_RECIPIENTS = 100
MAX_DIAGNOSTIC = 500

PERMANENT, DELAYED = "failed", "delayed"


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    address: str  # lower-cased addr-spec
    status: str  # enhanced status code, "5.1.1"; "5.0.0" / "4.0.0" when none was given
    action: str  # "failed" or "delayed"
    diagnostic: str  # the remote server's words, folded, at most MAX_DIAGNOSTIC characters


@dataclass(frozen=True, slots=True)
class Bounce:
    kind: str  # "delivery-status" or "plain-text"
    recipients: tuple[FailedRecipient, ...]
    original_message_id: str | None  # without angle brackets, as ParsedMail.message_id
    original_subject: str | None
    permanent: bool  # some recipient failed for good (not only delayed)


_ADDRESS = r"[^\s<>()\[\],;:\"@]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?"
_ADDRESS_ONLY = re.compile(rf"<?({_ADDRESS})>?\.?")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?:^|[\s'\"(])([45])\d\d(?=[\s-]|$)")  # "550 …", "said: 550-…"
_MESSAGE_ID = re.compile(r"<\s*([^<>\s]+)\s*>")
_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})
_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ORIGINAL_TYPES = frozenset({"message/rfc822", "message/global", "text/rfc822-headers"})
_SPACES = re.compile(r"\s+")
_FIELD = re.compile(r"([A-Za-z0-9-]+)[ \t]*:[ \t]*(.*)")

# --- does the mail look like a bounce at all (plain-text forms only) -------------------------
_ROBOT_SENDER = re.compile(
    r"(?:mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|microsoftexchange[0-9a-f]{32})@",
    re.IGNORECASE,
)
_DELIVERY_NAME = re.compile(r"mail delivery|mail administrator|postmaster", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"\s*(?:undeliver|undelivered|delivery status notification|delivery (?:failure|failed)"
    r"|mail delivery failed|returned mail|failure notice|message not delivered|non remis"
    r"|unzustellbar|no se (?:puede|pudo) entregar|error (?:de|en la) entrega"
    r"|mensaje no entregado|delivery delayed|warning: could not send|delayed mail"
    r"|notificaci[óo]n de estado de (?:la )?entrega)",
    re.IGNORECASE,
)

# --- plain-text notices ----------------------------------------------------------------------
_NOTICE = re.compile(
    r"this message was created automatically by mail delivery software"  # Exim
    r"|this is the mail system at host"  # Postfix
    r"|i'm sorry to have to inform you that your message could not"
    r"|this is the qmail-send program"  # qmail
    r"|delivery has failed to these recipients or groups"  # Exchange
    r"|delivery is delayed to these recipients or groups"
    r"|your message to \S+ couldn't be delivered"  # Microsoft 365
    r"|error al entregar a estos destinatarios o grupos"
    r"|\*\* address not found \*\*"  # Gmail
    r"|\*\* message not delivered \*\*"
    r"|\*\* message delayed \*\*"
    r"|your message wasn't delivered to"
    r"|there was a temporary problem delivering your message to"
    r"|no se ha podido entregar|no se pudo entregar"  # Spanish servers
    r"|no ha podido ser entregado|no (?:ha sido|fue) posible entregar"
    r"|sorry, we were unable to deliver your message"  # Yahoo
    r"|^[ \t]*was not delivered to"  # Domino: "Your message / Subject: … / was not delivered to:"
    r"|n'a pas pu [êe]tre (?:distribu|remis|d[ée]livr)",  # French providers
    re.IGNORECASE | re.MULTILINE,
)
_DELAYED = re.compile(
    r"this is a warning only|has not yet been delivered|delivery is delayed|message delayed"
    r"|temporary problem delivering|will (?:retry|continue trying|keep trying)"
    r"|delivery attempts will continue|todav[íi]a no se ha (?:podido )?entregar"
    r"|se seguir[áa] intentando|entrega retrasada",
    re.IGNORECASE,
)
_COPY = re.compile(  # where a notice's copy of the original message starts
    r"^[ \t]*(?:-{2,}[ \t]*)?(?:this is a copy of the message|below this line is a copy"
    r"|original message|original message headers|mensaje original|copia del mensaje"
    r"|cabeceras del mensaje original|encabezados del mensaje original|included message"
    r"|message d'origine|returned message|en-t[êe]tes du message d'origine"
    r"|(?=return-path:[ \t]*<))",  # the copy's own headers, with no marker line before them
    re.IGNORECASE | re.MULTILINE,
)
_LINE_ADDRESS = re.compile(  # Postfix, qmail: "<addr>: …" at the start of a line
    rf"^<({_ADDRESS})>:?", re.MULTILINE
)
_BARE_ADDRESS = re.compile(  # Exim, Exchange, Spanish: an address alone on its line
    rf"^[ \t]*<?({_ADDRESS})>?(?:[ \t]+\([^()\n]*\))?[ \t]*$", re.MULTILINE
)
_INLINE_ADDRESS = re.compile(  # Gmail, Microsoft 365: "…delivered to addr because…"
    rf"(?:delivered to|delivering your message to|your message to|entregar el mensaje a)"
    rf"\s+<?({_ADDRESS})>?",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^[ \t]*(Message-ID|Subject)[ \t]*:[ \t]*(.*)$", re.I | re.M)


def read_bounce(raw: bytes) -> Bounce | None:
    """The delivery failure ``raw`` reports, or None (not a bounce, or unreadable)."""
    try:
        message = email.message_from_bytes(raw[:MAX_BYTES], policy=email.policy.compat32)
        if message.get_content_type() == "multipart/report":
            return _delivery_status(message)
        return _plain_text(message)
    except Exception:  # hostile input must never cost the caller its mail
        return None


# --- RFC 3464 --------------------------------------------------------------------------------


def _delivery_status(message: Message) -> Bounce | None:
    """A multipart/report: its status part, else (unreadable) its human-readable text."""
    parts = list(_parts(message))
    status_part = next((p for p in parts if p.get_content_type() in _STATUS_TYPES), None)
    blocks = _field_blocks(status_part) if status_part is not None else []
    if not any("action" in b or "status" in b for b in blocks):
        report_type = str(message.get_param("report-type", "")).lower()
        if status_part is None and report_type not in _REPORT_TYPES:
            return None  # a read receipt or an abuse report
        return _plain_text(message, trusted=True)
    recipients = _dsn_recipients(blocks)
    if not recipients:
        return None  # every recipient was delivered, relayed or expanded
    message_id, subject = _original(parts)
    return _bounce("delivery-status", recipients, message_id, subject)


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The status part's field blocks (per-message first, then one per recipient).

    Read from the part's regenerated body rather than the parser's blocks: those exist only
    for an unencoded message/delivery-status, and a global one or a base64 one is common."""
    data = part.as_bytes()
    body = data.partition(b"\n\n")[2]
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        body = base64.b64decode(body, validate=False)
    elif encoding == "quoted-printable":
        body = quopri.decodestring(body)
    return _parse_blocks(body[: MAX_TEXT * 4].decode("utf-8", errors="replace"))


def _parse_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = [{}]
    name = ""
    for line in text[:MAX_TEXT].splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        if line[0] in " \t" and name:
            blocks[-1][name] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if match:
            name = match.group(1).lower()
            blocks[-1].setdefault(name, match.group(2).strip())
    return [b for b in blocks if b]


def _dsn_recipients(blocks: list[dict[str, str]]) -> list[FailedRecipient]:
    found: list[FailedRecipient] = []
    for block in blocks[:MAX_RECIPIENTS]:
        address = _typed_address(block.get("original-recipient")) or _typed_address(
            block.get("final-recipient")
        )
        if address is None:
            continue
        recipient = _recipient(
            address,
            block.get("status", ""),
            block.get("action", "").strip().lower(),
            _strip_type(block.get("diagnostic-code", "")),
        )
        if recipient is not None:
            found.append(recipient)
    return found


def _typed_address(value: str | None) -> str | None:
    """``rfc822; ana@x`` → ``ana@x``; None when no address is there."""
    if not value:
        return None
    match = _ADDRESS_ONLY.fullmatch(_strip_type(value))
    return match.group(1).lower() if match else None


def _strip_type(value: str) -> str:
    """Drop the ``rfc822;`` / ``smtp;`` type of an RFC 3464 field."""
    kind, separator, rest = value.partition(";")
    return rest.strip() if separator and " " not in kind.strip() else value.strip()


def _recipient(address: str, status: str, action: str, diagnostic: str) -> FailedRecipient | None:
    """A failed or delayed recipient; None for one that was delivered, relayed or expanded."""
    code = _STATUS.search(status) or _STATUS.search(diagnostic)
    if action not in (PERMANENT, DELAYED):
        if action or code is None or code.group(1) == "2":
            return None  # "delivered", "relayed", "expanded", or nothing to go by
        action = PERMANENT if code.group(1) == "5" else DELAYED
    if code is not None and code.group(1) != "2":
        text = code.group(0)
    else:
        text = "5.0.0" if action == PERMANENT else "4.0.0"
    return FailedRecipient(address, text, action, _fold(diagnostic)[:MAX_DIAGNOSTIC])


def _original(parts: list[Message]) -> tuple[str | None, str | None]:
    """(Message-ID, Subject) of the returned original, if the report carries it."""
    for part in parts:
        ctype = part.get_content_type()
        if ctype not in _ORIGINAL_TYPES:
            continue
        headers = _original_headers(part, ctype)
        if headers is not None and headers.keys():
            return _message_id(headers.get("message-id")), _subject(headers.get("subject"))
    return None, None


def _original_headers(part: Message, ctype: str) -> Message | None:
    if ctype == "text/rfc822-headers":
        return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(_text(part))
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return None
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64" and not inner.keys():  # parsed as a header-less body: decode it
        data = base64.b64decode(inner.as_bytes()[:MAX_BYTES])
        return email.message_from_bytes(data, policy=email.policy.compat32)
    return inner


# --- plain-text notices ----------------------------------------------------------------------


def _plain_text(message: Message, *, trusted: bool = False) -> Bounce | None:
    if not trusted and not _looks_like_a_bounce(message):
        return None
    text = _first_text(message)
    notice = _NOTICE.search(text)
    failed_header = str(message.get("x-failed-recipients", ""))
    if notice is None and not failed_header:
        return None
    start = notice.start() if notice else 0
    copy = _COPY.search(text, start)
    region = text[start : copy.start() if copy else len(text)]
    delayed = _DELAYED.search(region) is not None
    recipients = _text_recipients(region, delayed) or _header_recipients(failed_header, delayed)
    if not recipients:
        return None
    message_id, subject = _original(list(_parts(message)))
    if message_id is None and copy is not None:
        message_id, subject = _copied_headers(text[copy.end() :])
    if message_id is None:  # no marked copy (Domino quotes the id after its notice)
        message_id, found = _header_lines(text)
        subject = subject or found
    return _bounce("plain-text", recipients, message_id, subject)


def _looks_like_a_bounce(message: Message) -> bool:
    sender = str(message.get("from", ""))
    return bool(
        _ROBOT_SENDER.search(sender)
        or _DELIVERY_NAME.search(sender.partition("<")[0])
        or str(message.get("return-path", "")).strip() == "<>"
        or message.get("x-failed-recipients") is not None
        or _BOUNCE_SUBJECT.match(_subject(message.get("subject")) or "")
    )


def _text_recipients(region: str, delayed: bool) -> list[FailedRecipient]:
    """Recipients named in a notice, each with the text up to the next one as diagnostic."""
    for pattern in (_LINE_ADDRESS, _BARE_ADDRESS, _INLINE_ADDRESS):
        matches = list(pattern.finditer(region))
        if matches:
            break
    else:
        return []
    blocks: dict[str, str] = {}
    for index, match in enumerate(matches[: MAX_RECIPIENTS * 4]):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(region)
        address = match.group(1).lower()
        blocks[address] = blocks.get(address, "") + "\n" + region[match.end() : end]
    found = []
    for address, block in list(blocks.items())[:MAX_RECIPIENTS]:
        diagnostic = _diagnostic(block)
        status = _status_of(diagnostic) or _status_of(block)
        if status.startswith("2"):
            continue  # a success notice ("delivered to mailbox: 250 2.0.0 Ok")
        action = DELAYED if delayed and not status.startswith("5") else PERMANENT
        if status.startswith("4"):
            action = DELAYED
        recipient = _recipient(address, status, action, diagnostic)
        if recipient is not None:
            found.append(recipient)
    return found


def _status_of(text: str) -> str:
    """An enhanced status code, else one made from a 4xx/5xx SMTP reply code, else ""."""
    code = _STATUS.search(text)
    if code is not None:
        return code.group(0)
    reply = _SMTP_CODE.search(text)
    return f"{reply.group(1)}.0.0" if reply else ""


def _diagnostic(block: str) -> str:
    """The line holding the remote server's reply (with its continuation), else the block."""
    lines = block.strip().splitlines()
    for pattern in (_STATUS, _SMTP_CODE):
        for index, line in enumerate(lines):
            if pattern.search(line):
                following = []
                for extra in lines[index + 1 :]:
                    if not extra.startswith((" ", "\t")) or not extra.strip():
                        break
                    following.append(extra)
                return _fold(" ".join([line, *following]))
    return _fold(block)


def _header_recipients(value: str, delayed: bool) -> list[FailedRecipient]:
    """Exim's X-Failed-Recipients, when the notice itself names nobody we can read."""
    action = DELAYED if delayed else PERMANENT
    found = []
    for item in value.split(",")[:MAX_RECIPIENTS]:
        match = _ADDRESS_ONLY.fullmatch(item.strip())
        recipient = _recipient(match.group(1).lower(), "", action, "") if match else None
        if recipient is not None:
            found.append(recipient)
    return found


def _copied_headers(text: str) -> tuple[str | None, str | None]:
    """Message-ID and Subject from the header section of the copy a notice quotes inline."""
    lines = text[:MAX_TEXT].split("\n")[1:]  # the rest of the marker line is no header
    while lines and not lines[0].strip():
        lines.pop(0)
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    section = "\n".join(lines[:end])
    headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(section)
    if headers.get("message-id") is not None:
        return _message_id(headers.get("message-id")), _subject(headers.get("subject"))
    return _header_lines(section)  # indented or otherwise mangled: look line by line


def _header_lines(text: str) -> tuple[str | None, str | None]:
    """The first ``Message-ID:`` and ``Subject:`` lines of ``text``, indented or not."""
    message_id = subject = None
    for match in _HEADER_LINE.finditer(text):
        if match.group(1).lower() == "message-id":
            message_id = message_id or _message_id(match.group(2))
        else:
            subject = subject or _subject(match.group(2))
        if message_id and subject:
            break
    return message_id, subject


# --- shared ------------------------------------------------------------------------------------


def _bounce(
    kind: str,
    recipients: list[FailedRecipient],
    message_id: str | None,
    subject: str | None,
) -> Bounce:
    return Bounce(
        kind=kind,
        recipients=tuple(recipients),
        original_message_id=message_id,
        original_subject=subject,
        permanent=any(r.action == PERMANENT for r in recipients),
    )


def _parts(message: Message) -> Iterator[Message]:
    """The MIME parts, depth first, at most MAX_PARTS (message/rfc822 not entered)."""
    stack = [message]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _first_text(message: Message) -> str:
    """The first text/plain part outside the returned original, decoded, capped."""
    for part in _parts(message):
        if part.get_content_type() == "text/plain":
            return _text(part)
    return ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):  # a multipart or message/* part: no text of its own
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload[: MAX_TEXT * 4].decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        text = payload[: MAX_TEXT * 4].decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_TEXT]


def _message_id(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    match = _MESSAGE_ID.search(text)
    if match:
        return match.group(1)
    token = text.strip()
    return token if token and not any(c.isspace() for c in token) else None


def _subject(value: object) -> str | None:
    if value is None:
        return None
    # A Header (compat32's form of raw 8-bit) keeps its bytes, which str() would lose.
    header = value if isinstance(value, email.header.Header) else str(value)
    try:
        text = "".join(
            _chunk(data, charset) for data, charset in email.header.decode_header(header)
        )
    except Exception:  # a broken encoded word: keep the raw text
        text = str(value)
    return _fold(text) or None


def _chunk(data: bytes | str, charset: str | None) -> str:
    """One decoded piece of a header: raw 8-bit is UTF-8 when it can be, else Latin-1."""
    if isinstance(data, str):
        return data
    if charset is None or charset == "unknown-8bit":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
