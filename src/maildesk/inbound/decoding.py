"""Text decoding for mail bytes and header values that never raises.

Every function returns the best readable text plus short defect notes instead of failing:
declared charsets are honoured when they fit, otherwise UTF-8 / windows-1252 / latin-1 guesses.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

# Labels that senders use for "western 8-bit"; decoded as windows-1252 (as browsers do) so
# Outlook's curly quotes and euro signs labelled iso-8859-1 come out right.
_WESTERN = frozenset({"latin-1", "iso8859-1", "cp1252"})

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_ONLY_SPACE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    defects: tuple[str, ...] = ()


def guess_decode(data: bytes) -> str:
    """Bytes of unknown encoding: UTF-8 if valid or mostly valid, else windows-1252/latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lossy = data.decode("utf-8", "replace")
    bad = lossy.count("\ufffd")
    good = len(lossy) - len(lossy.encode("ascii", "ignore")) - bad
    if good > bad:
        return lossy
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _codec_name(label: str) -> str | None:
    for candidate in (label, label.removeprefix("x-")):
        try:
            return codecs.lookup(candidate).name
        except (LookupError, ValueError, UnicodeError):
            continue
    return None


def decode_bytes(data: bytes, charset: str | None) -> Decoded:
    """Decode a body or header chunk with its declared charset, falling back when it lies."""
    label = (charset or "").strip().strip("\"'").lower().split("*", 1)[0]
    if not label:
        if data.isascii():
            return Decoded(data.decode("ascii"))
        try:
            return Decoded(data.decode("utf-8"))
        except UnicodeDecodeError:
            return Decoded(guess_decode(data), ("charset-missing",))
    name = _codec_name(label)
    if name is None:
        return Decoded(guess_decode(data), (f"charset-unknown:{label}",))
    if name == "ascii":
        if data.isascii():
            return Decoded(data.decode("ascii"))
        return Decoded(guess_decode(data), (f"charset-mislabelled:{label}",))
    if name in _WESTERN:
        try:
            return Decoded(data.decode("cp1252"))
        except UnicodeDecodeError:
            return Decoded(data.decode("latin-1"))
    return decode_bytes_strict(data, name, label)


def decode_bytes_strict(data: bytes, name: str, label: str) -> Decoded:
    """Decode with a known codec; on failure guess and note the mislabel."""
    try:
        return Decoded(data.decode(name))
    except UnicodeDecodeError:
        return Decoded(guess_decode(data), (f"charset-mislabelled:{label}",))
    except (LookupError, ValueError, TypeError):  # not a text codec ("hex", "rot13", ...)
        return Decoded(guess_decode(data), (f"charset-unknown:{label}",))


def raw_header_text(value: str) -> Decoded:
    """A header value as parsed from bytes (8-bit kept as surrogates) → unfolded text, no NULs."""
    defects: tuple[str, ...] = ()
    if not value.isascii():
        data = value.encode("utf-8", "surrogateescape")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            value = guess_decode(data)
            defects = ("8bit-not-utf8",)
    value = _LINE_BREAKS.sub("", _FOLD.sub("", value)).replace("\x00", "")
    return Decoded(value.strip(), defects)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    data = payload.encode("utf-8", "surrogateescape")
    try:
        if encoding in "bB":
            return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> Decoded:
    """Decode RFC 2047 encoded words anywhere in ``value`` (lenient, like common MUAs).

    Adjacent words separated only by whitespace are joined, and consecutive words in the same
    charset are decoded together so a multibyte character split across words survives.
    """
    if "=?" not in value:
        return Decoded(value)
    out: list[str] = []
    defects: list[str] = []
    pending = bytearray()
    pending_charset = ""
    last_end = 0
    after_word = False

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            decoded = decode_bytes(bytes(pending), pending_charset)
            out.append(decoded.text)
            defects.extend(decoded.defects)
            pending.clear()
        pending_charset = ""

    for match in _ENCODED_WORD.finditer(value):
        gap = value[last_end : match.start()]
        charset, encoding, payload = match.groups()
        data = _word_bytes(encoding, payload)
        if data is None:
            flush()
            out.append(gap + match.group(0))
            defects.append("encoded-word-invalid")
            last_end = match.end()
            after_word = False
            continue
        adjacent = after_word and _ONLY_SPACE.fullmatch(gap) is not None
        if not adjacent or charset.lower() != pending_charset:
            flush()
            if not adjacent:
                out.append(gap)
        pending_charset = charset.lower()
        pending.extend(data)
        last_end = match.end()
        after_word = True
    flush()
    out.append(value[last_end:])
    return Decoded("".join(out), tuple(dict.fromkeys(defects)))


def decode_header_value(value: str) -> Decoded:
    """Raw header value → readable text: 8-bit bytes, folding and encoded words handled."""
    raw = raw_header_text(value)
    words = decode_words(raw.text)
    return Decoded(words.text, raw.defects + words.defects)
