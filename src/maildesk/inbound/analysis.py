"""What a new mail says, worked out before any database access: the language it is written
in and the one to answer in, when its clock starts, and its triage. The pipeline and
``maildesk classify`` use this one function, so that what the command shows is what the
daemon would do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.inbound.language import detect_language
from maildesk.triage.rules import Triage, TriageInput, Triager


@dataclass(frozen=True, slots=True)
class Analysis:
    language: str  # the one we answer in
    clock_start: datetime
    triage: Triage
    written_language: str | None = None  # the one the client wrote in

    def summary(self) -> dict[str, object]:
        """The figures ``maildesk classify`` prints, JSON-ready."""
        c = self.triage.classification
        return {
            "category": c.category,
            "confidence": c.confidence,
            "kind": c.kind,
            "priority": self.triage.priority.level,
            "language": self.language,
            "written_language": self.written_language,
            "unsure": self.triage.unsure,
            "reason": c.reason,
            "first_response_due": self.triage.deadline.first_response_due.isoformat(),
            "resolution_due": self.triage.deadline.resolution_due.isoformat(),
        }


class Analyser:
    def __init__(self, config: Config, triager: Triager, calendar: BusinessCalendar) -> None:
        self._config = config
        self._triager = triager
        self._calendar = calendar

    def analyse(self, subject: str, clean_text: str, sender: str, now: datetime) -> Analysis:
        """``clean_text``: the client's own words (quotes and signatures cut)."""
        guess = detect_language(
            f"{subject}\n{clean_text}",
            supported=self._config.replies.languages,
            default=self._config.replies.default_language,
        )
        clock_start = self.clock_start(now)
        triage = self._triager.triage(
            TriageInput(subject, clean_text, guess.language, sender), clock_start
        )
        return Analysis(guess.language, clock_start, triage, guess.detected or None)

    def clock_start(self, now: datetime) -> datetime:
        """When the clock starts: now while open, else the next opening. Mail arriving in
        the last minutes before a closing ("last call") waits for the next opening too:
        nobody will pick it up before closing."""
        if not self._calendar.is_open(now):
            return self._calendar.next_opening(now)
        closing = self._calendar.next_closing(now)
        if closing - now <= timedelta(minutes=self._config.schedule.last_call_minutes):
            return self._calendar.next_opening(closing)
        return now
