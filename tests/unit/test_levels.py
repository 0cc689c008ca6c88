"""Service levels against values computed by hand on a small fixture."""

from __future__ import annotations

from dataclasses import replace
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


def test_the_reopen_rate_counts_the_incidents_resolved_in_the_period() -> None:
    records = [
        # resolved in the period after one reopening: counted, over the three resolved
        record("R1", madrid(16, 9), status="resolved", resolved_at=madrid(18, 9), reopened=1),
        record("R2", madrid(16, 9), status="resolved", resolved_at=madrid(18, 9)),
        # resolved at the very start of the period (in it), reopened twice
        record("R3", madrid(12, 9), status="closed", resolved_at=START, reopened=2),
        # resolved before the period, reopened: not in this period's resolved
        record("R4", madrid(12, 9), status="resolved", resolved_at=madrid(13, 9), reopened=1),
        # reopened and open again (no resolution now): not counted until resolved again
        record("R5", madrid(16, 9), status="open", reopened=1),
        # resolved at the end instant: the next period's
        record("R6", madrid(16, 9), status="resolved", resolved_at=END, reopened=1),
    ]
    levels = service_levels(records, START, END, CALENDAR, ZONE)
    assert levels.resolved == 3
    assert levels.reopened == Share(2, 3)  # R1 and R3 of R1 R2 R3
    # reopening is not a second client mail by itself: first contact is apart
    assert levels.first_contact_resolution == Share(3, 3)


def test_satisfaction_counts_answers_and_surveys_of_the_period() -> None:
    def rated(ref: str, sent: datetime | None, score: int | None = None,
              answered: datetime | None = None) -> IncidentRecord:  # fmt: skip
        return record(ref, madrid(2, 9), status="resolved", resolved_at=sent,
                      survey_sent_at=sent, score=score, answered_at=answered)  # fmt: skip

    records = [
        rated("S1", madrid(16, 12), 5, madrid(17, 9)),  # sent and answered in the period
        rated("S2", madrid(19, 12), 1, END),  # answered at the end instant: the next period
        rated("S3", madrid(13, 12), 2, START),  # sent before, answered at the start: counts
        rated("S4", madrid(20, 23, 59)),  # sent in the period, never answered
        rated("S5", END),  # sent at the end instant: the next period's
        # sent again in the period (resolved again after reopening); its answer is to the
        # earlier survey, before the period: neither an answer of the period nor to this one
        rated("S6", madrid(18, 12), 4, madrid(14, 9)),
        rated("S7", madrid(10, 9), 3, madrid(23, 9)),  # answered after the period
    ]
    levels = service_levels(records, START, END, CALENDAR, ZONE)
    assert levels.satisfaction_answers == 2  # S1 and S3
    assert levels.satisfaction_average == 3.5
    assert levels.low_scores == 1  # S3's 2
    assert levels.survey_answered == Share(1, 4)  # S1 of S1 S2 S4 S6


def test_first_contact_resolution_counts_only_the_client_mails_given() -> None:
    done = {"status": "resolved", "resolved_at": madrid(16, 10)}
    records = [
        record("F1", madrid(16, 9), **done),
        record("F2", madrid(16, 9), **done, client_messages=2),
        record("F3", madrid(16, 9), **done, client_messages=0),  # opened by a person
    ]
    levels = service_levels(records, START, END, CALENDAR, ZONE)
    assert levels.first_contact_resolution == Share(2, 3)


def test_an_empty_period_has_no_ratios_rather_than_zero() -> None:
    levels = service_levels([], START, END, CALENDAR, ZONE)
    assert levels.opened == 0
    assert levels.acknowledged_within_minute.ratio is None
    assert levels.first_response_median is None and levels.first_response_p90 is None
    assert levels.reopened.ratio is None and levels.survey_answered.ratio is None
    assert levels.satisfaction_average is None and levels.satisfaction_answers == 0


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
        reopened=Share(0, 0),
        satisfaction_average=None,
        satisfaction_answers=0,
        low_scores=0,
        survey_answered=Share(0, 0),
        backlog_by_age={"< 1 d": 1, "1–3 d": 3, "3–7 d": 0, "> 7 d": 0},
        by_category={"technical": 3, "billing": 1},
        by_weekday={0: 3, 4: 1},
        by_hour={9: 2, 16: 2},
    )
    table = format_levels(levels, madrid)
    assert "Tue 24 Nov 2026 09:00 → Tue 01 Dec 2026 09:00 (Europe/Madrid)" in table
    assert "100.0 %  (4 of 4)" in table
    assert "1 h 05 min  (p90 1 d 2 h); 1 still without one" in table
    assert table.count("— (none resolved)") == 3  # in time, first contact, reopened
    assert "Satisfaction (1–5)             — (no answers); — (no surveys sent)" in table
    assert "Mon 3 · Fri 1" in table and "09h 2 · 16h 2" in table
    assert ".123456" not in table and "{" not in table
    data = json.loads(json.dumps(levels_json(levels, madrid)))
    assert data["start"] == "2026-11-24T09:00:00+01:00"
    assert data["first_response_median_minutes"] == 65.0
    assert data["resolved_in_time"] == {"count": 0, "total": 0, "ratio": None}
    assert data["by_weekday"] == {"Mon": 3, "Fri": 1}
    assert data["reopened"] == {"count": 0, "total": 0, "ratio": None}
    assert data["satisfaction"] == {
        "average": None, "answers": 0, "low_scores": 0,
        "surveys_answered": {"count": 0, "total": 0, "ratio": None},
    }  # fmt: skip

    rated = replace(levels, resolved=20, reopened=Share(3, 20), satisfaction_average=50 / 12,
                    satisfaction_answers=12, low_scores=2,
                    survey_answered=Share(12, 20))  # fmt: skip
    table = format_levels(rated, madrid)
    assert "Reopened                       15.0 %  (3 of 20)" in table
    assert (
        "Satisfaction (1–5)             4.2 average of 12 answers (2 scored 1 or 2); "
        "60.0 %  (12 of 20) of surveys answered"
    ) in table
    data = json.loads(json.dumps(levels_json(rated, madrid)))
    assert data["reopened"] == {"count": 3, "total": 20, "ratio": 0.15}
    assert data["satisfaction"] == {
        "average": 4.17, "answers": 12, "low_scores": 2,
        "surveys_answered": {"count": 12, "total": 20, "ratio": 0.6},
    }  # fmt: skip
    one = replace(rated, satisfaction_average=5.0, satisfaction_answers=1, low_scores=0,
                  survey_answered=Share(0, 0))  # fmt: skip
    assert "5.0 average of 1 answer (0 scored 1 or 2); — (no surveys sent)" in format_levels(
        one, madrid
    )


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
