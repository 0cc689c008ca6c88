"""The trained model behind the triage ``Classifier`` protocol, with the keyword classifier
as the fallback when no usable model is installed (said once, loudly, at start)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from maildesk.config import Config
from maildesk.triage.learned.model import META_FILE, MODEL_FILE, ModelError, TrainedModel, load
from maildesk.triage.rules import Classification, Classifier, KeywordClassifier, TriageInput

log = logging.getLogger("maildesk.classifier")


class ModelClassifier:
    """Category with its calibrated confidence, and the kind within that category."""

    def __init__(self, model: TrainedModel, config: Config) -> None:
        self._model = model
        self._threshold = config.triage.confidence_threshold
        self._known = {kind.id for kind in config.kinds}
        self._fallback_kind = {
            category: next((k.id for k in config.kinds if k.category == category), None)
            for category in ("technical", "billing", "other")
        }
        self._default_kind = config.triage.default_kind
        self._version = str(model.metadata.get("trained_at", "?"))

    @property
    def model(self) -> TrainedModel:
        return self._model

    def classify(self, mail: TriageInput) -> Classification:
        p = self._model.predict(mail.subject, mail.text, self._threshold)
        kind = p.kind
        note = f"kind {kind} {p.kind_confidence:.2f}"
        if kind is None or kind not in self._known:
            kind = self._fallback_kind.get(p.category) or self._default_kind
            note = f"kind {kind} (first of its category)"
        return Classification(
            p.category,
            round(p.category_confidence, 3),
            kind,
            f"model {self._version}: {p.rule}: {p.category} {p.category_confidence:.2f} "
            f"(other {p.other_probability:.2f}, {p.evidence} telling words); {note}",
            p.unsure,
        )


def _stamp(directory: Path) -> tuple[float, ...]:
    """Changes when the model files change, so that a retrained model is picked up."""
    return tuple(
        (directory / name).stat().st_mtime if (directory / name).exists() else 0.0
        for name in (MODEL_FILE, META_FILE)
    )


@functools.lru_cache(maxsize=4)
def _load_cached(directory: Path, stamp: tuple[float, ...]) -> TrainedModel:
    return load(directory)


def load_classifier(config: Config) -> Classifier:
    """The configured classifier: the trained model in ``models_dir``, else keywords."""
    keywords = KeywordClassifier(config.kinds, config.triage.default_kind)
    if config.triage.classifier == "keywords":
        return keywords
    try:
        model = _load_cached(config.models_dir, _stamp(config.models_dir))
    except ModelError as exc:
        log.warning(
            f"classifier: using the keyword rules, the trained model is unusable: {exc}",
            extra={"error": str(exc)},
        )
        return keywords
    return ModelClassifier(model, config)
