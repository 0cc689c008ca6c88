"""Fitting the classifier (scikit-learn is imported here only, never to classify).

Why each choice (measured on the held-out set, see ``models/README.md``):
- *Technical vs billing decided by its own binary model*, fitted on technical and billing
  mail only: ``other`` then cannot soak up mail that merely lacks telecom words.
- *Other on positive evidence*: a separate other-vs-rest model, whose threshold is set so
  that few technical or billing mails of unseen writers reach it.
- *Calibration on unseen writers*: the sigmoids are fitted on out-of-group decisions, each
  group (a source file of the corpus: one writer, style or language batch) scored by models
  fitted without it. A confidence fitted on the training style itself is far too high on
  mail written otherwise.
- Logistic regression (L2): smoother scores than an SVM, cheap to fit, and its weights
  alone are the model at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from maildesk.triage.learned.augment import with_courtesy
from maildesk.triage.learned.corpus import Example
from maildesk.triage.learned.features import ANALYZERS, Vocabulary, model_text
from maildesk.triage.learned.model import (
    Binary,
    ModelError,
    Multinomial,
    Thresholds,
    TrainedModel,
)

Progress = Callable[[str], None]

SETTINGS: dict[str, Any] = {
    "families": {
        "char": {"min_df": 2, "max_features": 40000},
        "word": {"min_df": 2, "max_features": 20000},
    },
    "C_binary": 4.0,
    "C_kind": 8.0,
    "min_evidence": 2,
    "min_known_share": 0.3,
    "informative_quantile": 0.5,  # of the words' weights: the lighter half says nothing
    "other_false_rate": 0.03,  # technical/billing mail of unseen writers sorted other, at most
    "other_floor": 0.5,
    "courtesy_copies": True,  # see augment.py
}


@dataclass(frozen=True, slots=True)
class OutOfGroup:
    """What the models said of each training mail when fitted without its group."""

    p_billing: np.ndarray  # NaN for mail that is neither technical nor billing
    p_other: np.ndarray
    groups: list[str]


def group_of(example: Example) -> str:
    """A corpus file is one writer's batch: the unit mail is held out by."""
    return Path(example.source.rsplit(":", 1)[0]).name or "?"


def train(
    examples: Sequence[Example],
    kind_categories: Mapping[str, str],
    *,
    progress: Progress = lambda step: None,
    settings: Mapping[str, Any] | None = None,
) -> TrainedModel:
    """Fit the vocabularies, the three models and their calibration."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    options = {**SETTINGS, **(settings or {})}
    categories = {e.category for e in examples}
    if not {"technical", "billing"} <= categories:
        raise ModelError("training needs technical and billing examples")
    progress("features")
    if options["courtesy_copies"]:
        examples = [*examples, *with_courtesy(examples)]
    texts = [model_text(e.subject, e.text) for e in examples]
    vectorizers = {
        family: TfidfVectorizer(
            analyzer=ANALYZERS[family], sublinear_tf=True, dtype=np.float32, **params
        )
        for family, params in options["families"].items()
    }
    features = hstack([v.fit_transform(texts) for v in vectorizers.values()], format="csr")
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    groups = [group_of(e) for e in examples]
    billing_mask = np.array([e.category in ("technical", "billing") for e in examples])
    billing_y = np.array([e.category == "billing" for e in examples], dtype=int)
    other_y = np.array([e.category == "other" for e in examples], dtype=int)

    progress("category model")
    billing_fit = _logistic(
        features[billing_mask], billing_y[billing_mask], weights[billing_mask], options["C_binary"]
    )
    other_fit = _logistic(features, other_y, weights, options["C_binary"])
    progress("calibration")
    held = _out_of_group(features, billing_mask, billing_y, other_y, weights, groups, options)
    billing = _calibrated(billing_fit, held.p_billing[billing_mask], billing_y[billing_mask])
    other = _calibrated(other_fit, held.p_other, other_y)
    progress("kind model")
    kind = None
    with_kind = [i for i, e in enumerate(examples) if e.kind]
    if len({examples[i].kind for i in with_kind}) >= 2:
        fitted = _multinomial(
            features[with_kind],
            [str(examples[i].kind) for i in with_kind],
            weights[with_kind],
            options["C_kind"],
        )
        kind = Multinomial(
            tuple(str(c) for c in fitted.classes_),
            fitted.coef_.astype(np.float32),
            fitted.intercept_.astype(np.float64),
        )
    vocabularies = tuple(
        Vocabulary(family, list(v.get_feature_names_out()), v.idf_)
        for family, v in vectorizers.items()
    )
    other_threshold = max(
        float(options["other_floor"]),
        float(_platt(other, np.array([_other_cut(held.p_other, other_y, options)]))[0]),
    )
    return TrainedModel(
        vocabularies,
        billing,
        other,
        kind,
        _informative(vocabularies, billing, other, options["informative_quantile"]),
        Thresholds(
            other_threshold,
            int(options["min_evidence"]),
            float(options["min_known_share"]),
        ),
        dict(kind_categories),
        {
            "calibration": {
                "groups": sorted(set(groups)),
                "out_of_group": _held_summary(
                    held, billing_y, other_y, billing_mask, billing, other, other_threshold
                ),
            }
        },
    )


def _logistic(features: Any, labels: np.ndarray, weights: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=c, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0
    )
    return model.fit(features, labels, sample_weight=weights)


def _multinomial(features: Any, labels: Sequence[str], weights: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    return model.fit(features, list(labels), sample_weight=weights)


def _decision(fitted: Any, features: Any) -> np.ndarray:
    return np.asarray(features @ fitted.coef_[0] + fitted.intercept_[0]).ravel()


def _out_of_group(
    features: Any,
    billing_mask: np.ndarray,
    billing_y: np.ndarray,
    other_y: np.ndarray,
    weights: np.ndarray,
    groups: Sequence[str],
    options: Mapping[str, Any],
) -> OutOfGroup:
    """Raw decisions for each group from models fitted on every other group."""
    p_billing = np.full(len(groups), np.nan)
    p_other = np.full(len(groups), np.nan)
    names = np.array(groups)
    for group in sorted(set(groups)):
        inside = names == group
        train_billing = ~inside & billing_mask
        if len(set(billing_y[train_billing])) == 2:
            fit = _logistic(
                features[train_billing],
                billing_y[train_billing],
                weights[train_billing],
                options["C_binary"],
            )
            scored = inside & billing_mask
            p_billing[scored] = _decision(fit, features[scored])
        if len(set(other_y[~inside])) == 2:
            fit = _logistic(
                features[~inside], other_y[~inside], weights[~inside], options["C_binary"]
            )
            p_other[inside] = _decision(fit, features[inside])
    return OutOfGroup(p_billing, p_other, list(groups))


def _calibrated(fitted: Any, held_decisions: np.ndarray, labels: np.ndarray) -> Binary:
    """Platt scaling of the final model's decision, fitted on out-of-group decisions."""
    from sklearn.linear_model import LogisticRegression

    usable = ~np.isnan(held_decisions)
    coef = fitted.coef_[0].astype(np.float32)
    intercept = float(fitted.intercept_[0])
    if usable.sum() < 10 or len(set(labels[usable])) < 2:
        return Binary(coef, intercept, -1.0, 0.0)
    platt = LogisticRegression(C=1e4).fit(held_decisions[usable].reshape(-1, 1), labels[usable])
    # P(1) = 1 / (1 + exp(-(w·d + b)))  →  a = -w, c = -b
    return Binary(coef, intercept, -float(platt.coef_[0][0]), -float(platt.intercept_[0]))


