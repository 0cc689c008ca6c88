"""The text a model sees: the subject (twice: it is dense) and the client's own words,
lower case, without accents, with numbers, amounts, IBANs, phone and invoice numbers
replaced by placeholders, so that the features carry over across languages and clients."""

from __future__ import annotations

import re

from maildesk.triage import normalize

MAX_BODY_CHARS = 1500  # the request is near the top; the rest of a rant only costs time

_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:https?://|www\.)\S+"), " zurlz "),
    (re.compile(r"\S+@\S+\.\w+"), " zemailz "),
    (re.compile(r"\b[a-z]{2}\d{2}(?:[ ]?[0-9a-z]{4}){4,7}(?:[ ]?[0-9a-z]{1,4})?\b"), " zibanz "),
    (
        re.compile(r"(?:€|eur)\s?\d[\d.,]*|\d[\d.,]*\s?(?:€|eur(?:os?)?\b)"),
        " zamountz ",
    ),
    (
        re.compile(r"\b(?:fac|fra|fact|inv|f)[-/ .]?(?:\d{2,4}[-/])?\d{3,}\b"),
        " zinvoicez ",
    ),
    (re.compile(r"(?:\+|00)?(?:34)?[ .]?[6789]\d{2}(?:[ .-]?\d{2,3}){2,3}\b"), " zphonez "),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b"), " zdatez "),
    (re.compile(r"\d+"), " znumz "),
)


def model_text(subject: str, clean_text: str) -> str:
    """The model's input for one mail (``clean_text``: quotes and signatures already cut)."""
    text = normalize(f"{subject}\n{clean_text[:MAX_BODY_CHARS]}")
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())
