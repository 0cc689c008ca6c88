"""MIME bytes → ``ParsedMail``: decoded headers, readable body text, attachments.

Pure: no I/O. A mail that cannot be read at all raises ``UnparseableMail`` with a
machine-readable reason; everything else degrades, and every fallback is recorded in
``defects`` (short notes such as ``charset-unknown:x-foo`` or ``header:malformed-line``):

- a byte-order mark or blank lines before the headers are dropped, obsolete ``Name  :``
  headers repaired, and a stray non-header line skipped when headers follow it;
- text is decoded as ``decoding`` explains (charset supersets, detection, never raises);
- a From whose display name is malformed still yields its ``<address>``;
- MIME structure the parser did not split (boundary missing or wrong, or inside a text part)
  is walked as a multipart, and uuencode / yEnc / base64 blocks pasted into text become
  attachments (``blocks``), so neither ever reaches ``body_text``;
- HTML becomes text within a time and size budget (``htmltext``).

The MIME tree is parsed with ``policy.compat32``: it is ~5x faster than ``policy.default``
and its header access never raises. ``policy.default``'s strict header parser is used only
for From and Reply-To, inside a guard. A forwarded ``message/rfc822`` part is listed as an
attachment named after its subject and its text is appended to ``body_text`` under
``FORWARD_MARKER`` (except inside a ``multipart/report`` bounce, where it is the returned
original, not the client's words).
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message

from maildesk.inbound import quotes
from maildesk.inbound.blocks import extract_blocks
from maildesk.inbound.decoding import decode_bytes, decode_header_value, raw_header_text
from maildesk.inbound.htmltext import html_to_text


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None  # without angle brackets, None when the header is absent/empty
    in_reply_to: tuple[str, ...]  # message ids without angle brackets
    references: tuple[str, ...]
    subject: str  # decoded (RFC 2047), whitespace folded
    from_address: str  # lower-cased addr-spec, "" when missing/unreadable
    from_name: str  # decoded display name, "" when none
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None  # aware; None when absent/unparseable
    return_path: str | None  # None: header absent; "": null return path "<>"
    headers: tuple[tuple[str, str], ...]  # all headers, decoded, in order (name as written)
    content_type: str  # top-level, e.g. "multipart/report"
    body_text: str  # text/plain, or HTML converted to text
    body_html: str | None  # first text/html part if any
    clean_text: str  # body_text without quoted history, signatures, legal footers
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]  # short machine-readable notes (e.g. "charset-unknown:x-foo")
    raw_size: int
    sha256: str  # hex digest of the raw bytes
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def header(self, name: str) -> str | None:
        """First header with this name (case-insensitive), decoded; None when absent."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_all(self, name: str) -> tuple[str, ...]:
        lowered = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == lowered)


