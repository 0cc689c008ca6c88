"""Text decoding for mail bytes and header values that never raises.

Every function returns the best readable text plus short defect notes instead of failing.
Declared charsets are honoured when they fit, read as the superset senders really mean
(gb2312/gbk → gb18030, ks_c_5601-1987/euc-kr → cp949, iso-8859-8-i → iso-8859-8, ...).
Bytes with an unknown, missing or lying label are decoded as UTF-8 when they are (mostly)
UTF-8, as windows-1252 when they look like western text, and otherwise with the charset that
``charset-normalizer`` detects on a capped prefix (recorded as ``charset-guessed:<codec>``).
No returned text contains lone surrogates.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Labels that senders use for "western 8-bit"; decoded as windows-1252 (as browsers do) so
# Outlook's curly quotes and euro signs labelled iso-8859-1 come out right.
_WESTERN = frozenset({"latin-1", "iso8859-1", "cp1252"})

# Codec (after Python's own alias lookup) → the superset that real senders mean, as browsers
# read them: text labelled gb2312 is often GBK or GB18030, euc-kr is often cp949, and so on.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
}
# Labels Python does not know under any spelling.
_LABEL_ALIASES = {
    "windows-874": "cp874",
    "windows-31j": "cp932",
    "windows-936": "gb18030",
    "windows-949": "cp949",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "utf8mb4": "utf-8",
}
# Text codecs that are not mail charsets and could turn bytes into anything (lone surrogates).
_REFUSED = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"})
# Codecs whose decoder can emit lone surrogates even in strict/replace mode.
_SURROGATE_PRONE = frozenset({"utf-7"})
# iso-8859-8-i / iso-8859-6-e: "logical"/"explicit" bidi ordering marks of the same bytes.
_BIDI_SUFFIX = re.compile(r"(iso[-_]?8859[-_]\d+)[-_][ie]")

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\r\n]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_ONLY_SPACE = re.compile(r"[ \t\r\n]*")
_SPACE = re.compile(rb"[ \t]+")
_SURROGATE = re.compile("[\ud800-\udfff]")

_ASCII = bytes(range(128))
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WESTERN_HIGH_SHARE = 0.25  # western languages: at most ~1 letter in 10 is accented
_MAX_LABEL = 40
_DETECT_BYTES = 16 * 1024  # charset-normalizer is slow: it sees at most this much


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    defects: tuple[str, ...] = ()


def guess_decode(data: bytes) -> Decoded:
    """Bytes of unknown encoding: (mostly) UTF-8, else western 8-bit, else a detected charset.

    A detected charset is noted as ``charset-guessed:<codec>``.
    """
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    lossy = data.decode("utf-8", "replace")
    bad = lossy.count("\ufffd")
    good = len(lossy) - len(lossy.encode("ascii", "ignore")) - bad
    if good > bad:
        return Decoded(lossy)
    if not _looks_western(data):
        detected = _detect(data)
        if detected is not None:
            text = scrub_surrogates(data.decode(detected, "replace"))
            return Decoded(text, (f"charset-guessed:{detected}",))
    try:
        return Decoded(data.decode("cp1252"))
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"))


def _looks_western(data: bytes) -> bool:
    """Few 8-bit bytes among the letters: accents in a Latin-script text, not another script."""
    high = len(data.translate(None, _ASCII))
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    return high <= _WESTERN_HIGH_SHARE * (high + letters)


def _detect(data: bytes) -> str | None:
    """Codec name charset-normalizer finds for a capped prefix (cut at a line end), or None."""
    sample = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES and b"\n" in sample:
        sample = sample.rsplit(b"\n", 1)[0]
    return _detect_sample(sample)


@functools.lru_cache(maxsize=64)  # a mail's 8-bit From/Subject are decoded more than once
def _detect_sample(sample: bytes) -> str | None:
    try:
        best = from_bytes(sample).best()
    except Exception:  # a detector bug must not cost us the mail
        return None
    if best is None:
        return None
    return _codec_name(best.encoding)


def scrub_surrogates(text: str) -> str:
    """Replace lone surrogates (from a permissive codec) with U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _clean_label(charset: str | None) -> str:
    """Lower-cased charset label without quotes and RFC 2231 language ("utf-8*en").

    Characters no charset name has (8-bit bytes, controls) become "?", so the label can be
    shown in a defect note; the length is capped for the same reason.
    """
    label = (charset or "").strip().strip("\"'").strip().lower().split("*", 1)[0]
    if not (label.isascii() and label.isprintable()):
        label = "".join(c if c.isascii() and c.isprintable() else "?" for c in label)
    return label[:_MAX_LABEL]


@functools.lru_cache(maxsize=512)
def _codec_name(label: str) -> str | None:
    """Python codec for a charset label (aliases and supersets applied), None if unknown."""
    label = _LABEL_ALIASES.get(label, label)
    bidi = _BIDI_SUFFIX.fullmatch(label)
    if bidi:
        label = bidi.group(1)
    for candidate in (label, label.removeprefix("x-")):
        try:
            name = codecs.lookup(_LABEL_ALIASES.get(candidate, candidate)).name
        except (LookupError, ValueError, UnicodeError):
            continue
        return None if name in _REFUSED else _SUPERSETS.get(name, name)
    return None


