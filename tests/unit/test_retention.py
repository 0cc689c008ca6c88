"""Old delivery copies: pruned from the copies folder at start and then once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from maildesk.clock import FrozenClock
from maildesk.runtime.retention import CopyRetention

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_old_copies_are_pruned_at_start_and_then_once_a_day() -> None:
    clock = FrozenClock(NOW)
    calls: list[tuple[str, date, str]] = []

    def prune(folder: str, before: date, marker: str) -> int:
        calls.append((folder, before, marker))
        return 2

    retention = CopyRetention(clock, "Sent", 365, "soporte@example-telecom.es")
    assert retention.run_if_due(prune) == 2
    clock.advance(timedelta(hours=23))
    assert retention.run_if_due(prune) is None  # not a day yet
    clock.advance(timedelta(hours=1))
    assert retention.run_if_due(prune) == 2
    assert calls == [
        ("Sent", date(2025, 11, 24), "soporte@example-telecom.es"),
        ("Sent", date(2025, 11, 25), "soporte@example-telecom.es"),
    ]
