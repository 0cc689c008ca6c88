"""Where the parts are put together: the configured triage (rules and learned model)."""

from __future__ import annotations

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.triage.learned.classifier import load_classifier
from maildesk.triage.rules import BusinessTimeDeadline, CuePriority, Triager


def default_triager(config: Config, calendar: BusinessCalendar) -> Triager:
    """The configured classifier (trained model, else keywords), cues and business time."""
    return Triager(
        config,
        load_classifier(config),
        CuePriority(config.priority),
        BusinessTimeDeadline(config, calendar),
    )
