"""How good a model is on labelled mail: technical-vs-billing macro-F1 (overall and per
language), what was left unsure or sent to ``other``, kind accuracy, per-class scores,
confusion matrices, how honest the confidence is, and the unsure trade-off."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maildesk.triage.learned.corpus import CATEGORIES, Example
from maildesk.triage.learned.model import Prediction, TrainedModel

TECH_BILLING = ("technical", "billing")
TRADE_OFF_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True, slots=True)
class Evaluation:
    count: int
    category_accuracy: float
    category_macro_f1: float
    tech_billing_macro_f1: float  # on mails labelled technical or billing
    kind_accuracy: float | None
    calibration_error: float  # expected calibration error of the category confidence
    unsure_share: float
    unsure_accuracy: float | None  # accuracy of the guesses left unsure (should be low)
    sure_accuracy: float | None  # accuracy on the rest: what is routed without a person
    tech_billing_lost: float  # share of technical/billing mail sorted other or unsure
    rules: dict[str, int] = field(default_factory=dict)
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)
    category_report: dict[str, dict[str, float]] = field(default_factory=dict)
    category_confusion: list[list[int]] = field(default_factory=list)
    kind_report: dict[str, dict[str, float]] = field(default_factory=dict)
    kind_labels: list[str] = field(default_factory=list)
    kind_confusion: list[list[int]] = field(default_factory=list)
    trade_off: list[dict[str, float]] = field(default_factory=list)

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
            "sure_accuracy": self.sure_accuracy,
            "tech_billing_lost": self.tech_billing_lost,
            "per_language": self.per_language,
        }


def evaluate(model: TrainedModel, examples: Sequence[Example], threshold: float) -> Evaluation:
    if not examples:
        raise ValueError("nothing to evaluate: no examples")
    predictions = model.predict_many([(e.subject, e.text) for e in examples], threshold)
    return evaluation_of(examples, predictions, threshold, model)


def evaluation_of(
    examples: Sequence[Example],
    predictions: Sequence[Prediction],
    threshold: float,
    model: TrainedModel | None = None,
) -> Evaluation:
    truth = [e.category for e in examples]
    guess = [p.category for p in predictions]
    labels = [c for c in CATEGORIES if c in truth or c in guess]
    kinds = [(e.kind, p.kind or "") for e, p in zip(examples, predictions, strict=True) if e.kind]
    kind_labels = sorted({k for pair in kinds for k in pair if k})
    unsure = [p.unsure for p in predictions]
    unsure_right = [t == g for t, g, u in zip(truth, guess, unsure, strict=True) if u]
    sure_right = [t == g for t, g, u in zip(truth, guess, unsure, strict=True) if not u]
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({e.language or "?" for e in examples}):
        index = [i for i, e in enumerate(examples) if (e.language or "?") == language]
        per_language[language] = {
            "count": len(index),
            "category_accuracy": _accuracy([truth[i] for i in index], [guess[i] for i in index]),
            "tech_billing_macro_f1": _tech_billing_f1(
                [truth[i] for i in index], [guess[i] for i in index]
            ),
            "tech_billing_lost": _lost(
                [examples[i] for i in index], [predictions[i] for i in index]
            ),
            "unsure_share": round(sum(unsure[i] for i in index) / len(index), 4),
        }
    return Evaluation(
        count=len(examples),
        category_accuracy=_accuracy(truth, guess),
        category_macro_f1=round(_macro_f1(truth, guess, labels), 4),
        tech_billing_macro_f1=_tech_billing_f1(truth, guess),
        kind_accuracy=_accuracy([t for t, _ in kinds], [g for _, g in kinds]) if kinds else None,
        calibration_error=_calibration_error(truth, predictions),
        unsure_share=round(sum(unsure) / len(unsure), 4),
        unsure_accuracy=round(sum(unsure_right) / len(unsure_right), 4) if unsure_right else None,
        sure_accuracy=round(sum(sure_right) / len(sure_right), 4) if sure_right else None,
        tech_billing_lost=_lost(examples, predictions),
        rules=dict(Counter(p.rule for p in predictions)),
        per_language=per_language,
        category_report=_report(truth, guess, labels),
        category_confusion=_confusion(truth, guess, labels),
        kind_report=_report([t for t, _ in kinds], [g for _, g in kinds], kind_labels),
        kind_labels=kind_labels,
        kind_confusion=_confusion([t for t, _ in kinds], [g for _, g in kinds], kind_labels),
        trade_off=_trade_off(truth, predictions),
    )


def _accuracy(truth: Sequence[Any], guess: Sequence[Any]) -> float:
    if not truth:
        return float("nan")
    right = sum(bool(t == g) for t, g in zip(truth, guess, strict=True))
    return round(right / len(truth), 4)


def _scores(truth: Sequence[str], guess: Sequence[str], label: str) -> tuple[float, float, float]:
    tp = sum(t == label and g == label for t, g in zip(truth, guess, strict=True))
    predicted = sum(g == label for g in guess)
    actual = sum(t == label for t in truth)
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _macro_f1(truth: Sequence[str], guess: Sequence[str], labels: Sequence[str]) -> float:
    if not labels:
        return float("nan")
    return sum(_scores(truth, guess, label)[2] for label in labels) / len(labels)


def _report(
    truth: Sequence[str], guess: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, float]]:
    report = {}
    for label in labels:
        precision, recall, f1 = _scores(truth, guess, label)
        report[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1-score": round(f1, 4),
            "support": sum(t == label for t in truth),
        }
    return report


def _confusion(
    truth: Sequence[str], guess: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    counts = Counter(zip(truth, guess, strict=True))
    return [[counts[(t, g)] for g in labels] for t in labels]


def _tech_billing_f1(truth: Sequence[str], guess: Sequence[str]) -> float:
    """Macro-F1 over technical and billing, on the mails labelled one of them (a mail of
    either sent to "other" counts as a miss)."""
    pairs = [(t, g) for t, g in zip(truth, guess, strict=True) if t in TECH_BILLING]
    if not pairs:
        return float("nan")
    present = [c for c in TECH_BILLING if any(t == c for t, _ in pairs)]
    return round(_macro_f1([t for t, _ in pairs], [g for _, g in pairs], present), 4)


def _lost(examples: Sequence[Example], predictions: Sequence[Prediction]) -> float:
    """Of the technical and billing mail, the share sorted other or left unsure: what a
    person has to sort or what reaches nobody."""
    pairs = [
        (e, p) for e, p in zip(examples, predictions, strict=True) if e.category in TECH_BILLING
    ]
    if not pairs:
        return float("nan")
    return round(sum(p.unsure or p.category == "other" for _, p in pairs) / len(pairs), 4)


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


def _trade_off(truth: Sequence[str], predictions: Sequence[Prediction]) -> list[dict[str, float]]:
    """For candidate thresholds: the share left unsure and the error rate on the rest (the
    mail routed without a person). Mail unsure for lack of evidence stays unsure."""
    rows = []
    for threshold in TRADE_OFF_THRESHOLDS:
        unsure = [
            p.rule in ("no-evidence", "unknown-vocabulary") or p.category_confidence < threshold
            for p in predictions
        ]
        routed = [
            (t, p.category) for t, p, u in zip(truth, predictions, unsure, strict=True) if not u
        ]
        rows.append(
            {
                "threshold": threshold,
                "unsure_share": round(sum(unsure) / len(unsure), 4),
                "error_on_rest": round(sum(t != g for t, g in routed) / len(routed), 4)
                if routed
                else float("nan"),
            }
        )
    return rows


def format_evaluation(result: Evaluation, title: str) -> str:
    """The report ``maildesk evaluate`` prints."""
    lines = [
        f"== {title}: {result.count} mails",
        f"technical vs billing macro-F1 {result.tech_billing_macro_f1:.3f}; technical/billing "
        f"mail sorted other or unsure {100 * result.tech_billing_lost:.1f}%",
        f"category accuracy {result.category_accuracy:.3f}, macro-F1 "
        f"{result.category_macro_f1:.3f}"
        + (
            f"; kind accuracy {result.kind_accuracy:.3f}"
            if result.kind_accuracy is not None
            else ""
        ),
        f"unsure {100 * result.unsure_share:.1f}%"
        + (
            f" (their guess right {100 * result.unsure_accuracy:.0f}%)"
            if result.unsure_accuracy is not None
            else ""
        )
        + (
            f"; accuracy on the rest {100 * result.sure_accuracy:.1f}%"
            if result.sure_accuracy is not None
            else ""
        )
        + f"; calibration error {result.calibration_error:.3f}",
        "decided by: " + ", ".join(f"{rule} {n}" for rule, n in sorted(result.rules.items())),
        "",
        "language  mails  tech/billing F1  other/unsure  unsure  accuracy",
        *(
            f"{lang:<8} {int(v['count']):>6}  {v['tech_billing_macro_f1']:>15.3f}  "
            f"{100 * v['tech_billing_lost']:>11.1f}%  {100 * v['unsure_share']:>5.1f}%  "
            f"{v['category_accuracy']:>8.3f}"
            for lang, v in result.per_language.items()
        ),
        "",
        "unsure threshold  unsure  errors on the rest",
        *(
            f"{row['threshold']:>16.2f}  {100 * row['unsure_share']:>5.1f}%  "
            f"{100 * row['error_on_rest']:>17.1f}%"
            for row in result.trade_off
        ),
        "",
        _report_table(result.category_report, "category"),
        "",
        _confusion_table(list(result.category_report), result.category_confusion),
    ]
    if result.kind_report:
        lines += ["", _report_table(result.kind_report, "kind")]
        lines += ["", _confusion_table(result.kind_labels, result.kind_confusion)]
    return "\n".join(lines)


def _report_table(report: dict[str, Any], what: str) -> str:
    rows = [f"{what:<24} precision  recall     F1  support"]
    for label, scores in report.items():
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
