"""Which language a client wrote in (es / ca / en by default), with its reason.

``py3langid`` restricted to the supported languages gives normalized probabilities. On
short unaccented texts it confuses Catalan and Spanish, so the es/ca split is corrected
with cheap word and spelling markers ("amb", "tinc", "l'", "ny" vs "con", "tengo", "ñ",
"¿"), each shifting the log-odds by one; the es+ca probability mass is kept.
"""

from __future__ import annotations

import copy
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MIN_WORDS = 3
MIN_CONFIDENCE = 0.6
_MAX_CHARS = 400  # the first lines tell the language; the model costs per byte
_MARKER_WEIGHT = 1.0

_URL_OR_EMAIL = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’·][^\W\d_]+)*")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CATALAN_WORDS = _wordset(
    """
    amb tinc tenim tenen aquest aquesta aquests aquestes això aixo està són gràcies gracies
    moltes què perquè també tambe però molt avui ahir dilluns dimarts dimecres dijous
    divendres dissabte diumenge sense fins encara doncs meu meva meus meves seva vostre
    vostra nostre nostra els dels pels hi ens us puc podeu voldria necessito res és datàfon
    datafon mòbil mobil telèfon telefon línia linia connexió connexio botiga trucar trucada
    trucades targeta bon sisplau ja hem heu vaig cap gens massa malament bé quin quina quan
    com nou nova i té
    """
)
_SPANISH_WORDS = _wordset(
    """
    con tengo tenemos tiene tienen gracias muchas y los las ya hoy ayer desde muy pero
    también tambien porque sin hay usted ustedes nos pueden puedo podemos quisiera necesito
    buenos buenas días dias línea linea conexión conexion móvil movil teléfono telefono
    tienda llamar llamada llamadas tarjeta mi mis su sus cuando cuándo dónde donde qué nada
    algo todo todos nunca este esto eso lunes martes miércoles jueves viernes sábado domingo
    favor datáfono datafono ningún ninguna mucho poco mal
    """
)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str
    confidence: float
    reason: str  # "model", "markers" (overruled the model), "too-short", "low-confidence"


def detect_language(
    text: str, *, supported: Sequence[str] = ("es", "ca", "en"), default: str = "es"
) -> LanguageGuess:
    """Guess the language of ``text``; ``default`` when it is too short or too uncertain."""
    sample = _URL_OR_EMAIL.sub(" ", text[:_MAX_CHARS])
    words = _WORD.findall(sample.lower())
    if len(words) < MIN_WORDS:
        return LanguageGuess(default, 0.0, "too-short")
    scores = dict(_identifier(tuple(sorted(set(supported)))).rank(sample))
    best_model = max(scores, key=scores.__getitem__)
    reason = "model"
    if "es" in scores and "ca" in scores:
        scores = _shift_es_ca(scores, _catalan_score(words, sample))
        if max(scores, key=scores.__getitem__) != best_model:
            reason = "markers"
    language = max(scores, key=scores.__getitem__)
    confidence = float(scores[language])
    if confidence < MIN_CONFIDENCE:
        return LanguageGuess(default, float(scores.get(default, 0.0)), "low-confidence")
    return LanguageGuess(language, confidence, reason)


def load_model(supported: Sequence[str]) -> None:
    """Load the language model now (a fraction of a second) rather than on the first mail."""
    _identifier(tuple(sorted(set(supported))))


def _catalan_score(words: Sequence[str], sample: str) -> int:
    """Catalan markers minus Spanish markers (words and spelling)."""
    score = 0
    for word in words:
        score += (word in _CATALAN_WORDS) - (word in _SPANISH_WORDS)
        if "'" in word or "’" in word or "·" in word or "ny" in word or "ç" in word:
            score += 1
        if word.endswith("ció") or any(ch in word for ch in "àèò"):
            score += 1
        if "ñ" in word or word.endswith("ción"):
            score -= 1
    if "¿" in sample or "¡" in sample:
        score -= 1
    return score


def _shift_es_ca(scores: dict[str, float], catalan_score: int) -> dict[str, float]:
    """Move the es/ca split by the markers' log-odds, keeping their joint probability."""
    if catalan_score == 0:
        return scores
    catalan, spanish = max(scores["ca"], 1e-9), max(scores["es"], 1e-9)
    total = scores["ca"] + scores["es"]
    log_odds = math.log(catalan / spanish) + _MARKER_WEIGHT * catalan_score
    shifted = dict(scores)
    shifted["ca"] = total / (1.0 + math.exp(-max(min(log_odds, 50.0), -50.0)))
    shifted["es"] = total - shifted["ca"]
    return shifted


_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _base_identifier() -> Any:
    """The full py3langid model, loaded once on first use (it takes a fraction of a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    load = getattr(LanguageIdentifier, "from_model_file", None)
    if load is None:  # py3langid < 0.4
        load = LanguageIdentifier.from_pickled_model
    return load(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]) -> Any:
    """A copy of the model restricted to ``languages``; the base model stays unrestricted."""
    with _LOAD_LOCK:
        restricted = copy.copy(_base_identifier())
        restricted.set_languages(list(languages))
    return restricted