def _platt(binary: Binary, decision: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(np.clip(binary.a * decision + binary.c, -500, 500)))


def _other_cut(held: np.ndarray, other_y: np.ndarray, options: Mapping[str, Any]) -> float:
    """The raw decision above which at most ``other_false_rate`` of the technical and
    billing mail of unseen writers lies (the sigmoid is monotonic: its image is the
    probability threshold)."""
    rest = held[~np.isnan(held) & (other_y == 0)]
    if not len(rest):
        return float("inf")
    return float(np.quantile(rest, 1.0 - float(options["other_false_rate"])))


def _informative(
    vocabularies: Sequence[Vocabulary], billing: Binary, other: Binary, quantile: float
) -> frozenset[str]:
    """Words whose weight in either binary model is in the upper part of all words'."""
    words = vocabularies[-1]
    start = sum(v.width for v in vocabularies[:-1])
    unigrams = [(t, i) for t, i in words.index.items() if " " not in t]
    columns = np.array([start + i for _, i in unigrams], dtype=np.int64)
    strength = np.maximum(np.abs(billing.coef[columns]), np.abs(other.coef[columns]))
    cut = float(np.quantile(strength, quantile)) if len(strength) else 0.0
    return frozenset(t for (t, _), s in zip(unigrams, strength, strict=True) if s > cut)


def _held_summary(
    held: OutOfGroup,
    billing_y: np.ndarray,
    other_y: np.ndarray,
    billing_mask: np.ndarray,
    billing: Binary,
    other: Binary,
    other_threshold: float,
) -> dict[str, Any]:
    """How the models fared on the groups they were not fitted on (calibrated as shipped):
    what the thresholds were chosen from."""
    scored = billing_mask & ~np.isnan(held.p_billing)
    p_billing = _platt(billing, held.p_billing[scored])
    right = (p_billing >= 0.5) == (billing_y[scored] == 1)
    confidence = np.maximum(p_billing, 1 - p_billing)
    groups = np.array(held.groups)[scored]
    per_group = {
        str(group): round(float(right[groups == group].mean()), 4)
        for group in sorted(set(groups.tolist()))
    }
    usable = ~np.isnan(held.p_other)
    sorted_other = _platt(other, held.p_other[usable]) >= other_threshold
    is_other = other_y[usable] == 1
    return {
        "mails": int(scored.sum()),
        "technical_vs_billing_accuracy": round(float(right.mean()), 4),
        "technical_vs_billing_accuracy_per_group": per_group,
        "technical_vs_billing_unsure_and_error": {
            str(t): [
                round(float(np.mean(confidence < t)), 4),
                round(float(np.mean(~right[confidence >= t])), 4),
            ]
            for t in (0.5, 0.6, 0.7, 0.8, 0.9)
        },
        "other_recall": round(float(np.mean(sorted_other[is_other])), 4),
        "other_false_rate": round(float(np.mean(sorted_other[~is_other])), 4),
    }


def library_versions() -> dict[str, str]:
    """What trained the model, recorded in its metadata."""
    import platform
    from importlib.metadata import version

    names = ("scikit-learn", "numpy", "scipy")
    return {"python": platform.python_version(), **{n: version(n) for n in names}}
