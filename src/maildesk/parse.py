"""MIME bytes → ``ParsedMail``: decoded headers, readable body text, attachments.

Pure: no I/O. A mail that cannot be read at all raises ``UnparseableMail`` with a
machine-readable reason; everything else degrades (unknown charsets are decoded with
replacement and recorded in ``defects``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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


def parse_mail(raw: bytes) -> ParsedMail:
    raise NotImplementedError  # implemented by the parsing work