class UnparseableMail(Exception):
    """The raw bytes are not a mail we can read at all."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


FORWARD_MARKER = quotes.FORWARD_MARKER

_MAX_DEPTH = 16
_SNIFF_BYTES = 1024
_BOM = b"\xef\xbb\xbf"
_SPACES = b" \t\r\n\x0b\x0c"
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_STRICT_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_OBS_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]+:")
_ODD_HEADER_LINE = re.compile(rb"\n(?![\x21-\x39\x3b-\x7e]+:|[ \t])")
_KNOWN_FIELD = re.compile(
    rb"(?i)(?:from|sender|to|cc|subject|date|message-id|mime-version|content-[a-z-]+|reply-to"
    rb"|in-reply-to|references|return-path|received|x-[\x21-\x39\x3b-\x7e]+)[ \t]*:"
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<\s*([^<>\s]+)\s*>")
# No controls and no lone surrogates (the strict parser's output for an unknown charset).
_ADDR_CHARS = r"[^\s<>(),;:\"@\[\]\x00-\x1f\x7f\ud800-\udfff]+"
_ADDR_SPEC = re.compile(_ADDR_CHARS + "@" + _ADDR_CHARS)
_ANGLE = re.compile(r"<([^<>]*)>")
_DISPLAY_JUNK = re.compile(r'["\\]+')
_PATH_SEP = re.compile(r"[\\/]")
_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f]")
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_SIMPLE_MAILBOX = re.compile(
    r'\s*(?:"([^"\\]*)"|([^"<>@,;:\\()\[\]]*?))\s*<([^<>\s]+)>\s*|\s*([^<>\s"]+)\s*'
)
_FORWARD_TYPES = ("message/rfc822", "message/global")
_UUENCODED = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)", re.MULTILINE)
# A MIME delimiter line followed by part headers that include a Content-* one: the text is
# a multipart whose boundary the parser did not know (missing, wrong or a lost header).
_EMBEDDED_PART = re.compile(
    rb"^--([^\s\"\\]{1,200})[ \t]*\r?\n(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*?"
    rb"content-(?:type|transfer-encoding|disposition)[ \t]*:",
    re.MULTILINE | re.IGNORECASE,
)
_MIME_PREAMBLE = re.compile(r"(?i)\A[^\n]*\bMIME\b[^\n]*\Z")


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes; raise ``UnparseableMail`` only when they are not a mail."""
    defects: list[str] = []
    data = _strip_leading(_cr_line_ends(raw, defects), defects)
    _sniff(data)
    try:
        data = _repair_header_section(data, defects)
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        if not message.keys():
            raise UnparseableMail("no-headers", "parser found no header section")
        return _build(message, raw, defects)
    except UnparseableMail:
        raise
    except Exception as exc:  # a parser bug on hostile input: quarantine it, never crash intake
        raise UnparseableMail("parser-error", f"{type(exc).__name__}: {exc}") from exc


def _cr_line_ends(raw: bytes, defects: list[str]) -> bytes:
    """Classic Mac line ends (CR alone): read each CR as a line break."""
    head = raw[:_SNIFF_BYTES]
    if b"\n" in head or b"\r" not in head:
        return raw
    defects.append("line-ends:cr-only")
    return raw.replace(b"\r", b"\r\n")


def _strip_leading(raw: bytes, defects: list[str]) -> bytes:
    """Drop a UTF-8 byte-order mark and blank lines or spaces before the first header."""
    data = raw
    while True:
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
            defects.append("body:bom")
        elif data[:1].isspace():
            data = data.lstrip(_SPACES)
            defects.append("body:leading-whitespace")
        else:
            return data


def _repair_header_section(data: bytes, defects: list[str]) -> bytes:
    """Make the header section readable for ``compat32``, which stops at the first odd line.

    ``Name  : value`` (obsolete syntax) becomes ``Name: value`` (compat32 reads ``From  :``
    as an mbox envelope line and any other ``Name :`` as the start of the body). A line
    that is no header is dropped when a well-known header follows it before the blank line;
    otherwise it is where the body starts, as the parser would read it.
    """
    end = _HEADER_END.search(data)
    header = data[: end.start()] if end else data
    if _STRICT_FIELD.match(header) and not _ODD_HEADER_LINE.search(header):
        return data  # the common case: nothing to repair
    lines = header.split(b"\n")
    kept: list[bytes] = []
    if lines[0].startswith(b"From ") and not _OBS_FIELD.match(lines[0]):
        kept.append(lines.pop(0))  # mbox envelope line
    for index, line in enumerate(lines):
        obs = _OBS_FIELD.match(line)
        if _STRICT_FIELD.match(line) or line[:1] in (b" ", b"\t"):
            kept.append(line)
        elif obs:
            kept.append(obs.group(1) + b":" + line[obs.end() :])
            defects.append("header:obs-syntax")
        elif any(_KNOWN_FIELD.match(later) for later in lines[index + 1 :]):
            defects.append("header:malformed-line")
        else:
            kept.extend(lines[index:])
            break
    repaired = b"\n".join(kept)
    return repaired + data[end.start() :] if end else repaired


