"""Triage: category and kind, priority, deadlines — behind small interfaces.

The pipeline only knows the ``Classifier``, ``PriorityRule`` and ``DeadlineRule``
protocols. The first versions here are deliberately simple (catalogue keywords,
fixed wall-clock hours); better ones plug in behind the same protocols.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from maildesk.config import Config, IncidentKind

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True, slots=True)
class TriageInput:
    """What triage may look at: the subject and the client's own words."""

    subject: str
    text: str
    language: str
    from_address: str


@dataclass(frozen=True, slots=True)
class Classification:
    category: str  # technical / billing / other
    confidence: float  # 0..1
    kind: str  # catalogue id
    reason: str


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    level: str  # P1..P4
    reason: str


@dataclass(frozen=True, slots=True)
class Deadline:
    first_response_due: datetime
    resolution_due: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Triage:
    classification: Classification
    unsure: bool
    priority: PriorityDecision
    deadline: Deadline


class Classifier(Protocol):
    def classify(self, mail: TriageInput) -> Classification: ...


class PriorityRule(Protocol):
    def assess(self, mail: TriageInput, kind: IncidentKind) -> PriorityDecision: ...


class DeadlineRule(Protocol):
    def deadline(self, received_at: datetime, kind: IncidentKind, priority: str) -> Deadline: ...


def normalize(text: str) -> str:
    """Lower case, no accents, single spaces: keyword matching that survives typing habits."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped.replace("·", "")).strip()


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Plurals count too: "datafonos", "extensiones", "factures".
    escaped = re.escape(normalize(keyword).replace("·", ""))
    return re.compile(r"(?<!\w)" + escaped + r"(?:s|es)?(?!\w)")


class KeywordClassifier:
    """First classifier: counts catalogue keywords; the subject weighs double."""

    def __init__(self, kinds: Sequence[IncidentKind], default_kind: str) -> None:
        self._kinds = {kind.id: kind for kind in kinds}
        self._default = default_kind
        unique = {
            (kind.id, normalize(keyword).replace("·", "")): keyword
            for kind in kinds
            for keyword in kind.keywords
        }  # "instal·lació" and "installacio" are one keyword, not two votes
        self._patterns = [
            (kind_id, keyword, _keyword_pattern(keyword))
            for (kind_id, _), keyword in unique.items()
        ]

    def classify(self, mail: TriageInput) -> Classification:
        subject, body = normalize(mail.subject), normalize(mail.text)
        scores: dict[str, float] = {}
        hits: dict[str, list[str]] = {}
        for kind_id, keyword, pattern in self._patterns:
            weight = 2.0 * len(pattern.findall(subject)) + len(pattern.findall(body))
            if weight:
                scores[kind_id] = scores.get(kind_id, 0.0) + weight
                hits.setdefault(kind_id, []).append(keyword)
        if not scores:
            default = self._kinds[self._default]
            return Classification(default.category, 0.3, default.id, "keywords: none matched")
        by_category: dict[str, float] = {}
        for kind_id, score in scores.items():
            category = self._kinds[kind_id].category
            by_category[category] = by_category.get(category, 0.0) + score
        category = max(by_category, key=lambda c: by_category[c])
        kind_id = max(
            (k for k in scores if self._kinds[k].category == category), key=lambda k: scores[k]
        )
        total = sum(by_category.values())
        # Share of the evidence, discounted when there is little of it.
        confidence = round(by_category[category] / total * min(1.0, 0.55 + 0.15 * total), 3)
        return Classification(
            category, confidence, kind_id, "keywords: " + ", ".join(sorted(set(hits[kind_id])))
        )


_URGENT = tuple(
    _keyword_pattern(k)
    for k in (
        "urgente",
        "urgencia",
        "sin servicio",
        "no funciona nada",
        "no podemos trabajar",
        "no podemos cobrar",
        "urgent",
        "sense servei",
        "no podem treballar",
        "no podem cobrar",
        "asap",
        "no service",
        "cannot work",
        "can't take payments",
        "lo antes posible",
    )
)


class KindPriority:
    """Priority from the kind, raised one level by urgency cues in the text."""

    def assess(self, mail: TriageInput, kind: IncidentKind) -> PriorityDecision:
        text = normalize(f"{mail.subject} {mail.text}")
        level = kind.priority
        for pattern in _URGENT:
            match = pattern.search(text)
            if match and level != "P1":
                raised = PRIORITIES[PRIORITIES.index(level) - 1]
                return PriorityDecision(
                    raised, f"kind {kind.id} {level}, raised: {match.group(0)!r}"
                )
        return PriorityDecision(level, f"kind {kind.id} default")


class FixedHoursDeadline:
    """Deadlines as wall-clock hours from arrival (replaced by business time later)."""

    def deadline(self, received_at: datetime, kind: IncidentKind, priority: str) -> Deadline:
        return Deadline(
            received_at + timedelta(hours=kind.first_response_hours),
            received_at + timedelta(hours=kind.resolution_hours),
            f"kind {kind.id}: {kind.first_response_hours:g} h / {kind.resolution_hours:g} h",
        )


class Triager:
    """Runs the three decisions in order and marks low-confidence results as unsure."""

    def __init__(
        self,
        config: Config,
        classifier: Classifier,
        priority_rule: PriorityRule,
        deadline_rule: DeadlineRule,
    ) -> None:
        self._config = config
        self._classifier = classifier
        self._priority = priority_rule
        self._deadline = deadline_rule

    def triage(self, mail: TriageInput, received_at: datetime) -> Triage:
        classification = self._classifier.classify(mail)
        try:
            kind = self._config.kind(classification.kind)
        except KeyError:
            kind = self._config.kind(self._config.triage.default_kind)
            classification = Classification(
                classification.category,
                classification.confidence,
                kind.id,
                f"{classification.reason}; unknown kind {classification.kind!r}",
            )
        priority = self._priority.assess(mail, kind)
        deadline = self._deadline.deadline(received_at, kind, priority.level)
        unsure = classification.confidence < self._config.triage.confidence_threshold
        return Triage(classification, unsure, priority, deadline)


def default_triager(config: Config) -> Triager:
    return Triager(
        config,
        KeywordClassifier(config.kinds, config.triage.default_kind),
        KindPriority(),
        FixedHoursDeadline(),
    )
