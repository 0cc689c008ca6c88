"""Trim a mail body to the sender's own words: quoted history, signatures, legal footers.

Pure text in, text out, for Spanish, Catalan and English mail clients (Gmail, Outlook,
Apple Mail, Thunderbird). Rules, in order, per segment of the text:

* A *reply boundary* (``El … escribió:`` / ``El … va escriure:`` / ``On … wrote:``, Outlook's
  ``-----Mensaje original-----`` or ``De: … Enviado: …`` header block) ends the segment:
  everything after it is history and is dropped. If nothing precedes it (bottom-posting),
  the attribution and the ``>`` lines are dropped and the answer below them is kept.
* A *forward marker* (``---------- Forwarded message ----------`` and its es/ca/Apple
  variants, or the first Outlook header block when the subject says ``RV:``/``Fwd:``) does
  NOT drop what follows: forwarded content is often the complaint itself (a shop forwarding its
  customer's mail, or a provider's error notice). The marker and the forwarded header lines are
  kept, and the forwarded message is cleaned recursively (its own history is dropped).
* Within a segment: ``>`` lines, the ``-- `` signature, "Enviado desde mi iPhone" lines,
  LOPD/RGPD confidentiality footers and a sign-off ("Un saludo", "Salutacions", "Best
  regards", …) followed by a short block are removed.

No step may leave a segment empty, and if the whole result is blank the untrimmed text is
returned: we would rather keep noise than lose the client's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FORWARD_MARKER = "---------- Forwarded message ----------"

_MAX_FORWARD_DEPTH = 10

_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|rv|reenv(?:iar)?|tr|wg)\s*:", re.IGNORECASE)

_FORWARD_LINE = re.compile(
    r"^\s*(?:-{3,}\s*(?:forwarded\s+message|mensaje\s+reenviado|missatge\s+reenviat|"
    r"message\s+transf[ée]r[ée]|weitergeleitete\s+nachricht)\s*-{3,}"
    r"|(?:begin\s+forwarded\s+message|inicio\s+del\s+mensaje\s+reenviado|"
    r"comen[çc]a\s+el\s+missatge\s+reenviat)\s*:)\s*$",
    re.IGNORECASE,
)
_ORIGINAL_LINE = re.compile(
    r"^\s*-{2,}\s*(?:original\s+message|mensaje\s+original|missatge\s+original|"
    r"message\s+d['’]origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE_LINE = re.compile(r"^\s*(?:_{10,}|-{10,})\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?\s*(?:from|de|von)\s*:\s*\*?\s*\S", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\s*\*?\s*(?:sent|date|to|cc|subject|enviado(?:\s+el)?|fecha|para|asunto|"
    r"enviat(?:\s+el)?|data|per\s+a|a/c|assumpte|tema|reply-to|responder\s+a)\s*:",
    re.IGNORECASE,
)
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|escribi[óo]|va\s+escriure|ha\s+escrit|escrigu[ée]|a\s+[ée]crit|schrieb)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:on|el|le|am)\b", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")
_SIG_DASHES = re.compile(r"^--\s?$")
_SENT_FROM = re.compile(
    r"^\s*(?:(?:enviado|enviat|sent|envoy[ée])\s+(?:desde|des\s+de|des\s+del|from)\s+"
    r"(?:mi|my|el\s+meu|meu|la\s+meva|outlook|correo|yahoo|gmail|samsung|huawei|xiaomi)\b"
    r"|(?:get|obtener|obt[ée]n|descarga|descargar|aconsegueix)\s+(?:l['’])?outlook\b)",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    # headings, only at the start of a paragraph
    r"^\W*(?:aviso\s+legal|av[íi]s\s+legal|legal\s+notice|disclaimer|confidencialidad|"
    r"confidencialitat|confidentiality|(?:cl[áa]usula|aviso|nota|av[íi]s)\s+de\s+"
    r"confidencial|informaci[óo]n?\s+(?:b[àáa]sica\s+)?(?:sobre\s+)?protecci[óo]n?\s+de|"
    r"protecci[óo]n?\s+de\s+(?:datos|dades))"
    # characteristic phrases, anywhere in the paragraph
    r"|\b(?:este|aquest)\s+(?:mensaje|correo|e-?mail|missatge|correu)\b.{0,200}?confidencial"
    r"|\bthis\s+(?:e-?mail|message|communication)\b.{0,200}?confidential"
    r"|\b(?:en\s+cumplimiento|de\s+conformidad|en\s+compliment|de\s+conformitat|d['’]acord)\b"
    r".{0,160}?(?:ley\s+org[áa]nica|llei\s+org[àa]nica|reglamento|reglament|rgpd|lopd|lssi|gdpr)"
    r"|\b(?:ley|llei)\s+org[àáa]nica\s+(?:3/2018|15/1999)"
    r"|\b(?:reglamento|reglament|regulation)\s*\((?:ue|eu)\)\s*(?:n[º°o.]\s*)?2016/679"
    r"|antes\s+de\s+imprimir|abans\s+d['’]imprimir|before\s+printing\s+this",
    re.IGNORECASE | re.DOTALL,
)

_SIGNOFFS = (
    # es
    "un saludo",
    "un cordial saludo",
    "cordial saludo",
    "saludos cordiales",
    "cordiales saludos",
    "reciba un cordial saludo",
    "saludos",
    "un abrazo",
    "un fuerte abrazo",
    "atentamente",
    "cordialmente",
    "muchas gracias",
    "mil gracias",
    "gracias de antemano",
    "gracias",
    # ca
    "salutacions cordials",
    "salutacions",
    "una salutació",
    "una salutacio",
    "cordialment",
    "atentament",
    "molt atentament",
    "moltes gràcies",
    "moltes gracies",
    "gràcies per endavant",
    "gràcies",
    "gracies",
    "una abraçada",
    "salut",
    # en
    "best regards",
    "kind regards",
    "warm regards",
    "regards",
    "best wishes",
    "all the best",
    "best",
    "cheers",
    "many thanks",
    "thanks in advance",
    "thanks",
    "thank you",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
)
_SIGNOFF_ALT = "|".join(re.escape(p) for p in sorted(_SIGNOFFS, key=len, reverse=True))
_SIGNOFF = re.compile(
    rf"^[\s¡!]*(?:{_SIGNOFF_ALT})\b(?:[\s,.;!]*(?:y|i|and|&)?\s*(?:{_SIGNOFF_ALT})\b)?"
    r"[\s,.;:!-]*(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")
_POSTSCRIPT = re.compile(r"^\s*(?:p\.?\s?d\.?|p\.?\s?s\.?)\s*[:.-]", re.IGNORECASE)

_SIGNATURE_MAX_LINES = 10
_SIGNATURE_MAX_LINE = 80


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts with a forward prefix (Fwd:, RV:, TR:, …)."""
    return _FORWARD_SUBJECT.match(subject) is not None