def _sniff(raw: bytes) -> None:
    """Reject bytes that are not a mail: empty, binary, or not starting with a header line."""
    if not raw.strip():
        raise UnparseableMail("empty", f"{len(raw)} bytes")
    head = raw[:_SNIFF_BYTES]
    end = _HEADER_END.search(head)
    header = head[: end.start()] if end else head  # a binary body is fine, binary headers not
    controls = len(_CONTROL_BYTE.findall(header))
    if controls * 20 > len(header):
        raise UnparseableMail("binary", f"{controls} control bytes in the first {len(header)}")
    lines = header.split(b"\n", 8)
    if lines[0].startswith(b"From ") and len(lines) > 1:
        lines = lines[1:]  # mbox envelope line
    first = lines[0]
    # A malformed first line is forgiven when well-known header lines follow it (the
    # repair drops it): mail from a broken client, not prose.
    if not _HEADER_LINE.match(first) and not any(_KNOWN_FIELD.match(x) for x in lines[1:6]):
        raise UnparseableMail("no-headers", f"first line {first[:40]!r}")


@dataclass
class _Parts:
    """What one walk over a MIME tree found (mutable, private to parsing)."""

    plain: str | None = None
    html: str | None = None
    forwards: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _build(message: Message, raw: bytes, defects: list[str]) -> ParsedMail:
    headers: list[tuple[str, str]] = []
    first_raw: dict[str, str] = {}
    for name, value in message.raw_items():
        decoded = decode_header_value(str(value))
        headers.append((name, decoded.text))
        first_raw.setdefault(name.lower(), str(value))
        defects.extend(f"header:{name.lower()}:{d}" for d in decoded.defects)

    subject = _fold(_decoded(first_raw.get("subject")))
    sender = _first_address("from", first_raw.get("from"), defects)
    reply_to = _first_address("reply-to", first_raw.get("reply-to"), defects)
    to = _address_list(_all_headers(message, "to"), defects)
    cc = _address_list(_all_headers(message, "cc"), defects)
    date = _date(first_raw.get("date"), defects)
    parts = _Parts()
    _walk(message, parts, depth=0, in_report=False)
    body_text, source = _compose_body(parts)
    defects.extend(parts.defects)

    return ParsedMail(
        message_id=next(iter(_message_ids(first_raw.get("message-id"))), None),
        in_reply_to=_message_ids(first_raw.get("in-reply-to")),
        references=_message_ids(first_raw.get("references")),
        subject=subject,
        from_address=sender[1] if sender else "",
        from_name=sender[0] if sender else "",
        reply_to=reply_to[1] if reply_to else None,
        to=to,
        cc=cc,
        date=date,
        return_path=_return_path(first_raw.get("return-path")),
        headers=tuple(headers),
        content_type=_safe_type(message.get_content_type()),
        body_text=body_text,
        body_html=parts.html,
        clean_text=quotes.clean_reply(body_text, forwarded=quotes.is_forward_subject(subject)),
        attachments=tuple(parts.attachments),
        defects=tuple(dict.fromkeys(defects)),
        raw_size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        extra={"body_source": source},
    )


def _decoded(value: str | None) -> str:
    return decode_header_value(str(value)).text if value is not None else ""


def _fold(text: str) -> str:
    return " ".join(text.split())


def _first_address(name: str, value: str | None, defects: list[str]) -> tuple[str, str] | None:
    """(display name, lower-cased addr-spec) of the first address with an "@", else None."""
    if value is None:
        return None
    text = raw_header_text(str(value)).text
    simple = _SIMPLE_MAILBOX.fullmatch(text)
    spec = simple and (simple.group(3) or simple.group(4))
    if simple and spec and _ADDR_SPEC.fullmatch(spec):
        # "Name <a@b>", '"Name" <a@b>' or "a@b": most real headers, and no need for the
        # strict parser (a third of the parsing time).
        display = simple.group(1) if simple.group(1) is not None else simple.group(2) or ""
        if "=?" in display:
            display = decode_header_value(display).text
        return _fold(display), spec.lower()
    strict, complaints = _strict_first_address(name, text)
    defects.extend(complaints)
    angled = _angled_address(text)
    if strict and (not complaints or angled is None or angled[1] == strict[1]):
        return strict
    if angled is not None:
        # A malformed display name (8-bit bytes, a broken encoded word, an unbalanced quote)
        # misleads the parsers, but the address in angle brackets is what the sender meant.
        defects.append(f"header:{name}:malformed-display-name")
        return angled
    if strict:
        return strict
    for display, spec in email.utils.getaddresses([text]):
        if _ADDR_SPEC.fullmatch(spec):
            return _fold(decode_header_value(display).text), spec.lower()
    bare = _ADDR_SPEC.search(text)
    if bare:
        return "", bare.group(0).lower()
    defects.append(f"header:{name}:no-address")
    return None


