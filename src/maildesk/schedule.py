"""The service schedule from configuration: a ``BusinessCalendar`` with holidays.

It reads the ``[schedule]`` section through the protocols below rather than the
configuration's classes, so that the configuration (which validates a schedule by building
its calendar) depends on this module and not the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from maildesk.businesstime import BusinessCalendar, ScheduleError, SpecialPeriod, parse_interval


class PeriodSpec(Protocol):
    """A period with its own hours, as ``[[schedule.special]]`` gives it."""

    @property
    def name(self) -> str: ...
    @property
    def first(self) -> str: ...
    @property
    def last(self) -> str: ...
    @property
    def hours(self) -> Sequence[str]: ...
    @property
    def weekdays(self) -> Sequence[str]: ...


class ScheduleSpec(Protocol):
    """What a calendar is built from: the ``[schedule]`` section."""

    @property
    def timezone(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def business_day_hours(self) -> float: ...
    @property
    def closed_dates(self) -> Sequence[date]: ...
    @property
    def week(self) -> object: ...  # one attribute per weekday: its intervals
    @property
    def special(self) -> Sequence[PeriodSpec]: ...


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(text: str) -> tuple[int, int] | date:
    if len(text) == 10:
        return date.fromisoformat(text)
    month, day = (int(part) for part in text.split("-"))
    return (month, day)


def holiday_calendar(
    country: str, region: str, language: str | None = None
) -> holidays.HolidayBase:
    """Public holidays of a country, plus a region's own when one is named."""
    try:
        names = holidays.country_holidays(country, subdiv=region or None)
        if language and language in (names.supported_languages or ()):
            return holidays.country_holidays(country, subdiv=region or None, language=language)
        return names
    except NotImplementedError as exc:
        raise ScheduleError(
            f"unknown holidays country/region {country!r}/{region!r}: {exc}"
        ) from None


def build_calendar(config: ScheduleSpec) -> BusinessCalendar:
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


def describe_schedule(
    config: ScheduleSpec,
    calendar: BusinessCalendar,
    now: datetime,
    days: int,
    language: str = "es",
) -> str:
    """``maildesk schedule show``: the week, then the closed days ahead with their names."""
    zone = ZoneInfo(config.timezone)
    region = f" / {config.region}" if config.region else ""
    lines = [
        f"Time zone {config.timezone}; holidays {config.country}{region}; "
        f"1 business day = {config.business_day_hours:g} h",
        "",
    ]
    for name in _WEEKDAYS:
        hours = getattr(config.week, name)
        lines.append(f"  {name.capitalize():10} {', '.join(hours) if hours else 'closed'}")
    for period in config.special:
        days_text = ", ".join(d[:3] for d in period.weekdays)
        lines.append(
            f"  {period.name}: {period.first} … {period.last} ({days_text}): "
            f"{', '.join(period.hours) or 'closed'}"
        )
    local = now.astimezone(zone)
    if calendar.is_open(now):
        state = f"open until {calendar.next_closing(now).astimezone(zone):%H:%M}"
    else:
        state = f"closed; opens {calendar.next_opening(now).astimezone(zone):%a %Y-%m-%d %H:%M}"
    lines += [
        "",
        f"Now ({local:%a %Y-%m-%d %H:%M}): {state}",
        "",
        f"Closed days in the next {days} days:",
    ]
    public = holiday_calendar(config.country, config.region, language)
    closures = calendar.upcoming_closures(local.date(), days)
    for day, reason in closures:
        label = public.get(day) if reason == "holiday" else reason
        lines.append(f"  {day:%a %Y-%m-%d}  {label}")
    if not closures:
        lines.append("  none")
    return "\n".join(lines)
