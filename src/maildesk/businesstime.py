"""Business time: opening hours, holidays and deadlines counted only while the office is open.

Pure: every instant is passed in, nothing reads the wall clock. Instants are timezone-aware
``datetime`` objects (naive ones raise ``ValueError``); results are aware and in UTC.

Opening hours are local wall-clock times in the calendar's zone. One rule maps a wall time on a
given day to an instant, which settles daylight-saving days deterministically: *the first
moment at which the local clock shows that time or later*. So

* a time skipped in spring (02:00–02:59 in Madrid on the last Sunday of March) is the moment
  the clocks jump (03:00 CEST): 01:00–04:00 that day lasts 2 h, 02:00–03:00 is empty;
* a time repeated in autumn (02:00–02:59 on the last Sunday of October) is its first
  occurrence (CEST): 01:00–04:00 that day lasts 4 h, 02:00–02:30 lasts 30 min (first pass);
* ``Interval.end == time.max`` means "until midnight" (the next day's 00:00), so
  ``Interval(time(0), time.max)`` is the whole day: 23 h, 24 h or 25 h.

Arithmetic is exact to the microsecond: the open intervals of each local year are cached as
integer microseconds since the epoch with running totals, so ``add`` and ``elapsed`` are a
couple of bisections rather than a walk. Supported years: 2 to 9998.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "BusinessCalendar",
    "Interval",
    "ScheduleError",
    "SpecialPeriod",
    "parse_interval",
]

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_AVERAGE_YEAR_US = 31_556_952_000_000  # 365.2425 days: a first guess, corrected exactly
_SEARCH_YEARS = 3  # consecutive years without any opening (or closing) before giving up


class ScheduleError(ValueError):
    """The schedule is invalid or can never satisfy the request (never open, never closes)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A local wall-clock opening interval within one day; ``end=time.max`` means midnight.

    Validated where it is used (``BusinessCalendar``, ``parse_interval``) so the error can say
    which weekday or period it belongs to.
    """

    start: time
    end: time

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end)}"


@dataclass(frozen=True, slots=True)
class SpecialPeriod:
    """Hours that replace the weekly ones on the days it covers (empty ``hours`` = closed).

    ``first``/``last`` are both ``(month, day)`` (recurring every year; ``first > last`` wraps
    the year end) or both exact dates; ``last`` is inclusive. ``weekdays`` (0 = Monday) limits
    the period to some days; on the others the weekly hours apply.
    """

    name: str
    first: tuple[int, int] | date
    last: tuple[int, int] | date
    hours: tuple[Interval, ...]
    weekdays: frozenset[int] = field(default=frozenset(range(7)))

    def covers(self, day: date) -> bool:
        """Whether the period applies on ``day`` (range and weekday)."""
        if day.weekday() not in self.weekdays:
            return False
        first, last = self.first, self.last
        if isinstance(first, date) and isinstance(last, date):
            return first <= day <= last
        assert isinstance(first, tuple) and isinstance(last, tuple)
        key = (day.month, day.day)
        if first <= last:
            return first <= key <= last
        return key >= first or key <= last


_INTERVAL_TEXT = re.compile(
    r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$"
)


def parse_interval(text: str) -> Interval:
    """``"09:00-14:00"`` → ``Interval``; seconds are optional and ``24:00`` ends at midnight."""
    match = _INTERVAL_TEXT.match(text)
    if match is None:
        raise ScheduleError(
            f"opening interval {text!r}: expected 'HH:MM-HH:MM', e.g. '09:00-14:00'"
        )
    sh, sm, ss, eh, em, es = (int(g) if g else 0 for g in match.groups())
    try:
        start = time(sh, sm, ss)
        end = time.max if (eh, em, es) == (24, 0, 0) else time(eh, em, es)
    except ValueError:
        raise ScheduleError(
            f"opening interval {text!r}: not a valid time of day (00:00 to 24:00)"
        ) from None
    if end <= start:
        raise ScheduleError(f"opening interval {text!r}: the end must be after the start")
    return Interval(start, end)


@dataclass(frozen=True, slots=True)
class _Year:
    """The open intervals of one local year as epoch microseconds, merged where they touch."""

    lo: int  # the year's first instant (local 1 January 00:00)
    hi: int  # the next year's first instant
    starts: list[int]
    ends: list[int]
    done: list[int]  # business time elapsed in this year at the end of each interval
    total: int


class BusinessCalendar:
    """Opening hours in a time zone, with holidays, closed dates and special periods.

    Which hours apply on a day, first match wins: a closed date, then a holiday (closed), then
    the first listed special period that covers the day, then the weekly hours. Computed days
    and years are cached in plain dicts (safe to share between threads: a race only computes
    the same value twice).
    """

    def __init__(
        self,
        zone: ZoneInfo,
        week: Mapping[int, Sequence[Interval]],
        *,
        is_holiday: Callable[[date], bool] = lambda d: False,
        closed_dates: Collection[date] = (),
        special: Sequence[SpecialPeriod] = (),
    ) -> None:
        if not isinstance(zone, ZoneInfo):
            raise ScheduleError(f"zone: expected a ZoneInfo, got {zone!r}")
        self._zone = zone
        self._week: dict[int, tuple[Interval, ...]] = {}
        for key, intervals in week.items():
            if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= 6:
                raise ScheduleError(f"week: weekday key {key!r} is not 0 (Monday) … 6 (Sunday)")
            self._week[key] = _checked_hours(intervals, WEEKDAY_NAMES[key])
        self._special = tuple((period, _checked_period(period)) for period in special)
        for day in closed_dates:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ScheduleError(f"closed_dates: {day!r} is not a date")
        self._closed = frozenset(closed_dates)
        self._is_holiday = is_holiday
        if not any(self._week.values()) and not any(h for _, h in self._special):
            raise ScheduleError(
                "schedule is never open: no weekday and no special period has opening hours"
            )
        self._days: dict[date, tuple[tuple[int, int], ...]] = {}
        self._years: dict[int, _Year] = {}
        self._year_starts: dict[int, int] = {}

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    # -- days ---------------------------------------------------------------------------

    def hours_on(self, day: date) -> tuple[tuple[Interval, ...], str]:
        """The wall-clock hours that apply on ``day`` and why ("week", "holiday", …)."""
        _check_date(day)
        if day in self._closed:
            return (), "closed date"
        if self._is_holiday(day):
            return (), "holiday"
        for period, hours in self._special:
            if period.covers(day):
                return hours, period.name
        return self._week.get(day.weekday(), ()), "week"

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """That local day's open intervals as aware UTC datetimes, sorted; ``()`` when closed."""
        return tuple((_from_us(s), _from_us(e)) for s, e in self._day(day))

    def upcoming_closures(self, start: date, days: int) -> list[tuple[date, str]]:
        """Days in ``[start, start + days)`` that the weekly hours would open but are closed,
        with the reason: "closed date", "holiday" or the special period's name."""
        _check_date(start)
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        closures = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            hours, reason = self.hours_on(day)
            if not hours and self._week.get(day.weekday()):
                closures.append((day, reason))
        return closures

    # -- instants -----------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """Open at ``instant``: intervals include their start and exclude their end."""
        us = _to_us(instant)
        year = self._year(self._year_of(us))
        i = bisect_right(year.starts, us) - 1
        return i >= 0 and us < year.ends[i]

    def next_opening(self, instant: datetime) -> datetime:
        """The earliest moment >= ``instant`` at which it is open (``instant`` when open)."""
        _, _, opening = self._opening(_to_us(instant))
        return _from_us(opening)

    def next_closing(self, instant: datetime) -> datetime:
        """When the current open stretch ends, or the next one when closed at ``instant``.

        Stretches that touch (an interval to midnight, the next day's from midnight) are one.
        """
        year, k, _ = self._opening(_to_us(instant))
        end = year.ends[k]
        unbroken = 0
        while end == year.hi:
            year = self._year(self._year_of(end))
            if not year.starts or year.starts[0] != end:
                break
            end = year.ends[0]
            unbroken += 1
            if unbroken > _SEARCH_YEARS:
                raise ScheduleError(
                    f"schedule never closes: open without a break for {_SEARCH_YEARS} years "
                    f"after {instant.isoformat()}"
                )
        return _from_us(end)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has elapsed since ``start``.

        A closed ``start`` counts from the next opening; a zero duration gives
        ``next_opening(start)``. A result at a closing time is that closing time, not the next
        opening (13:30 + 30 min → 14:00).
        """
        us = _to_us(start)
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if not duration:
            return self.next_opening(start)
        index = self._year_of(us)
        year = self._year(index)
        target = self._done_before(year, us) + duration // _ONE_US
        empty = 0
        while target > year.total:
            target -= year.total
            index += 1
            year = self._year(index)
            empty = empty + 1 if not year.total else 0
            if empty > _SEARCH_YEARS:
                raise _never_open(start)
        k = bisect_left(year.done, target)
        return _from_us(year.ends[k] - (year.done[k] - target))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; zero when ``end <= start``."""
        s, e = _to_us(start), _to_us(end)
        if e <= s:
            return _ZERO
        first, last = self._year_of(s), self._year_of(e)
        total = -self._done_before(self._year(first), s)
        for index in range(first, last):
            total += self._year(index).total
        total += self._done_before(self._year(last), e)
        return timedelta(microseconds=total)

    # -- internals ----------------------------------------------------------------------

    def _day(self, day: date) -> tuple[tuple[int, int], ...]:
        cached = self._days.get(day)
        if cached is None:
            hours, _ = self.hours_on(day)
            spans: list[tuple[int, int]] = []
            for interval in hours:
                s = _wall_to_us(self._zone, day, interval.start)
                e = _wall_to_us(self._zone, day, interval.end)
                if e <= s:  # entirely inside a spring-forward gap
                    continue
                if spans and spans[-1][1] == s:
                    spans[-1] = (spans[-1][0], e)
                else:
                    spans.append((s, e))
            cached = self._days[day] = tuple(spans)
        return cached

    def _year_start(self, index: int) -> int:
        cached = self._year_starts.get(index)
        if cached is None:
            cached = self._year_starts[index] = _wall_to_us(self._zone, date(index, 1, 1), time())
        return cached

    def _year_of(self, us: int) -> int:
        index = 1970 + us // _AVERAGE_YEAR_US
        while us < self._year_start(index):
            index -= 1
        while us >= self._year_start(index + 1):
            index += 1
        return index

    def _year(self, index: int) -> _Year:
        cached = self._years.get(index)
        if cached is None:
            starts: list[int] = []
            ends: list[int] = []
            day = date(index, 1, 1)
            while day.year == index:
                for s, e in self._day(day):
                    if ends and ends[-1] == s:
                        ends[-1] = e
                    else:
                        starts.append(s)
                        ends.append(e)
                day += _ONE_DAY
            done = []
            total = 0
            for s, e in zip(starts, ends, strict=True):
                total += e - s
                done.append(total)
            cached = _Year(
                self._year_start(index), self._year_start(index + 1), starts, ends, done, total
            )
            self._years[index] = cached
        return cached

    @staticmethod
    def _done_before(year: _Year, us: int) -> int:
        """Business time elapsed in ``year`` before the instant ``us``."""
        i = bisect_right(year.starts, us) - 1
        if i < 0:
            return 0
        return year.done[i] - max(year.ends[i] - us, 0)

    def _opening(self, us: int) -> tuple[_Year, int, int]:
        """The year, interval index and instant of the first open moment >= ``us``."""
        index = self._year_of(us)
        year = self._year(index)
        k = bisect_right(year.starts, us) - 1
        if k >= 0 and us < year.ends[k]:
            return year, k, us
        k += 1
        empty = 0
        while k >= len(year.starts):
            index += 1
            year = self._year(index)
            k = 0
            empty = empty + 1 if not year.starts else 0
            if empty > _SEARCH_YEARS:
                raise _never_open(_from_us(us))
        return year, k, year.starts[k]