def decode_bytes(data: bytes, charset: str | None) -> Decoded:
    """Decode a body or header chunk with its declared charset, falling back when it lies."""
    label = _clean_label(charset)
    if not label:
        if data.isascii():
            return Decoded(data.decode("ascii"))
        try:
            return Decoded(data.decode("utf-8"))
        except UnicodeDecodeError:
            return _with_defect(guess_decode(data), "charset-missing")
    name = _codec_name(label)
    if name is None:
        return _with_defect(guess_decode(data), f"charset-unknown:{label}")
    if name == "ascii":
        if data.isascii():
            return Decoded(data.decode("ascii"))
        return _with_defect(guess_decode(data), f"charset-mislabelled:{label}")
    if name in _WESTERN:
        if not data.isascii():
            try:  # UTF-8 labelled latin-1 (a common mislabel): valid UTF-8 is never an accident
                return Decoded(data.decode("utf-8"), (f"charset-mislabelled:{label}",))
            except UnicodeDecodeError:
                pass
        try:
            return Decoded(data.decode("cp1252"))
        except UnicodeDecodeError:
            return Decoded(data.decode("latin-1"))
    return decode_bytes_strict(data, name, label)


def _with_defect(decoded: Decoded, defect: str) -> Decoded:
    return Decoded(decoded.text, (defect, *decoded.defects))


def decode_bytes_strict(data: bytes, name: str, label: str) -> Decoded:
    """Decode with a known codec; on failure guess and note the mislabel."""
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        return _with_defect(guess_decode(data), f"charset-mislabelled:{label}")
    except (LookupError, ValueError, TypeError):  # not a text codec ("hex", "rot13", ...)
        return _with_defect(guess_decode(data), f"charset-unknown:{label}")
    return Decoded(scrub_surrogates(text) if name in _SURROGATE_PRONE else text)


def _decode_8bit(value: str) -> Decoded:
    """Text parsed from bytes (8-bit kept as surrogates) → real text: UTF-8, else a guess."""
    if value.isascii():
        return Decoded(value)
    data = value.encode("utf-8", "surrogateescape")
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        guessed = guess_decode(data)
        return Decoded(guessed.text, ("8bit-not-utf8", *guessed.defects))


def _unfold(value: str) -> str:
    return _LINE_BREAKS.sub("", _FOLD.sub("", value)).replace("\x00", "").strip()


def raw_header_text(value: str) -> Decoded:
    """A header value as parsed from bytes (8-bit kept as surrogates) → unfolded text, no NULs."""
    decoded = _decode_8bit(value)
    return Decoded(_unfold(decoded.text), decoded.defects)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    data = payload.encode("utf-8", "surrogateescape")
    try:
        if encoding in "bB":
            data = _SPACE.sub(b"", data)  # a word folded inside its payload
            return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


class _WordJoiner:
    """Decodes runs of adjacent encoded words in one charset as one byte string."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.defects: list[str] = []
        self.pending = bytearray()
        self.charset = ""
        self.eight_bit = False  # a word carried raw 8-bit bytes instead of =XX escapes

    def literal(self, text: str) -> None:
        self.flush()
        decoded = _decode_8bit(text)
        self.out.append(decoded.text)
        self.defects.extend(decoded.defects)

    def word(self, charset: str, data: bytes, eight_bit: bool) -> None:
        if charset != self.charset:
            self.flush()
        self.charset = charset
        self.pending.extend(data)
        self.eight_bit = self.eight_bit or eight_bit

    def flush(self) -> None:
        if self.pending:
            data = bytes(self.pending)
            decoded = _eight_bit_word(data) if self.eight_bit else None
            if decoded is None:
                decoded = decode_bytes(data, self.charset)
            self.out.append(decoded.text)
            self.defects.extend(decoded.defects)
            self.pending.clear()
        self.charset = ""
        self.eight_bit = False

    def result(self) -> Decoded:
        self.flush()
        return Decoded("".join(self.out), tuple(dict.fromkeys(self.defects)))


def _eight_bit_word(data: bytes) -> Decoded | None:
    """Raw 8-bit bytes inside an encoded word: when they are UTF-8 they are UTF-8, whatever
    the label says (reading them with the label again gives "FrÃ¶sche")."""
    try:
        return Decoded(data.decode("utf-8"), ("encoded-word-8bit",))
    except UnicodeDecodeError:
        return None


def decode_words(value: str) -> Decoded:
    """Decode RFC 2047 encoded words anywhere in ``value`` (lenient, like common MUAs).

    Adjacent words separated only by whitespace are joined, and consecutive words in the same
    charset are decoded together so a multibyte character split across words survives. Text
    outside the words may still carry raw 8-bit bytes as surrogates; it is decoded too.
    """
    if "=?" not in value:
        return _decode_8bit(value)
    joiner = _WordJoiner()
    last_end = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[last_end : match.start()]
        charset, encoding, payload = match.groups()
        data = _word_bytes(encoding, payload)
        last_end = match.end()
        if data is None:
            joiner.literal(gap + match.group(0))
            joiner.defects.append("encoded-word-invalid")
            after_word = False
            continue
        if not (after_word and _ONLY_SPACE.fullmatch(gap)):
            joiner.literal(gap)
        joiner.word(_clean_label(charset), data, not payload.isascii())
        after_word = True
    joiner.literal(value[last_end:])
    return joiner.result()


def decode_header_value(value: str) -> Decoded:
    """Raw header value → readable text: 8-bit bytes, folding and encoded words handled."""
    if "=?" not in value:
        return raw_header_text(value)
    # Encoded words are found before 8-bit bytes are decoded, so bytes inside a word are read
    # once, with the word's charset (or as UTF-8), not first guessed and then re-decoded.
    return decode_words(_unfold(value))