def clean_reply(text: str, *, forwarded: bool = False) -> str:
    """The sender's own words in ``text``; ``forwarded`` reads Outlook blocks as forwards."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = _tidy(_clean_lines(lines, forwarded=forwarded, depth=0))
    return cleaned if cleaned else _tidy(lines)


def _clean_lines(lines: list[str], *, forwarded: bool, depth: int) -> list[str]:
    boundary = _find_boundary(lines, forwarded=forwarded and depth == 0)
    if boundary is None or depth > _MAX_FORWARD_DEPTH:
        return _strip_tail(lines)
    start, body_start, kind = boundary
    own = _strip_tail(lines[:start])
    if kind == "forward":
        header = [line for line in lines[start:body_start] if line.strip()]
        rest = _clean_lines(lines[body_start:], forwarded=False, depth=depth + 1)
        return [*own, "", *header, "", *rest]
    if _has_text(own):
        return own
    answer = [line for line in lines[body_start:] if not _QUOTED.match(line)]
    return _clean_lines(answer, forwarded=False, depth=depth + 1)


def _find_boundary(lines: Sequence[str], *, forwarded: bool) -> tuple[int, int, str] | None:
    """First (start, body_start, kind) where kind is "forward" or "reply"; None if none."""
    for index, line in enumerate(lines):
        if not line.strip() or _QUOTED.match(line):
            continue
        if _FORWARD_LINE.match(line):
            return index, _skip_header_block(lines, index + 1), "forward"
        outlook = _outlook_block(lines, index)
        if outlook is not None:
            kind = "forward" if forwarded else "reply"
            return index, _skip_header_block(lines, outlook), kind
        span = _attribution_span(lines, index)
        if span:
            return index, index + span, "reply"
    return None


def _outlook_block(lines: Sequence[str], index: int) -> int | None:
    """Index after the separator line when an Outlook-style block starts here."""
    line = lines[index]
    if _ORIGINAL_LINE.match(line):
        return index + 1
    if _RULE_LINE.match(line):
        nxt = _next_text_line(lines, index + 1)
        if nxt is not None and _HEADER_FROM.match(lines[nxt]):
            return nxt
        return None
    if _HEADER_FROM.match(line):
        following = [i for i in range(index + 1, min(index + 6, len(lines))) if lines[i].strip()]
        if any(_HEADER_OTHER.match(lines[i]) for i in following[:3]):
            return index
    return None


def _next_text_line(lines: Sequence[str], start: int) -> int | None:
    for i in range(start, min(start + 3, len(lines))):
        if lines[i].strip():
            return i
    return None


def _skip_header_block(lines: Sequence[str], start: int) -> int:
    """Index after the header lines (From:/De:/Date:/Subject:…) that follow a marker."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines) and (
        _HEADER_FROM.match(lines[index]) or _HEADER_OTHER.match(lines[index])
    ):
        index += 1
    return index