def _never_open(after: datetime) -> ScheduleError:
    return ScheduleError(
        f"schedule is never open: no opening in {_SEARCH_YEARS} whole years after "
        f"{after.isoformat()} (every day closed by holidays, closed dates or periods?)"
    )


def _to_us(instant: datetime) -> int:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: a timezone-aware one is needed")
    return (instant - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _wall_to_us(zone: ZoneInfo, day: date, wall: time) -> int:
    """The first instant at which the local clock shows ``day`` ``wall`` or later."""
    if wall == time.max:
        day, wall = day + _ONE_DAY, time()
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: first occurrence if repeated
    us = _to_us(local)
    if _from_us(us).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return us
    # A skipped wall time: the transition lies between its two readings (fold=1 is earlier).
    lo, hi = _to_us(local.replace(fold=1)), us
    before = _offset(zone, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def _offset(zone: ZoneInfo, us: int) -> timedelta | None:
    return _from_us(us).astimezone(zone).utcoffset()


def _format_time(value: time) -> str:
    if value == time.max:
        return "24:00"
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text


def _check_date(day: date) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"expected a date, got {type(day).__name__}")


def _checked_hours(intervals: Sequence[Interval], where: str) -> tuple[Interval, ...]:
    """Validate one day's intervals; sorted by start, touching allowed, overlapping not."""
    if isinstance(intervals, Interval | str):
        raise ScheduleError(f"{where}: expected a sequence of Interval, got {intervals!r}")
    for interval in intervals:
        if not isinstance(interval, Interval):
            raise ScheduleError(f"{where}: {interval!r} is not an Interval")
        for value in (interval.start, interval.end):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ScheduleError(
                    f"{where}: interval {interval!r} needs naive datetime.time start and end"
                )
        if interval.end <= interval.start:
            raise ScheduleError(f"{where}: interval {interval} ends before it starts")
    ordered = tuple(sorted(intervals, key=lambda i: (i.start, i.end)))
    for a, b in pairwise(ordered):
        if b.start < a.end:
            raise ScheduleError(f"{where}: intervals {a} and {b} overlap")
    return ordered


def _checked_period(period: SpecialPeriod) -> tuple[Interval, ...]:
    """Validate a special period; its hours, sorted."""
    if not isinstance(period, SpecialPeriod):
        raise ScheduleError(f"special: {period!r} is not a SpecialPeriod")
    where = f"special period {period.name!r}"
    if not period.name:
        raise ScheduleError("special period: the name must not be empty")
    kinds = [_day_kind(value, where) for value in (period.first, period.last)]
    if kinds[0] != kinds[1]:
        raise ScheduleError(
            f"{where}: first {period.first!r} and last {period.last!r} must both be "
            "(month, day) or both be dates"
        )
    if kinds[0] == "date" and period.last < period.first:  # type: ignore[operator]
        raise ScheduleError(f"{where}: last {period.last} is before first {period.first}")
    if not isinstance(period.weekdays, frozenset) or not period.weekdays:
        raise ScheduleError(f"{where}: weekdays must be a non-empty frozenset of 0…6")
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in period.weekdays):
        raise ScheduleError(f"{where}: weekdays {sorted(period.weekdays)!r} must be 0…6")
    if not isinstance(period.hours, tuple):
        raise ScheduleError(f"{where}: hours must be a tuple of Interval")
    return _checked_hours(period.hours, where)


def _day_kind(value: object, where: str) -> str:
    if isinstance(value, datetime):
        raise ScheduleError(f"{where}: {value!r} is a datetime; use a date or (month, day)")
    if isinstance(value, date):
        return "date"
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        month, day = value
        try:
            date(2000, month, day)  # a leap year: (2, 29) recurs in leap years only
        except ValueError:
            raise ScheduleError(f"{where}: ({month}, {day}) is not a valid month and day") from None
        return "month-day"
    raise ScheduleError(f"{where}: {value!r} is neither a date nor a (month, day) tuple")
