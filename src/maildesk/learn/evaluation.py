"""How good a model is on labelled mail: per-class precision/recall/F1, confusion matrices,
technical-vs-billing macro-F1 per language, kind accuracy and how honest the confidence is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maildesk.learn.corpus import CATEGORIES, Example
from maildesk.learn.model import Prediction, TrainedModel

TECH_BILLING = ("technical", "billing")


@dataclass(frozen=True, slots=True)
class Evaluation:
    count: int
    category_accuracy: float
    category_macro_f1: float
    tech_billing_macro_f1: float  # on mails labelled technical or billing
    kind_accuracy: float | None
    calibration_error: float  # expected calibration error of the category confidence
    unsure_share: float  # below the confidence threshold
    unsure_accuracy: float | None  # accuracy on the unsure ones (should be low)
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)
    category_report: dict[str, dict[str, float]] = field(default_factory=dict)
    category_confusion: list[list[int]] = field(default_factory=list)
    kind_report: dict[str, dict[str, float]] = field(default_factory=dict)
    kind_labels: list[str] = field(default_factory=list)
    kind_confusion: list[list[int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The figures recorded in the model's metadata."""
        return {
            "count": self.count,
            "category_accuracy": self.category_accuracy,
            "category_macro_f1": self.category_macro_f1,
            "tech_billing_macro_f1": self.tech_billing_macro_f1,
            "kind_accuracy": self.kind_accuracy,
            "calibration_error": self.calibration_error,
            "unsure_share": self.unsure_share,
            "per_language": self.per_language,
        }


def evaluate(model: TrainedModel, examples: Sequence[Example], threshold: float) -> Evaluation:
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
    )

    if not examples:
        raise ValueError("nothing to evaluate: no examples")
    predictions = model.predict_many([(e.subject, e.text) for e in examples])
    truth = [e.category for e in examples]
    guess = [p.category for p in predictions]
    labels = [c for c in CATEGORIES if c in truth or c in guess]
    kinds = [(e.kind, p.kind) for e, p in zip(examples, predictions, strict=True) if e.kind]
    kind_labels = sorted({k for pair in kinds for k in pair if k})
    unsure = [p.category_confidence < threshold for p in predictions]
    unsure_right = [t == g for t, g, u in zip(truth, guess, unsure, strict=True) if u]
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({e.language or "?" for e in examples}):
        index = [i for i, e in enumerate(examples) if (e.language or "?") == language]
        per_language[language] = {
            "count": len(index),
            "category_accuracy": round(
                accuracy_score([truth[i] for i in index], [guess[i] for i in index]), 4
            ),
            "tech_billing_macro_f1": _tech_billing_f1(
                [truth[i] for i in index], [guess[i] for i in index]
            ),
        }
    return Evaluation(
        count=len(examples),
        category_accuracy=round(float(accuracy_score(truth, guess)), 4),
        category_macro_f1=round(float(f1_score(truth, guess, labels=labels, average="macro")), 4),
        tech_billing_macro_f1=_tech_billing_f1(truth, guess),
        kind_accuracy=(
            round(float(accuracy_score([t for t, _ in kinds], [g or "" for _, g in kinds])), 4)
            if kinds
            else None
        ),
        calibration_error=_calibration_error(truth, predictions),
        unsure_share=round(sum(unsure) / len(unsure), 4),
        unsure_accuracy=round(sum(unsure_right) / len(unsure_right), 4) if unsure_right else None,
        per_language=per_language,
        category_report=classification_report(
            truth, guess, labels=labels, output_dict=True, zero_division=0
        ),
        category_confusion=confusion_matrix(truth, guess, labels=labels).tolist(),
        kind_report=(
            classification_report(
                [t for t, _ in kinds],
                [g or "" for _, g in kinds],
                labels=kind_labels,
                output_dict=True,
                zero_division=0,
            )
            if kinds
            else {}
        ),
        kind_labels=kind_labels,
        kind_confusion=(
            confusion_matrix(
                [t for t, _ in kinds], [g or "" for _, g in kinds], labels=kind_labels
            ).tolist()
            if kinds
            else []
        ),
    )