def _strict_first_address(name: str, text: str) -> tuple[tuple[str, str] | None, list[str]]:
    """The first valid address by ``policy.default``'s parser, and its complaints."""
    try:
        header = email.policy.default.header_factory(name, text)
        found = [(a.display_name, a.addr_spec) for a in header.addresses]
        complaints = [f"header:{name}:{type(d).__name__}" for d in header.defects]
    except Exception:  # the strict parser chokes on some real-world headers: fall back
        return None, [f"header:{name}:unreadable"]
    for display, spec in found:
        if _ADDR_SPEC.fullmatch(spec):
            # Words inside a quoted string are left encoded, words in a charset Python does
            # not know are decoded to surrogates: both are decoded (again) here.
            return (_fold(decode_header_value(display).text), spec.lower()), complaints
    return None, complaints


def _angled_address(text: str) -> tuple[str, str] | None:
    """The first ``<addr-spec>`` and the text before it as the display name."""
    for match in _ANGLE.finditer(text):
        spec = match.group(1).strip()
        if _ADDR_SPEC.fullmatch(spec):
            display = _DISPLAY_JUNK.sub(" ", text[: match.start()]).strip(" ,;")
            return _fold(decode_header_value(display).text), spec.lower()
    return None


def _address_list(values: list[str], defects: list[str]) -> tuple[str, ...]:
    """Lower-cased addr-specs of To/Cc (cheap parser: lists can be long, names unused)."""
    texts = [raw_header_text(str(v)).text for v in values]
    try:
        pairs = email.utils.getaddresses(texts)
    except Exception:  # getaddresses is lenient, but the input is hostile
        defects.append("header:address-list:unreadable")
        return ()
    return tuple(dict.fromkeys(spec.lower() for _, spec in pairs if _ADDR_SPEC.fullmatch(spec)))


def _message_ids(value: str | None) -> tuple[str, ...]:
    """Ids in angle brackets (junk between them ignored); a lone bare token is accepted."""
    if value is None:
        return ()
    text = raw_header_text(str(value)).text
    found = _MESSAGE_ID.findall(text)
    if found:
        return tuple(dict.fromkeys(found))
    token = text.strip()
    return (token,) if token and not any(c.isspace() for c in token) else ()


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw_header_text(str(value)).text)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("header:date:unparseable")
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    text = raw_header_text(str(value)).text
    match = _ANGLE.search(text)
    return (match.group(1) if match else text).strip().lower()


def _walk(part: Message, parts: _Parts, *, depth: int, in_report: bool) -> None:
    """Collect body texts, attachments and defects from ``part`` and its children."""
    if depth > _MAX_DEPTH:
        parts.defects.append("mime-too-deep")
        return
    try:
        ctype = part.get_content_type()
        payload = part.get_payload()
        if isinstance(payload, list):
            if ctype in _FORWARD_TYPES:
                messages = [p for p in payload if isinstance(p, Message)]
                _message_part(part, messages, parts, depth=depth, in_report=in_report)
            elif part.get_content_maintype() != "message":  # delivery-status etc. are data
                in_report = in_report or ctype == "multipart/report"
                for child in payload:
                    if isinstance(child, Message):
                        _walk(child, parts, depth=depth + 1, in_report=in_report)
        else:
            _leaf(part, ctype, parts, depth=depth, in_report=in_report)
    except Exception as exc:  # one unreadable part must not cost us the rest of the mail
        parts.defects.append(f"part-unreadable:{type(exc).__name__}")
    parts.defects.extend(type(d).__name__ for d in part.defects)


