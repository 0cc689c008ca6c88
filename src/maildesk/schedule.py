"""The service schedule from configuration: a ``BusinessCalendar`` with holidays."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from maildesk.businesstime import BusinessCalendar, ScheduleError, SpecialPeriod, parse_interval

if TYPE_CHECKING:
    from maildesk.config import ScheduleConfig

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(text: str) -> tuple[int, int] | date:
    if len(text) == 10:
        return date.fromisoformat(text)
    month, day = (int(part) for part in text.split("-"))
    return (month, day)


def holiday_calendar(country: str, region: str) -> holidays.HolidayBase:
    """Public holidays of a country, plus a region's own when one is named."""
    try:
        return holidays.country_holidays(country, subdiv=region or None)
    except NotImplementedError as exc:
        raise ScheduleError(
            f"unknown holidays country/region {country!r}/{region!r}: {exc}"
        ) from None


def build_calendar(config: ScheduleConfig) -> BusinessCalendar:
    """Validate and build; every problem is a ``ScheduleError`` naming the day or period."""
    public = holiday_calendar(config.country, config.region)
    week = {
        index: tuple(parse_interval(text) for text in getattr(config.week, name))
        for index, name in enumerate(_WEEKDAYS)
    }
    special = tuple(
        SpecialPeriod(
            name=period.name,
            first=_day(period.first),
            last=_day(period.last),
            hours=tuple(parse_interval(text) for text in period.hours),
            weekdays=frozenset(_WEEKDAYS.index(d) for d in period.weekdays),
        )
        for period in config.special
    )
    return BusinessCalendar(
        ZoneInfo(config.timezone),
        week,
        is_holiday=lambda day: day in public,
        closed_dates=frozenset(config.closed_dates),
        special=special,
    )


def holiday_name(config: ScheduleConfig, day: date) -> str | None:
    return holiday_calendar(config.country, config.region).get(day)
