"""Service levels against values computed by hand on a small fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from maildesk.config import load_config
from maildesk.reports.levels import IncidentRecord, Share, nearest_rank, service_levels
from maildesk.schedule import build_calendar

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
CALENDAR = build_calendar(CONFIG.schedule)
ZONE = CALENDAR.zone


def madrid(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def record(ref: str, created: datetime, **fields: object) -> IncidentRecord:
    values: dict[str, object] = {
        "reference": ref,
        "category": "technical",
        "kind": "outage",
        "status": "open",
        "created_at": created,
        "resolution_due": created + timedelta(days=2),
    }
    values.update(fields)
    return IncidentRecord(**values)  # type: ignore[arg-type]


# Monday 16 – Friday 20 November 2026; the period is that working week.
START, END = madrid(16, 0), madrid(21, 0)
RECORDS = [
    # Mon 10:00, acked after 20 s, first response 10:30 (30 business min), resolved in time,
    # one client mail.
    record("A", madrid(16, 10), acknowledged_at=madrid(16, 10) + timedelta(seconds=20),
           first_response_at=madrid(16, 10, 30), resolved_at=madrid(16, 12), status="resolved",
           resolution_due=madrid(16, 18)),
    # Mon 13:50, acked after 90 s (late), first response Mon 16:10: 10 min before the 14:00
    # closing + 10 min after the 16:00 opening = 20 business min; resolved late, two mails.
    record("B", madrid(16, 13, 50), acknowledged_at=madrid(16, 13, 51, ) + timedelta(seconds=30),
           first_response_at=madrid(16, 16, 10), resolved_at=madrid(19, 10), status="closed",
           resolution_due=madrid(18, 10), client_messages=2, category="billing",
           kind="invoice_error"),
    # Tue 21:00 (closed): first response Wed 9:45 = 45 business min; still open.
    record("C", madrid(17, 21), acknowledged_at=madrid(17, 21) + timedelta(seconds=5),
           first_response_at=madrid(18, 9, 45)),
    # Thu 11:00, never acknowledged (reply suppressed), no response yet, waiting.
    record("D", madrid(19, 11), status="waiting", category="other", kind="general"),
    # Before the period: opened the previous Wednesday, resolved on Tue 17 in time.
    record("E", madrid(11, 9), resolved_at=madrid(17, 9, 30), status="resolved",
           resolution_due=madrid(17, 12)),
    # Before the period, still open: backlog older than a week at the end.
    record("F", madrid(10, 9)),
    # After the period: ignored.
    record("G", madrid(23, 9)),
]  # fmt: skip


def test_the_levels_of_a_week_match_the_hand_computed_values() -> None:
    levels = service_levels(RECORDS, START, END, CALENDAR, ZONE, "week")
    assert levels.opened == 4  # A B C D
    assert levels.acknowledged_within_minute == Share(2, 4)  # A and C
    # First responses: A 30, B 20, C 45 business minutes; D has none.
    assert levels.first_response_median == timedelta(minutes=30)
    assert levels.first_response_p90 == timedelta(minutes=45)
    assert levels.without_first_response == 1
    # Resolved in the period: A (in time), B (late), E (in time).
    assert levels.resolved == 3
    assert levels.resolved_in_time == Share(2, 3)
    assert levels.first_contact_resolution == Share(2, 3)  # B had two client mails
    # Open at the end (Sat 21 00:00): C (3 days 3 h), D (1 day 13 h), F (11 days).
    assert levels.backlog_by_age == {"< 1 d": 0, "1–3 d": 1, "3–7 d": 1, "> 7 d": 1}
    assert levels.by_category == {"technical": 2, "billing": 1, "other": 1}
    assert levels.by_weekday == {0: 2, 1: 1, 3: 1}
    assert levels.by_hour == {10: 1, 13: 1, 21: 1, 11: 1}


def test_an_empty_period_has_no_ratios_rather_than_zero() -> None:
    levels = service_levels([], START, END, CALENDAR, ZONE)
    assert levels.opened == 0
    assert levels.acknowledged_within_minute.ratio is None
    assert levels.first_response_median is None and levels.first_response_p90 is None


def test_nearest_rank_percentile() -> None:
    values = [timedelta(minutes=m) for m in (5, 1, 4, 2, 3, 10, 9, 8, 7, 6)]
    assert nearest_rank(values, 0.9) == timedelta(minutes=9)
    assert nearest_rank(values, 0.5) == timedelta(minutes=5)
    assert nearest_rank(values[:1], 0.9) == timedelta(minutes=5)


def test_levels_as_a_person_and_a_script_read_them() -> None:
    import json
    from zoneinfo import ZoneInfo

    from maildesk.reports.levels import ServiceLevels, Share, format_levels, levels_json

    madrid = ZoneInfo("Europe/Madrid")
    levels = ServiceLevels(
        label="7 days",
        start=datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC),
        end=datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC),
        opened=4,
        acknowledged_within_minute=Share(4, 4),
        first_response_median=timedelta(minutes=65),
        first_response_p90=timedelta(hours=26, minutes=5),
        without_first_response=1,
        resolved=0,
        resolved_in_time=Share(0, 0),
        first_contact_resolution=Share(0, 0),
        backlog_by_age={"< 1 d": 1, "1–3 d": 3, "3–7 d": 0, "> 7 d": 0},
        by_category={"technical": 3, "billing": 1},
        by_weekday={0: 3, 4: 1},
        by_hour={9: 2, 16: 2},
    )
    table = format_levels(levels, madrid)
    assert "Tue 24 Nov 2026 09:00 → Tue 01 Dec 2026 09:00 (Europe/Madrid)" in table
    assert "100.0 %  (4 of 4)" in table
    assert "1 h 05 min  (p90 1 d 2 h); 1 still without one" in table
    assert table.count("— (none resolved)") == 2
    assert "Mon 3 · Fri 1" in table and "09h 2 · 16h 2" in table
    assert ".123456" not in table and "{" not in table
    data = json.loads(json.dumps(levels_json(levels, madrid)))
    assert data["start"] == "2026-11-24T09:00:00+01:00"
    assert data["first_response_median_minutes"] == 65.0
    assert data["resolved_in_time"] == {"count": 0, "total": 0, "ratio": None}
    assert data["by_weekday"] == {"Mon": 3, "Fri": 1}


def test_team_response_per_team_in_business_time_with_its_target() -> None:
    from zoneinfo import ZoneInfo

    from maildesk.reports.levels import (
        HandoffRecord,
        format_team_levels,
        team_levels,
        team_levels_json,
    )

    madrid = ZoneInfo("Europe/Madrid")
    calendar = build_calendar(CONFIG.schedule)

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 12, day, hour, minute, tzinfo=madrid)

    records = [
        HandoffRecord("technical_service", at(1, 10), at(1, 11)),  # 1 h
        HandoffRecord("technical_service", at(1, 13), at(1, 17)),  # 1 h + 1 h (lunch closed)
        HandoffRecord("technical_service", at(1, 19), at(2, 12)),  # 1 h + 3 h = 4 h
        HandoffRecord("billing_centre", at(2, 9), None),  # still waiting
    ]
    targets = {"technical_service": timedelta(hours=2), "billing_centre": timedelta(hours=9)}
    billing, technical = team_levels(records, at(2, 13), calendar, targets)
    assert (technical.handed, technical.answered, technical.waiting) == (3, 3, 0)
    assert technical.median == timedelta(hours=2) and technical.p90 == timedelta(hours=4)
    assert technical.late == 1  # the 4-hour answer, past the 2-hour target
    assert (billing.answered, billing.waiting, billing.late) == (0, 1, 0)  # 4 h of 9
    text = format_team_levels([billing, technical])
    assert "technical_service" in text and "median 2 h 00 min, p90 4 h 00 min" in text
    assert "1 past the 2 h 00 min target" in text
    assert team_levels_json([technical])["technical_service"] == {
        "handed": 3, "answered": 3, "median_minutes": 120.0, "p90_minutes": 240.0,
        "waiting": 0, "late": 1, "target_minutes": 120.0,
    }  # fmt: skip
    assert "none in the period" in format_team_levels([])
