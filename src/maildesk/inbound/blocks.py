"""Files pasted into plain text: uuencode, yEnc and base64 blocks.

Old clients, gateways and some scanners put files into the text itself instead of a MIME
part. ``extract_blocks`` cuts such blocks out of a text and describes each as a file (name,
content type, decoded size) so the parser can list it as an attachment. A text that is
nothing but one base64 block of readable UTF-8 (a lost Content-Transfer-Encoding) is
returned decoded instead. Pure and cheap for ordinary text: each kind is looked for only
when its marker occurs.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass

_UUENCODE = re.compile(r"^begin [0-7]{3,4} ([^\n]*)\n((?:[^\n]*\n)*?)end[ \t]*$", re.MULTILINE)
_UU_LINE = re.compile(r"[\x20-\x60]{0,62}")  # trailing spaces may have been trimmed
_UU_BASE64 = re.compile(r"^begin-base64 [0-7]{3,4} ([^\n]*)\n((?:[^\n]*\n)*?)====[ \t]*$", re.M)
_YENC = re.compile(r"^=ybegin ([^\n]*)\n((?:[^\n]*\n)*?)=yend[^\n]*$", re.MULTILINE)
_YENC_SIZE = re.compile(r"\bsize=(\d+)")
_YENC_NAME = re.compile(r"\bname=(.*)$")
_YPART = re.compile(r"\A=ypart begin=(\d+) end=(\d+)")
# Encoders write fixed-width lines (60, 64, 72, 76): three full lines and a last one.
_BASE64_RUN = re.compile(r"^(?:[A-Za-z0-9+/]{40,100}\n){3,}[A-Za-z0-9+/]*={0,2}$", re.MULTILINE)
_PATH_SEP = re.compile(r"[\\/]")
_BLANK_RUN = re.compile(r"\n{3,}")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MAGIC = (
    (b"%PDF", "application/pdf", "pdf"),
    (b"\x89PNG", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF8", "image/gif", "gif"),
    (b"PK\x03\x04", "application/zip", "zip"),
)


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "uuencode", "yenc", "base64"
    filename: str
    content_type: str
    size: int  # decoded bytes


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str  # the text without the blocks
    blocks: tuple[Block, ...]
    decoded_base64: bool = False  # the whole text was one base64 block of readable text


def extract_blocks(text: str) -> Extracted:
    """Cut encoded files out of ``text`` (LF line ends)."""
    whole = _whole_base64_text(text)
    if whole is not None:
        return Extracted(whole, (), decoded_base64=True)
    blocks: list[Block] = []
    if "begin " in text:
        text = _UUENCODE.sub(lambda m: _cut(m, blocks, _uu_block(m)), text)
    if "begin-base64 " in text:
        text = _UU_BASE64.sub(lambda m: _cut(m, blocks, _uu_base64_block(m)), text)
    if "=ybegin " in text:
        text = _YENC.sub(lambda m: _cut(m, blocks, _yenc_block(m)), text)
    text = _BASE64_RUN.sub(lambda m: _cut(m, blocks, _base64_block(m, len(blocks))), text)
    if blocks:
        text = _BLANK_RUN.sub("\n\n", text).strip()
    return Extracted(text, tuple(blocks))


def _cut(match: re.Match[str], blocks: list[Block], block: Block | None) -> str:
    """Replacement for a block: nothing when it is one (and it is noted), else itself."""
    if block is None:
        return match.group(0)
    blocks.append(block)
    return ""


def _uu_block(match: re.Match[str]) -> Block | None:
    lines = match.group(2).splitlines()
    if not any(lines) or not all(_UU_LINE.fullmatch(line) for line in lines):
        return None
    # Each line's first character is its decoded length; "`" (and space) mean zero.
    size = sum((ord(line[0]) - 32) & 63 for line in lines if line)
    return _block("uuencode", match.group(1), size)


def _uu_base64_block(match: re.Match[str]) -> Block:
    return _block("uuencode", match.group(1), _base64_size(match.group(2)))


def _yenc_block(match: re.Match[str]) -> Block:
    header, data = match.group(1), match.group(2)
    name = _YENC_NAME.search(header)
    part = _YPART.match(data)
    if part:
        size = int(part.group(2)) - int(part.group(1)) + 1
    else:
        declared = _YENC_SIZE.search(header)
        size = int(declared.group(1)) if declared else len(data.replace("\n", ""))
    return _block("yenc", name.group(1) if name else "", size)


def _base64_block(match: re.Match[str], index: int) -> Block:
    run = match.group(0)
    head = _b64decode(run[:8]) or b""
    content_type, extension = next(
        ((ctype, ext) for magic, ctype, ext in _MAGIC if head.startswith(magic)),
        ("application/octet-stream", "bin"),
    )
    return Block("base64", f"block-{index + 1}.{extension}", content_type, _base64_size(run))


def _block(kind: str, raw_name: str, size: int) -> Block:
    filename = _PATH_SEP.split(raw_name.strip().strip('"'))[-1].strip() or f"{kind}.bin"
    content_type = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
    return Block(kind, filename, content_type, max(size, 0))


def _base64_size(data: str) -> int:
    chars = "".join(data.split())
    return len(chars) * 3 // 4 - len(chars) + len(chars.rstrip("="))


def _b64decode(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None


def _whole_base64_text(text: str) -> str | None:
    """The decoded text when ``text`` is one base64 block of printable UTF-8, else None."""
    stripped = text.strip()
    if len(stripped) < 16 or " " in stripped or not _BASE64_RUN.fullmatch(stripped):
        return None
    data = _b64decode(stripped)
    if data is None:
        return None
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _UNPRINTABLE.search(decoded) else decoded