def _leaf(part: Message, ctype: str, parts: _Parts, *, depth: int, in_report: bool) -> None:
    """A single part: the body text/HTML, an attachment, or inline text we do not use."""
    if ctype.startswith("multipart/"):  # boundary missing: the parser left the body as text
        ctype = "text/plain"
    disposition = part.get_content_disposition()
    filename = _filename(part, parts)
    inline_text = ctype.startswith("text/") and disposition != "attachment" and not filename
    if inline_text and _transfer_encoding(part) in _UUENCODED:  # compat32 decodes it: a file
        inline_text = False
        filename = _uu_filename(part)
        parts.defects.append("body:uuencode-part")
    if not inline_text:
        parts.attachments.append(Attachment(filename, _safe_type(ctype), len(_payload(part))))
    elif ctype == "text/plain":
        data = _payload(part)
        if _recover_multipart(data, parts, depth=depth, in_report=in_report):
            return
        if parts.plain is None:
            text = _plain_text(_body_text(part, data, parts), parts)
            parts.plain = text if text.strip() else None
    elif ctype == "text/html" and parts.html is None:
        parts.html = _body_text(part, _payload(part), parts)


def _uu_filename(part: Message) -> str:
    """The file name on the ``begin 644 name`` line of a uuencoded part."""
    payload = part.get_payload()
    found = _UU_BEGIN.search(payload) if isinstance(payload, str) else None
    return _PATH_SEP.split(raw_header_text(found.group(1)).text)[-1] if found else ""


def _transfer_encoding(part: Message) -> str:
    return str(part.get("content-transfer-encoding", "")).strip().lower()


def _safe_type(ctype: str) -> str:
    """A content type fit to store: hostile 8-bit names become application/octet-stream."""
    return ctype if ctype.isascii() and ctype.isprintable() else "application/octet-stream"


def _recover_multipart(data: bytes, parts: _Parts, *, depth: int, in_report: bool) -> bool:
    """Walk MIME structure found in a text part as a multipart; False when there is none."""
    if b"--" not in data:
        return False
    found = _EMBEDDED_PART.search(data)
    if found is None:
        return False
    head = b'Content-Type: multipart/mixed; boundary="' + found.group(1) + b'"\r\n\r\n'
    inner = email.message_from_bytes(head + data, policy=email.policy.compat32)
    if not isinstance(inner.get_payload(), list):
        return False
    parts.defects.append("mime:unparsed-multipart")
    had_text = parts.plain is not None
    _walk(inner, parts, depth=depth + 1, in_report=in_report)
    preamble = _preamble_text(inner, parts)
    if preamble and not had_text:  # words written before the structure are the client's
        if parts.plain is not None:
            parts.plain = f"{preamble}\n\n{parts.plain}"
        elif parts.html is None:
            parts.plain = preamble
    return True


def _preamble_text(message: Message, parts: _Parts) -> str:
    """Text before the first boundary, unless it is the usual "This is a MIME message"."""
    raw = (message.preamble or "").encode("utf-8", "surrogateescape")
    decoded = decode_bytes(raw, None)
    text = _plain_text(_normalize_text(decoded.text), parts)
    if not text or _MIME_PREAMBLE.match(text):
        return ""
    parts.defects.extend(decoded.defects)
    return text


def _plain_text(text: str, parts: _Parts) -> str:
    """The text without pasted files (uuencode, yEnc, base64), which become attachments."""
    extracted = extract_blocks(text)
    if extracted.decoded_base64:
        parts.defects.append("body:base64-undeclared")
        return _normalize_text(extracted.text)
    for block in extracted.blocks:
        parts.attachments.append(Attachment(block.filename, block.content_type, block.size))
        parts.defects.append(f"body:{block.kind}-block")
    return extracted.text


def _payload(part: Message) -> bytes:
    """Transfer-decoded payload bytes (base64 / quoted-printable undone)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _filename(part: Message, parts: _Parts) -> str:
    """Decoded file name (RFC 2231 and RFC 2047), last path component only; "" when none."""
    try:
        name = part.get_filename()
    except Exception:
        parts.defects.append("attachment-filename-unreadable")
        return ""
    if not name:
        return ""
    if "\ufffd" in str(name):  # raw 8-bit bytes in the parameter: read them ourselves
        name = _raw_filename(part) or name
    decoded = decode_header_value(str(name))
    parts.defects.extend(f"filename:{d}" for d in decoded.defects)
    return _CONTROL_CHAR.sub("", _PATH_SEP.split(decoded.text)[-1]).strip()


_RAW_NAME = re.compile(r'(?i)\b(?:file)?name\s*=\s*(?:"([^"]*)"|([^\s;"]+))')


def _raw_filename(part: Message) -> str | None:
    """The file name as sent in 8-bit bytes (compat32 keeps them as surrogate escapes in
    the raw header; its own parameter reader turns them into U+FFFD): UTF-8, else guessed."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        found = _RAW_NAME.search(str(value))
        if found:
            data = (found.group(1) or found.group(2)).encode("utf-8", "surrogateescape")
            return decode_bytes(data, None).text
    return None


