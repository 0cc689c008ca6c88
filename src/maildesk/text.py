"""Text normalisation shared by keyword matching and the learned classifier."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# The accents of Latin scripts (Combining Diacritical Marks and their supplements).
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalize(text: str) -> str:
    """Lower case, no accents, single spaces: matching that survives typing habits."""
    text = text.lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.replace("·", ""))
        text = _COMBINING_MARKS.sub("", decomposed)
    return _SPACES.sub(" ", text).strip()
