"""The one-question survey of the resolution notice: "how did we do, 1 to 5?".

A client answers either by replying with the digit (a reply to a resolved incident whose
text starts with a score, and says little else, is an answer, not a new problem), or
through one of the notice's five links: ``mailto:`` a survey address that carries the score
and the incident's reference under a MAC (``soporte+s4-md-2026-000012-<mac>@…``), so the
score survives whatever the client's mail program does to the subject and the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from maildesk.desk.commands import fold

_SURVEY_ADDRESS = re.compile(
    r"^(?P<local>[^+@]+)\+s(?P<score>[1-5])-(?P<ref>[a-z0-9-]+?)-(?P<mac>[a-z2-7]{16})@"
)
_WORDS = {
    "uno": 1, "una": 1, "u": 1, "one": 1,
    "dos": 2, "two": 2,
    "tres": 3, "three": 3,
    "cuatro": 4, "quatre": 4, "four": 4,
    "cinco": 5, "cinc": 5, "five": 5,
}  # fmt: skip
_LEAD = (
    r"(?:(?:mi|la meva|my)\s+)?(?:nota|puntuacion|puntuacio|valoracion|valoracio|score|rating)"
    # "le doy un 3", "te pongo un 5", "us poso un 4", "li dono un 2", "I'd give it a 4"
    r"|(?:(?:le|te|les|os|us|li|et|vos)\s+)?(?:doy|pongo|daria|pondria|poso|dono|posaria|donaria)"
    r"|(?:i\s*(?:'d|would)?\s+)?(?:give|rate)(?:\s+(?:it|you|this))?"
)
# "4", "4/5", "un 4", "nota: 4", "4 de 5", "4 estrellas", "4 - muy bien", "5. Gracias"
_SCORE_LINE = re.compile(
    rf"^(?:(?:{_LEAD})\s*[:=]?\s*)?(?:(?:un|una|a)\s+)?(?P<score>[1-5])"
    r"(?:\s*(?:/\s*5|de\s+5|sobre\s+5|out\s+of\s+5|estrellas?|estrelles?|stars?|punts?|puntos?|[★⭐]+))?"
    r"\s*(?:$|[.,;:!)\-–—]+\s*(?P<rest>.*)$|\s(?P<word_rest>(?P<word>[a-z]+)\b.*)$)"
)
# words that may follow a bare score ("5 gracias", "1 mal servicio"); anything else after a
# number ("3 días sin línea", "2 líneas") is a person counting, not scoring
_VERDICT_WORDS = frozenset(
    [
        "gracias",
        "gracies",
        "merci",
        "thanks",
        "thank",
        "muy",
        "molt",
        "very",
        "todo",
        "tot",
        "all",
        "perfecto",
        "perfecta",
        "perfecte",
        "perfect",
        "excelente",
        "excellent",
        "excel",
        "bien",
        "be",
        "good",
        "great",
        "ok",
        "vale",
        "genial",
        "correcto",
        "correcte",
        "fine",
        "regular",
        "mal",
        "malo",
        "mala",
        "dolent",
        "bad",
        "poor",
        "fatal",
        "pesimo",
    ]
)
_GREETING = re.compile(
    r"^(?:hola|buenas|buenos dias|buenas tardes|bon dia|bona tarda|hello|hi|dear|estimad[oa]s?|"
    r"benvolgud[ae]s?)\b[^.!?]{0,40}$"
)
_STARS = re.compile(r"^(?P<stars>(?:★|⭐\ufe0f?){1,5})\s*(?P<rest>.*)$")
# what phones add below a one-tap answer: not the client's comment
_SENT_FROM = re.compile(
    r"^(?:enviado desde|enviat des de|sent from|envoye de|obtener outlook|get outlook)\b",
    re.IGNORECASE,
)
MAX_COMMENT = 1000
# An answer says little besides its score; a longer text is a person writing about the
# matter again (a follow-up that reopens), even if it starts with a digit.
MAX_ANSWER_WORDS = 60


@dataclass(frozen=True, slots=True)
class Score:
    score: int
    comment: str


def _mac(secret: bytes, reference: str) -> str:
    digest = hmac.new(secret, f"survey|{reference.upper()}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:16]


def survey_address(support: str, reference: str, score: int, secret: bytes) -> str:
    """The address of one survey link: writing to it answers ``score`` for ``reference``."""
    local, _, domain = support.partition("@")
    return f"{local}+s{score}-{reference.lower()}-{_mac(secret, reference)}@{domain}"


def read_survey_address(recipients: Sequence[str], secret: bytes) -> tuple[str, int] | None:
    """(reference, score) of the first valid survey address among ``recipients``."""
    for address in recipients:
        found = _SURVEY_ADDRESS.match(address.lower())
        if found is None:
            continue
        reference = found.group("ref").upper()
        if hmac.compare_digest(found.group("mac"), _mac(secret, reference)):
            return reference, int(found.group("score"))
    return None


def _fold_in_place(text: str) -> str:
    """Lower case without accents, one character for each ("¡Gracias!" → "¡gracias!"), so
    that a position in it is a position in ``text``."""
    return "".join(fold(ch)[:1] or ch.lower() for ch in text)


def read_score(text: str) -> Score | None:
    """The score a client's reply starts with, and what else they said; None when the
    text is not an answer ("3 días sin línea" is a complaint, not a 3)."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line and not line.startswith(">")]
    if lines and _GREETING.match(_fold_in_place(lines[0])):
        lines = lines[1:]  # "Hola," above the score
    if not lines:
        return None
    first = _fold_in_place(lines[0])
    found = _SCORE_LINE.match(first)
    if found is not None and found.group("word") and found.group("word") not in _VERDICT_WORDS:
        return None
    if found is not None:
        score = int(found.group("score"))
        rest = found.group("rest") or found.group("word_rest") or ""
    elif first.strip(".!") in _WORDS:
        score, rest = _WORDS[first.strip(".!")], ""
    elif (stars := _STARS.match(lines[0])) is not None:
        score = len(stars.group("stars").replace("\ufe0f", ""))
        rest = stars.group("rest")
    else:
        return None
    # the rest of the first line as written (accents kept), then the other lines
    kept = lines[0][len(lines[0]) - len(rest) :] if rest else ""
    others = [line for line in lines[1:] if not _SENT_FROM.match(_fold_in_place(line))]
    comment = "\n".join(part for part in (kept, *others) if part).strip()
    if len(comment.split()) > MAX_ANSWER_WORDS:
        return None
    return Score(score, comment[:MAX_COMMENT])