def _body_text(part: Message, data: bytes, parts: _Parts) -> str:
    decoded = decode_bytes(data, _charset(part, parts))
    parts.defects.extend(decoded.defects)
    return _normalize_text(decoded.text)


def _charset(part: Message, parts: _Parts) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # an 8-bit or RFC 2231 charset parameter compat32 cannot read
        parts.defects.append("charset-unreadable")
        return None


def _normalize_text(text: str) -> str:
    """LF newlines, no NULs (PostgreSQL rejects them), no trailing spaces, no blank edges."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _TRAILING_SPACE.sub("\n", text).strip().lstrip("\ufeff")


def _message_part(
    part: Message, payload: list[Message], parts: _Parts, *, depth: int, in_report: bool
) -> None:
    """A message/rfc822 part: an attachment, and forwarded text unless it is a bounce."""
    if not payload or not isinstance(payload[0], Message):
        return
    inner = _unwrap_base64(part, payload[0], parts)
    found = _Parts()
    _walk(inner, found, depth=depth + 1, in_report=False)
    subject = _fold(_decoded(_first_header(inner, "subject")))
    filename = _filename(part, parts) or _PATH_SEP.sub("-", subject or "forwarded-message") + ".eml"
    parts.attachments.append(Attachment(filename, part.get_content_type(), _size(inner, parts)))
    parts.attachments.extend(found.attachments)
    if not in_report:
        lines = [FORWARD_MARKER]
        for label in ("From", "Date", "Subject", "To", "Cc"):
            value = _first_header(inner, label)
            if value is not None:
                lines.append(f"{label}: {_fold(_decoded(value))}")
        text, _ = _compose_body(found)
        parts.forwards.append("\n".join(lines) + "\n\n" + text)
    parts.defects.extend(found.defects)


def _unwrap_base64(part: Message, inner: Message, parts: _Parts) -> Message:
    """A base64-encoded message/rfc822 is parsed as a header-less body; decode and reparse."""
    encoding = (_first_header(part, "content-transfer-encoding") or "").strip().lower()
    if encoding != "base64" or inner.keys():
        return inner
    try:
        data = base64.b64decode(inner.as_bytes())
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:
        parts.defects.append("forwarded-base64-unreadable")
        return inner


def _all_headers(message: Message, name: str) -> list[str]:
    """Raw values (8-bit kept as surrogates) of every header called ``name``."""
    lowered = name.lower()
    return [str(v) for k, v in message.raw_items() if k.lower() == lowered]


def _first_header(message: Message, name: str) -> str | None:
    return next(iter(_all_headers(message, name)), None)


def _size(message: Message, parts: _Parts) -> int:
    try:
        return len(message.as_bytes())
    except Exception:
        parts.defects.append("forwarded-size-unknown")
        return 0


def _compose_body(parts: _Parts) -> tuple[str, str]:
    """(body text, where it came from): text/plain, else HTML as text, then forwards."""
    if parts.plain is not None:
        main, source = parts.plain, "text/plain"
    elif parts.html is not None and parts.html.strip():
        main, source = _html_to_text(parts.html, parts), "text/html"
    else:
        main, source = "", "none"
    blocks = [main] if main else []
    blocks.extend(parts.forwards)
    return "\n\n".join(blocks), source


def _html_to_text(markup: str, parts: _Parts) -> str:
    text, defects = html_to_text(markup)
    parts.defects.extend(defects)
    return _BLANK_RUN.sub("\n\n", _normalize_text(text))
