"""The shipped classifier, applied with numpy alone (scikit-learn is needed only to train).

Three linear models share one feature space (see ``features``):
- *technical vs billing*, a binary model whose probability is calibrated on mail from
  writers and sources the model was not fitted on (see ``training``);
- *other vs the rest*, a binary model: ``other`` (sales, cancellation, information…) is
  chosen only when it is confident, on positive evidence, never as the default;
- *kind*, a multinomial model over the catalogue; the kind is chosen within the category.

The decision, in order, each step named in the prediction's ``rule``:
1. ``unknown-vocabulary``: most of the words are unknown to the model (a language or a
   trade it never saw): unsure.
2. ``no-evidence``: fewer than ``min_evidence`` informative words (empty, "hello",
   "thanks"): unsure.
3. ``other-evidence``: the other model is at least ``other_threshold`` sure: other.
4. ``weak-margin`` / ``technical-vs-billing``: the likelier of technical and billing, unsure
   when its calibrated probability is under the confidence threshold.

The file is a NumPy ``.npz`` archive of plain arrays, read with ``allow_pickle=False`` (an
archive holding Python objects is refused, so loading a model never runs code), next to a
JSON file with labels, thresholds, data hashes, metrics and the archive's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from maildesk.triage.learned.features import Vocabulary, model_text, word_ngrams_of, words

MODEL_FILE = "classifier.npz"
META_FILE = "classifier.json"
FORMAT = 2

RULES = (
    "unknown-vocabulary",
    "no-evidence",
    "other-evidence",
    "weak-margin",
    "technical-vs-billing",
)


class ModelError(Exception):
    """A model file that is missing, tampered with or made by something else."""


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    category_confidence: float  # calibrated probability of the category given
    kind: str | None
    kind_confidence: float
    unsure: bool = False
    rule: str = "technical-vs-billing"
    evidence: int = 0  # informative words found
    other_probability: float = 0.0


@dataclass(frozen=True, slots=True)
class Binary:
    """A linear decision and the sigmoid that calibrates it: P(positive) =
    1 / (1 + exp(a·(w·x + b) + c))."""

    coef: np.ndarray  # (n_features,) float32
    intercept: float
    a: float
    c: float

    def probability(self, product: float) -> float:
        """P(positive) given the product of the weights and the features (w·x)."""
        decision = product + self.intercept
        return 1.0 / (1.0 + math.exp(max(min(self.a * decision + self.c, 500.0), -500.0)))


@dataclass(frozen=True, slots=True)
class Multinomial:
    """Softmax over linear decisions (the kind model)."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features) float32
    intercept: np.ndarray

    def probabilities(self, products: np.ndarray) -> np.ndarray:
        """Class probabilities given each class's weights times the features."""
        decision = products.astype(np.float64) + self.intercept
        decision -= decision.max()
        exp: np.ndarray = np.exp(decision)
        return exp / float(exp.sum())


@dataclass(frozen=True, slots=True)
class Thresholds:
    other: float  # P(other) at or above which a mail is sorted other
    min_evidence: int  # fewer informative words than this: unsure
    min_known_share: float  # of a mail's words (when it has 6 or more) the model must know