def _tech_billing_f1(truth: Sequence[str], guess: Sequence[str]) -> float:
    """Macro-F1 over technical and billing, on the mails labelled one of them (a mail of
    either sent to "other" counts as a miss)."""
    from sklearn.metrics import f1_score

    pairs = [(t, g) for t, g in zip(truth, guess, strict=True) if t in TECH_BILLING]
    if not pairs:
        return float("nan")
    present = [c for c in TECH_BILLING if any(t == c for t, _ in pairs)]
    return round(
        float(
            f1_score(
                [t for t, _ in pairs],
                [g for _, g in pairs],
                labels=present,
                average="macro",
                zero_division=0,
            )
        ),
        4,
    )


def _calibration_error(truth: Sequence[str], predictions: Sequence[Prediction]) -> float:
    """Expected calibration error over ten confidence bins: 0 when "90 % sure" is right
    nine times in ten."""
    confidence = np.array([p.category_confidence for p in predictions])
    right = np.array([t == p.category for t, p in zip(truth, predictions, strict=True)])
    bins = np.minimum((confidence * 10).astype(int), 9)
    error = 0.0
    for b in range(10):
        mask = bins == b
        if mask.any():
            error += mask.mean() * abs(confidence[mask].mean() - right[mask].mean())
    return round(float(error), 4)


def format_evaluation(result: Evaluation, title: str) -> str:
    """The report ``maildesk evaluate`` prints."""
    lines = [
        f"== {title}: {result.count} mails",
        f"category accuracy {result.category_accuracy:.3f}, macro-F1 "
        f"{result.category_macro_f1:.3f}; technical vs billing macro-F1 "
        f"{result.tech_billing_macro_f1:.3f}",
        f"kind accuracy {result.kind_accuracy:.3f}" if result.kind_accuracy is not None else "",
        f"confidence: calibration error {result.calibration_error:.3f}; unsure "
        f"{100 * result.unsure_share:.1f}%"
        + (
            f" (right on {100 * result.unsure_accuracy:.0f}% of those)"
            if result.unsure_accuracy is not None
            else ""
        ),
        "",
        _report_table(result.category_report, "category"),
        "",
        _confusion_table(
            [c for c in CATEGORIES if c in result.category_report], result.category_confusion
        ),
        "",
        "language  mails  accuracy  tech/billing F1",
        *(
            f"{lang:<8} {int(v['count']):>6}  {v['category_accuracy']:>8.3f}  "
            f"{v['tech_billing_macro_f1']:>15.3f}"
            for lang, v in result.per_language.items()
        ),
    ]
    if result.kind_report:
        lines += ["", _report_table(result.kind_report, "kind")]
        lines += ["", _confusion_table(result.kind_labels, result.kind_confusion)]
    return "\n".join(line for line in lines if line is not None)


def _report_table(report: dict[str, Any], what: str) -> str:
    rows = [f"{what:<24} precision  recall     F1  support"]
    for label, scores in report.items():
        if not isinstance(scores, dict) or label in ("micro avg", "weighted avg"):
            continue
        rows.append(
            f"{label:<24} {scores['precision']:>9.3f}  {scores['recall']:>6.3f}  "
            f"{scores['f1-score']:>5.3f}  {int(scores['support']):>7}"
        )
    return "\n".join(rows)


def _confusion_table(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    short = [label[:6] for label in labels]
    rows = ["true \\ predicted".ljust(24) + " ".join(f"{s:>6}" for s in short)]
    for label, counts in zip(labels, matrix, strict=True):
        rows.append(f"{label:<24}" + " ".join(f"{c:>6}" for c in counts))
    return "\n".join(rows)