def _attribution_span(lines: Sequence[str], index: int) -> int:
    """Number of lines (1-3) forming an "On … wrote:" attribution at ``index``, else 0."""
    first = lines[index]
    if _ATTRIBUTION_END.search(first) and len(first) < 400:
        return 1 if _ATTRIBUTION_START.match(first) or "@" in first else 0
    if not _ATTRIBUTION_START.match(first):
        return 0
    joined = first.strip()
    for extra in (1, 2):
        if index + extra >= len(lines):
            break
        joined += " " + lines[index + extra].strip()
        if len(joined) > 400:
            break
        if _ATTRIBUTION_END.search(joined):
            wrapped_header = "@" in joined or any(ch.isdigit() for ch in joined)
            return extra + 1 if wrapped_header else 0
    return 0


def _strip_tail(lines: list[str]) -> list[str]:
    """Drop quoted lines, then signature / mobile line / footer / sign-off, never to empty."""
    kept = [line for line in lines if not _QUOTED.match(line)]
    if not _has_text(kept):
        kept = list(lines)
    for cut in (_cut_sig_dashes, _cut_sent_from, _cut_footer, _cut_signoff):
        index = cut(kept)
        if index is not None and _has_text(kept[:index]):
            kept = kept[:index]
    return kept


def _cut_sig_dashes(lines: Sequence[str]) -> int | None:
    return next((i for i, line in enumerate(lines) if _SIG_DASHES.match(line)), None)


def _cut_sent_from(lines: Sequence[str]) -> int | None:
    return next(
        (i for i, line in enumerate(lines) if len(line) < 80 and _SENT_FROM.match(line)), None
    )


def _cut_footer(lines: Sequence[str]) -> int | None:
    """Start of the first footer paragraph, never the first paragraph of the text."""
    paragraphs: list[tuple[int, str]] = []
    start: int | None = None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            paragraphs.append((start, " ".join(s.strip() for s in lines[start:i])))
            start = None
    for start, paragraph in paragraphs[1:]:
        if _FOOTER.search(paragraph):
            return start
    return None


def _cut_signoff(lines: Sequence[str]) -> int | None:
    """The last sign-off line followed only by a short signature-like block."""
    filled_below = 0
    for i in range(len(lines) - 1, -1, -1):
        if _is_signoff(lines[i]) and _is_signature_block(lines[i + 1 :]):
            return i
        filled_below += bool(lines[i].strip())
        if filled_below > _SIGNATURE_MAX_LINES:
            return None
    return None


def _is_signoff(line: str) -> bool:
    if len(line) > 60:
        return False
    match = _SIGNOFF.match(line)
    if match is None:
        return False
    rest = match.group("rest").split()
    return len(rest) <= 4 and all(w[0].isupper() and _NAME_WORD.match(w) for w in rest)


def _is_signature_block(lines: Sequence[str]) -> bool:
    filled = [line.strip() for line in lines if line.strip()]
    return (
        len(filled) <= _SIGNATURE_MAX_LINES
        and all(len(line) <= _SIGNATURE_MAX_LINE for line in filled)
        and not any(line.endswith("?") or _POSTSCRIPT.match(line) for line in filled)
    )


def _has_text(lines: Sequence[str]) -> bool:
    return any(line.strip() for line in lines)


def _tidy(lines: Sequence[str]) -> str:
    """Trailing spaces off, runs of blank lines collapsed, blank edges dropped."""
    out: list[str] = []
    for line in lines:
        stripped = line.rstrip()
        if stripped or (out and out[-1]):
            out.append(stripped)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
