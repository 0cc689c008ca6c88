"""The text a model sees and the features taken from it.

The text: the subject (it is dense) and the client's own words, lower case, without accents,
with numbers, amounts, IBANs, phone and invoice numbers replaced by placeholders, so that the
features carry over across languages and clients.

The features: character 3–4-grams within words (they survive accents, typos and the step
from Spanish to Catalan, Portuguese or Italian) and word uni/bigrams, weighted by TF-IDF
(sublinear term frequency, l2 norm per family). The analyzers are plain functions used both
when training (handed to scikit-learn's vectorizer) and when classifying (with numpy only),
so the two can never drift apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, pairwise
from operator import itemgetter

import numpy as np

from maildesk.text import normalize
from maildesk.triage.learned.neutral import NEUTRAL_WORDS

MAX_BODY_CHARS = 3000  # the request is near the top; the rest of a rant only costs time
CHAR_NGRAMS = (3, 4)

_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:https?://|www\.)\S+"), " zurlz "),
    (re.compile(r"\S+@\S+\.\w+"), " zemailz "),
    (re.compile(r"\b[a-z]{2}\d{2}(?:[ ]?[0-9a-z]{4}){4,7}(?:[ ]?[0-9a-z]{1,4})?\b"), " zibanz "),
    (
        re.compile(r"(?:€|\$|£|eur|usd)\s?\d[\d.,]*|\d[\d.,]*\s?(?:€|\$|£|eur(?:os?)?\b|usd\b)"),
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


def _alternatives(first: int, last: int, guard: str = "") -> re.Pattern[str]:
    """Patterns ``first``..``last`` as one: at each place the first that matches. The
    guard, a superset of where any of them can start, skips every other place cheaply."""
    choices = "|".join(f"(?P<g{i}>{_PLACEHOLDERS[i][0].pattern})" for i in range(first, last + 1))
    return re.compile(f"(?={guard})(?:{choices})" if guard else choices)


def _placeholder(match: re.Match[str]) -> str:
    return _PLACEHOLDERS[int(str(match.lastgroup)[1:])][1]


_LINKS = _alternatives(0, 1)
_NUMBERS = _alternatives(
    2, len(_PLACEHOLDERS) - 1, r"[\d+€$£]|[ .]\d|[a-z]{2}\d|eur|usd|fac|fra|inv|f[-/ .]?\d"
)
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"(?u)\b\w\w+\b")
_TOKEN = re.compile(r"\w+(?:['’·]\w+)*|[^\w\s]+")


def model_text(subject: str, clean_text: str) -> str:
    """The model's input for one mail (``clean_text``: quotes and signatures already cut)."""
    text = normalize(f"{subject}\n{subject}\n{clean_text[:MAX_BODY_CHARS]}")
    if "@" in text or "http" in text or "www." in text:
        text = _LINKS.sub(_placeholder, text)
    if _DIGIT.search(text):  # every other pattern holds a digit
        text = _NUMBERS.sub(_placeholder, text)
    # Courtesy and function words say nothing of what a mail is for; left in, their many
    # small weights tip long polite mail towards whichever class had more of them.
    return " ".join(w for w in _TOKEN.findall(text) if w not in NEUTRAL_WORDS)


def words(text: str) -> list[str]:
    """The words of a model text (two characters or more)."""
    return _WORD.findall(text)


def word_ngrams(text: str) -> list[str]:
    """Words and pairs of neighbouring words."""
    return word_ngrams_of(_WORD.findall(text))


def word_ngrams_of(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_ngrams(text: str) -> list[str]:
    """Character n-grams within words, each word padded with a space on both sides (as
    scikit-learn's ``char_wb``)."""
    return list(chain.from_iterable(map(_grams_of, text.split())))


@lru_cache(maxsize=1 << 16)
def _grams_of(token: str) -> tuple[str, ...]:
    """One word's n-grams; words recur within and across mails, so they are kept."""
    low, high = CHAR_NGRAMS
    padded = f" {token} "
    length = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if length <= n:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return tuple(grams)


ANALYZERS = {"char": char_ngrams, "word": word_ngrams}
_MAX_REMEMBERED = 50_000


class Vocabulary:
    """One fitted feature family: its terms and idf weights; turns a text into its non-zero
    TF-IDF features (sublinear tf, l2 norm) without scikit-learn or sparse matrices."""

    def __init__(self, family: str, terms: Sequence[str], idf: np.ndarray) -> None:
        if family not in ANALYZERS:
            raise ValueError(f"unknown feature family {family!r}")
        if len(terms) != len(idf):
            raise ValueError(f"{family}: {len(terms)} terms but {len(idf)} idf weights")
        self.family = family
        self.analyze = ANALYZERS[family]
        self.index: dict[str, int] = {term: i for i, term in enumerate(terms)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self._columns_of: dict[str, np.ndarray] = {}

    @property
    def width(self) -> int:
        return len(self.idf)

    def row(self, text: str, terms: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero features: column indices and l2-normalized weights
        (``terms``: the analyzer's output when the caller has it already)."""
        if self.family == "char" and terms is None:
            return self._char_row(text)
        counts = Counter(self.analyze(text) if terms is None else terms)  # counted in C
        known = list(counts.keys() & self.index.keys())  # intersected in C
        if not known:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        # itemgetter looks every term up in C; the repeated first term makes it return a
        # tuple even for a single term (then dropped)
        pick = itemgetter(*known, known[0])
        columns = np.array(pick(self.index)[:-1], dtype=np.int64)
        frequencies = np.array(pick(counts)[:-1], dtype=np.float64)
        return self._weighted(columns, frequencies)

    def _weighted(
        self, columns: np.ndarray, frequencies: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        weights = (1.0 + np.log(frequencies)) * self.idf[columns]
        norm = float(np.sqrt(weights @ weights))
        return columns, (weights / norm if norm else weights)

    def _char_row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The same numbers as ``row`` for character n-grams, word by word: each distinct
        word's known n-gram columns are looked up once and kept (words recur), and the
        counting is left to numpy (three times faster on a mail of 600 characters)."""
        parts, repeats = [], []
        for token, count in Counter(text.split()).items():
            columns = self._columns_of.get(token)
            if columns is None:
                columns = self._remember(token)
            if columns.size:
                parts.append(columns)
                repeats.append(count)
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        every = np.concatenate(parts)
        times = np.repeat(np.array(repeats, dtype=np.float64), [len(p) for p in parts])
        columns, where = np.unique(every, return_inverse=True)
        return self._weighted(columns, np.bincount(where, weights=times))

    def _remember(self, token: str) -> np.ndarray:
        index = self.index
        columns = np.array([index[g] for g in _grams_of(token) if g in index], dtype=np.int64)
        if len(self._columns_of) >= _MAX_REMEMBERED:
            self._columns_of.clear()  # a flood of unique words must not grow it for ever
        self._columns_of[token] = columns
        return columns
