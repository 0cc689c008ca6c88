"""Which language a client wrote in, and which of ours to answer in, with the reason.

The language is recognised among the ones we answer in (es / ca / en by default) and the
others clients of a Spanish business write in (German, French, Portuguese, Italian, Dutch;
Chinese, Japanese and Korean by their script), so that a German mail is recorded as German
and answered in the default language, rather than taken for Spanish. ``py3langid``
restricted to those languages gives normalized probabilities. On
short unaccented texts it confuses Catalan and Spanish, so the es/ca split is corrected
with cheap word and spelling markers ("amb", "tinc", "l'", "ny" vs "con", "tengo", "ñ",
"¿"), each shifting the log-odds by one; the es+ca probability mass is kept.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import lzma
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("maildesk.language")

MIN_WORDS = 3
MIN_CONFIDENCE = 0.6
# Recognised (recorded) besides the ones we answer in; replies to them use the default.
RECOGNISED = ("es", "ca", "en", "de", "fr", "pt", "it", "nl")
# A language we do not answer in is recorded only when clearly it: short Catalan or
# Spanish is easily taken for Portuguese or Italian.
FOREIGN_CONFIDENCE = 0.9
_MIN_SCRIPT_CHARS = 4
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
    language: str  # the one to answer in: one of the supported languages
    confidence: float
    reason: str  # "model", "markers" (overruled the model), "script", "unsupported",
    # "too-short", "low-confidence"
    detected: str = ""  # the language the mail is written in; "" when it cannot be told


def detect_language(
    text: str, *, supported: Sequence[str] = ("es", "ca", "en"), default: str = "es"
) -> LanguageGuess:
    """Guess the language of ``text``; answer in ``default`` when it is too short, too
    uncertain, or written in a language we do not answer in (``detected`` says which)."""
    sample = _URL_OR_EMAIL.sub(" ", text[:_MAX_CHARS])
    script = _script_language(sample)
    if script is not None:
        language, share = script
        if language in supported:
            return LanguageGuess(language, share, "script", language)
        return LanguageGuess(default, share, "unsupported", language)
    words = _WORD.findall(sample.lower())
    if len(words) < MIN_WORDS:
        return LanguageGuess(default, 0.0, "too-short")
    wide = dict(_identifier(tuple(sorted(set(supported) | set(RECOGNISED)))).rank(sample))
    foreign = max(wide, key=wide.__getitem__)
    if foreign not in supported and wide[foreign] >= FOREIGN_CONFIDENCE:
        return LanguageGuess(default, float(wide[foreign]), "unsupported", foreign)
    # Among our own languages: the model restricted to them, and the es/ca markers.
    scores = _restricted(wide, supported) or dict(
        _identifier(tuple(sorted(set(supported)))).rank(sample)
    )
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
    return LanguageGuess(language, confidence, reason, language)


def _restricted(wide: dict[str, float], languages: Sequence[str]) -> dict[str, float] | None:
    """The model's probabilities restricted to ``languages``, from the wider ranking.

    Naive Bayes scores each language on its own and the probabilities are a softmax of
    those scores, so restricting the model to some languages gives the same probabilities
    renormalised over them: no second walk over the text. None when those languages hold
    too little of the probability for that to be exact in float32 (then the caller asks
    the restricted model itself)."""
    kept = {language: wide.get(language, 0.0) for language in languages}
    total = sum(kept.values())
    if total < 1e-6:
        return None
    return {language: value / total for language, value in kept.items()}


# Chinese, Japanese and Korean, told by their script (Latin-script models cannot).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LETTER = re.compile(r"[^\W\d_]")


def _script_language(sample: str) -> tuple[str, float] | None:
    han, kana, hangul = (len(p.findall(sample)) for p in (_HAN, _KANA, _HANGUL))
    cjk = han + kana + hangul
    if cjk < _MIN_SCRIPT_CHARS:
        return None
    share = cjk / max(len(_LETTER.findall(sample)), 1)
    if share < 0.3:
        return None
    if hangul > han + kana:
        return "ko", round(share, 3)
    if kana >= _MIN_SCRIPT_CHARS // 2:
        return "ja", round(share, 3)
    return "zh", round(share, 3)


def load_model(supported: Sequence[str]) -> None:
    """Load the language model now (a fraction of a second) rather than on the first mail."""
    _identifier(tuple(sorted(set(supported) | set(RECOGNISED))))
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


# The languages the base model keeps: every one we may recognise or answer in.
_MODEL_LANGUAGES = ("es", "ca", "en", "de", "fr", "pt", "it", "nl", "gl", "eu")


@lru_cache(maxsize=4)
def _base_identifier(extra: tuple[str, ...] = ()) -> Any:
    """py3langid's model cut to ``_MODEL_LANGUAGES`` (+ ``extra``), loaded once.

    Its own loader unpacks the LZMA file (a third of a second), keeps all 142 languages'
    weights (27 MB) and copies the tokenizer's 38 MB transition table into a second array:
    ~105 MB for a mail daemon that needs ten languages. Here the same arrays (npz, no
    pickle) are cut to those languages once and kept unpacked in a cache directory; later
    starts map them from there (only the pages the tokenizer visits are read). Falls back
    to py3langid's loader when the file is not laid out as expected.
    """
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    languages = tuple(sorted(set(_MODEL_LANGUAGES) | set(extra)))
    try:
        arrays = _compact_arrays(languages)
        return LanguageIdentifier(
            arrays["ptc"],
            arrays["pc"],
            arrays["classes"].tolist(),
            arrays["nextmove"].data,  # a memoryview: indexed as the tokenizer walks, no copy
            arrays["out_feat"].tolist(),
            norm_probs=True,
            tk_row=arrays["nextmove_row"].tolist(),
        )
    except (KeyError, TypeError, ValueError, OSError) as exc:
        log.warning(
            f"language: compact model unusable ({exc}); loading py3langid's own",
            extra={"error": str(exc)},
        )
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _compact_arrays(languages: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The cut model's arrays, from the cache when it holds them, else made and cached."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    source = MODEL_DIR / MODEL_FILE
    stat = source.stat()
    key = hashlib.sha256(
        f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{','.join(languages)}".encode()
    ).hexdigest()[:16]
    try:
        folder = _cache_dir() / f"langid-{key}"
    except OSError as exc:
        log.info(f"language: no cache directory ({exc})", extra={"error": str(exc)})
        return _cut(source, languages)
    if folder.is_dir():
        try:
            return {
                name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                for name in _ARRAYS
            }
        except (OSError, ValueError) as exc:
            log.warning(
                f"language: cached model in {folder} unreadable ({exc}); remade",
                extra={"folder": str(folder), "error": str(exc)},
            )
            shutil.rmtree(folder, ignore_errors=True)
    arrays = _cut(source, languages)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".langid-", dir=folder.parent))
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        staging.replace(folder)  # whole or not at all; a rival's copy is as good
    except OSError as exc:  # a read-only home, a rival daemon first: work from memory
        log.info(f"language: compact model not cached ({exc})", extra={"error": str(exc)})
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return arrays


def _cut(source: Path, languages: tuple[str, ...]) -> dict[str, np.ndarray]:
    wanted = set(languages)
    with tempfile.TemporaryFile(suffix=".npz") as unpacked:
        with lzma.open(source) as packed:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
        unpacked.seek(0)
        with np.load(unpacked, allow_pickle=False) as data:
            classes = data["classes"]
            keep = [i for i, c in enumerate(classes.tolist()) if c in wanted]
            return {
                "ptc": np.ascontiguousarray(data["ptc"][:, keep]),  # the full table is freed
                "pc": np.asarray(data["pc"][keep]),
                "classes": classes[keep],
                "nextmove": np.ascontiguousarray(data["nextmove"]),
                "nextmove_row": data["nextmove_row"],
                "out_feat": data["out_feat"],
            }


def _cache_dir() -> Path:
    """``$MAILDESK_CACHE_DIR``, else ``$XDG_CACHE_HOME/maildesk``, else ``~/.cache/maildesk``."""
    explicit = os.environ.get("MAILDESK_CACHE_DIR")
    if explicit:
        folder = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "maildesk"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]) -> Any:
    """A copy of the model restricted to ``languages``; the base model stays as loaded."""
    extra = tuple(sorted(set(languages) - set(_MODEL_LANGUAGES)))
    with _LOAD_LOCK:
        base = _base_identifier(extra)
        unknown = set(languages) - set(base.nb_classes)
        if unknown:
            raise ValueError(f"Unknown language code(s): {unknown}")
        restricted = copy.copy(base)
        restricted.set_languages(list(languages))
    return restricted