@dataclass(frozen=True, slots=True)
class TrainedModel:
    vocabularies: tuple[Vocabulary, ...]  # character n-grams, word n-grams
    billing: Binary  # technical (0) vs billing (1)
    other: Binary  # the rest (0) vs other (1)
    kind: Multinomial | None  # None without kind labels
    informative: frozenset[str]  # words that move a decision
    thresholds: Thresholds
    kind_categories: Mapping[str, str]
    metadata: dict[str, Any]
    # Every model's weights side by side, one row per feature: a mail's few hundred
    # features are gathered once for all of them.
    stacked: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = [self.billing.coef[:, np.newaxis], self.other.coef[:, np.newaxis]]
        if self.kind is not None:
            columns.append(self.kind.coef.T)
        object.__setattr__(
            self, "stacked", np.ascontiguousarray(np.hstack(columns), dtype=np.float32)
        )

    @property
    def width(self) -> int:
        return sum(v.width for v in self.vocabularies)

    def features(self, subject: str, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The mail's non-zero features (columns, values) and its words."""
        prepared = model_text(subject, text)
        tokens = words(prepared)
        columns, values, offset = [], [], 0
        for vocabulary in self.vocabularies:
            terms = word_ngrams_of(tokens) if vocabulary.family == "word" else None
            c, v = vocabulary.row(prepared, terms)
            columns.append(c + offset)
            values.append(v)
            offset += vocabulary.width
        return np.concatenate(columns), np.concatenate(values).astype(np.float32), tokens

    def predict(self, subject: str, text: str, threshold: float = 0.6) -> Prediction:
        """One mail; ``threshold``: the calibrated probability under which technical vs
        billing is left unsure (``triage.confidence_threshold``)."""
        columns, values, tokens = self.features(subject, text)
        products = values @ self.stacked[columns]
        p_billing = self.billing.probability(float(products[0]))
        p_other = self.other.probability(float(products[1]))
        kind_probs = self.kind.probabilities(products[2:]) if self.kind else None
        informative = self.informative
        evidence = len({w for w in tokens if w in informative})  # courtesy is not in tokens
        word_index = self.vocabularies[-1].index
        known = sum(w in word_index for w in tokens)
        best = "billing" if p_billing >= 0.5 else "technical"
        confidence = max(p_billing, 1.0 - p_billing)
        if len(tokens) >= 6 and known / len(tokens) < self.thresholds.min_known_share:
            rule, unsure = "unknown-vocabulary", True
        elif evidence < self.thresholds.min_evidence:
            rule, unsure = "no-evidence", True
        elif p_other >= self.thresholds.other:
            rule, best, confidence = "other-evidence", "other", p_other
            unsure = p_other < threshold
        elif confidence < threshold:
            rule, unsure = "weak-margin", True
        else:
            rule, unsure = "technical-vs-billing", False
        kind, kind_confidence = self._kind_within(best, kind_probs)
        return Prediction(best, confidence, kind, kind_confidence, unsure, rule, evidence, p_other)

    def predict_many(
        self, mails: Sequence[tuple[str, str]], threshold: float = 0.6
    ) -> list[Prediction]:
        return [self.predict(subject, text, threshold) for subject, text in mails]

    def _kind_within(
        self, category: str, probabilities: np.ndarray | None
    ) -> tuple[str | None, float]:
        if probabilities is None or self.kind is None:
            return None, 0.0
        allowed = [
            i for i, k in enumerate(self.kind.classes) if self.kind_categories.get(k) == category
        ]
        if not allowed:
            return None, 0.0
        pick = max(allowed, key=lambda i: probabilities[i])
        share = float(sum(probabilities[i] for i in allowed))
        return self.kind.classes[pick], float(probabilities[pick]) / share if share else 0.0


# ---- the file ----------------------------------------------------------------------------


def to_arrays(model: TrainedModel) -> dict[str, np.ndarray]:
    """The model as named plain arrays (strings as fixed-width unicode, no objects)."""
    arrays: dict[str, np.ndarray] = {}
    for vocabulary in model.vocabularies:
        terms = sorted(vocabulary.index, key=vocabulary.index.__getitem__)
        arrays[f"{vocabulary.family}_terms"] = np.array(terms, dtype=np.str_)
        arrays[f"{vocabulary.family}_idf"] = vocabulary.idf.astype(np.float64)
    for name, binary in (("billing", model.billing), ("other", model.other)):
        arrays[f"{name}_coef"] = binary.coef.astype(np.float32)
        arrays[f"{name}_calibration"] = np.array(
            [binary.intercept, binary.a, binary.c], dtype=np.float64
        )
    if model.kind is not None:
        arrays["kind_classes"] = np.array(model.kind.classes, dtype=np.str_)
        arrays["kind_coef"] = model.kind.coef.astype(np.float32)
        arrays["kind_intercept"] = model.kind.intercept.astype(np.float64)
    arrays["informative"] = np.array(sorted(model.informative), dtype=np.str_)
    return arrays


def from_arrays(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> TrainedModel:
    families = meta.get("families", ["char", "word"])
    vocabularies = tuple(
        Vocabulary(f, arrays[f"{f}_terms"].tolist(), arrays[f"{f}_idf"]) for f in families
    )
    width = sum(v.width for v in vocabularies)

    def binary(name: str) -> Binary:
        coef = np.asarray(arrays[f"{name}_coef"], dtype=np.float32)
        if coef.shape != (width,):
            raise ModelError(f"{name} model: {coef.shape} weights for {width} features")
        intercept, a, c = (float(x) for x in arrays[f"{name}_calibration"])
        return Binary(coef, intercept, a, c)

    kind = None
    if "kind_coef" in arrays:
        coef = np.asarray(arrays["kind_coef"], dtype=np.float32)
        classes = tuple(str(k) for k in arrays["kind_classes"].tolist())
        if coef.shape != (len(classes), width):
            raise ModelError(f"kind model: {coef.shape} weights for {len(classes)}×{width}")
        kind = Multinomial(classes, coef, np.asarray(arrays["kind_intercept"], np.float64))
    limits = meta.get("thresholds", {})
    return TrainedModel(
        vocabularies,
        binary("billing"),
        binary("other"),
        kind,
        frozenset(str(w) for w in arrays["informative"].tolist()),
        Thresholds(
            float(limits.get("other", 0.8)),
            int(limits.get("min_evidence", 2)),
            float(limits.get("min_known_share", 0.3)),
        ),
        dict(meta.get("kind_categories", {})),
        dict(meta),
    )


def save(model: TrainedModel, directory: Path, metadata: Mapping[str, Any]) -> Path:
    """Write the archive and its metadata (with the archive's SHA-256) into ``directory``,
    each replaced atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    temporary = directory / (MODEL_FILE + ".tmp")
    with temporary.open("wb") as handle:
        arrays: dict[str, Any] = dict(to_arrays(model))  # names, not a keyword of savez
        np.savez_compressed(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    meta = {
        **metadata,
        "format": FORMAT,
        "families": [v.family for v in model.vocabularies],
        "thresholds": {
            "other": model.thresholds.other,
            "min_evidence": model.thresholds.min_evidence,
            "min_known_share": model.thresholds.min_known_share,
        },
        "kind_categories": dict(model.kind_categories),
        "model_file": MODEL_FILE,
        "model_sha256": _sha256(temporary),
        "model_bytes": temporary.stat().st_size,
    }
    meta_temporary = directory / (META_FILE + ".tmp")
    meta_temporary.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)
    meta_temporary.replace(directory / META_FILE)
    return path


def load(directory: Path) -> TrainedModel:
    """Load a model, refusing a file whose hash or content is not as recorded."""
    path, meta_path = directory / MODEL_FILE, directory / META_FILE
    if not path.exists() or not meta_path.exists():
        raise ModelError(f"no trained model in {directory} ({MODEL_FILE} + {META_FILE})")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path}: unreadable metadata: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelError(f"{meta_path}: model format {found!r}, expected {FORMAT}")
    actual = _sha256(path)
    if actual != meta.get("model_sha256"):
        raise ModelError(
            f"{path}: SHA-256 {actual[:12]}… does not match the metadata "
            f"({str(meta.get('model_sha256'))[:12]}…): the file was changed; refusing to load"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        return from_arrays(arrays, meta)
    except ModelError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ModelError(
                f"{path}: holds Python objects (pickled data); refusing to load"
            ) from None
        raise ModelError(f"{path}: not a readable model: {exc}") from None
    except (KeyError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{path}: not a readable model: {type(exc).__name__}: {exc}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
