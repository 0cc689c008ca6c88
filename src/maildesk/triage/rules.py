"""Triage: category and kind, priority, deadlines — behind small interfaces.

The pipeline only knows the ``Classifier``, ``PriorityRule`` and ``DeadlineRule``
protocols. The keyword classifier is a first version; a trained model plugs in behind the same
protocol. Priorities follow the catalogue and configured cues; deadlines count business time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config, IncidentKind, PriorityConfig
from maildesk.text import normalize

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
    unsure: bool = False  # the classifier itself declines to decide (no evidence, …)


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


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=16)
def _words(text: str) -> tuple[str, ...]:
    """The normalized words of a text; one mail's text is matched by several matchers."""
    return tuple(_WORD.findall(normalize(text)))


class PhraseMatcher:
    """Finds whole-word phrases (accents, case and plurals ignored) with one pass over the
    words of a text and a dictionary lookup per word span, whatever the number of phrases."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._index: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            words = _words(phrase)
            if not words:
                continue
            for last in {words[-1], words[-1] + "s", words[-1] + "es"}:
                self._index.setdefault((*words[:-1], last), phrase)
        # The longest phrase starting with each word: most words of a mail start none, and
        # cost one lookup instead of one per possible phrase length.
        self._spans: dict[str, int] = {}
        for key in self._index:
            self._spans[key[0]] = max(self._spans.get(key[0], 0), len(key))

    def find(self, text: str) -> list[str]:
        """Every phrase occurrence, in order (a phrase found twice is listed twice)."""
        words = _words(text)
        found = []
        index, spans, count = self._index, self._spans, len(words)
        for start, word in enumerate(words):
            longest = spans.get(word)
            if longest is None:
                continue
            for length in range(1, min(longest, count - start) + 1):
                phrase = index.get(words[start : start + length])
                if phrase is not None:
                    found.append(phrase)
        return found


class KeywordClassifier:
    """First classifier: counts catalogue keywords; the subject weighs double."""

    def __init__(self, kinds: Sequence[IncidentKind], default_kind: str) -> None:
        self._kinds = {kind.id: kind for kind in kinds}
        self._default = default_kind
        self._kind_of: dict[str, str] = {}
        for kind in kinds:
            for keyword in kind.keywords:
                # "instal·lació" and "installacio" are one keyword, not two votes
                self._kind_of.setdefault(" ".join(_words(keyword)), kind.id)
        self._matcher = PhraseMatcher(self._kind_of)

    def classify(self, mail: TriageInput) -> Classification:
        scores: dict[str, float] = {}
        hits: dict[str, set[str]] = {}
        for weight, text in ((2.0, mail.subject), (1.0, mail.text)):
            for keyword in self._matcher.find(text):
                kind_id = self._kind_of[keyword]
                scores[kind_id] = scores.get(kind_id, 0.0) + weight
                hits.setdefault(kind_id, set()).add(keyword)
        if not scores:
            default = self._kinds[self._default]
            return Classification(default.category, 0.3, default.id, "keywords: none matched")
        by_category: dict[str, float] = {}
        for kind_id, score in scores.items():
            of = self._kinds[kind_id].category
            by_category[of] = by_category.get(of, 0.0) + score
        category = max(by_category, key=lambda c: by_category[c])
        kind_id = max(
            (k for k in scores if self._kinds[k].category == category), key=lambda k: scores[k]
        )
        total = sum(by_category.values())
        # Share of the evidence, discounted when there is little of it.
        confidence = round(by_category[category] / total * min(1.0, 0.55 + 0.15 * total), 3)
        return Classification(
            category, confidence, kind_id, "keywords: " + ", ".join(sorted(hits[kind_id]))
        )


class CuePriority:
    """Priority from the kind, moved by cues: urgency and VIP clients raise, plain
    information requests lower. Each step is written into the reason."""

    def __init__(self, config: PriorityConfig) -> None:
        self._urgent = PhraseMatcher(config.urgent_cues)
        self._information = PhraseMatcher(config.information_cues)
        self._vip_addresses = {v for v in config.vip if not v.startswith("@")}
        self._vip_domains = {v[1:] for v in config.vip if v.startswith("@")}

    def _is_vip(self, address: str) -> bool:
        address = address.lower()
        return address in self._vip_addresses or address.rsplit("@", 1)[-1] in self._vip_domains

    def assess(self, mail: TriageInput, kind: IncidentKind) -> PriorityDecision:
        text = f"{mail.subject}\n{mail.text}"
        level = PRIORITIES.index(kind.priority)
        reasons = [f"kind {kind.id} {kind.priority}"]
        urgent = next(iter(self._urgent.find(text)), None)
        if urgent is not None:
            level -= 1
            reasons.append(f"urgent cue {urgent!r}")
        else:
            information = next(iter(self._information.find(text)), None)
            if information is not None:
                level += 1
                reasons.append(f"information request {information!r}")
        if self._is_vip(mail.from_address):
            level -= 1
            reasons.append("VIP client")
        final = PRIORITIES[min(max(level, 0), len(PRIORITIES) - 1)]
        return PriorityDecision(final, "; ".join(reasons))


class BusinessTimeDeadline:
    """Deadlines counted in business time from arrival (closed: from the next opening)."""

    def __init__(self, config: Config, calendar: BusinessCalendar) -> None:
        self._config = config
        self._calendar = calendar

    def deadline(self, received_at: datetime, kind: IncidentKind, priority: str) -> Deadline:
        first, resolution = self._config.targets(kind, priority)
        start = "" if self._calendar.is_open(received_at) else "; clock starts at next opening"
        return Deadline(
            self._calendar.add(received_at, timedelta(minutes=first)),
            self._calendar.add(received_at, timedelta(minutes=resolution)),
            f"kind {kind.id} at {priority}: first response {first:g} min, "
            f"resolution {resolution:g} business min{start}",
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
                classification.unsure,
            )
        priority = self._priority.assess(mail, kind)
        deadline = self._deadline.deadline(received_at, kind, priority.level)
        unsure = (
            classification.unsure
            or classification.confidence < self._config.triage.confidence_threshold
        )
        return Triage(classification, unsure, priority, deadline)
