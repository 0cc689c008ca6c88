"""Business time: fixed cases on the distributor's schedule and properties against a
minute-walking reference written here from the raw week/holiday data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from maildesk.businesstime import (
    BusinessCalendar,
    Interval,
    ScheduleError,
    SpecialPeriod,
    parse_interval,
)

MADRID = ZoneInfo("Europe/Madrid")
ES = holidays.country_holidays("ES", subdiv=None)
CT = holidays.country_holidays("ES", subdiv="CT")
MD = holidays.country_holidays("ES", subdiv="MD")
WORKDAYS = frozenset(range(5))
ZERO = timedelta(0)
SPLIT = ((time(9), time(14)), (time(16), time(20)))

Hours = tuple[tuple[time, time], ...]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def calendar(
    week: dict[int, Hours],
    is_holiday: Callable[[date], bool] = lambda d: False,
    **kwargs: object,
) -> BusinessCalendar:
    return BusinessCalendar(
        MADRID,
        {day: [Interval(s, e) for s, e in hours] for day, hours in week.items()},
        is_holiday=is_holiday,
        **kwargs,  # type: ignore[arg-type]
    )


# -- the reference: raw data, wall-clock membership, one minute at a time ----------------


@dataclass(frozen=True)
class RefPeriod:
    name: str
    first: tuple[int, int] | date
    last: tuple[int, int] | date
    hours: Hours
    weekdays: frozenset[int] = frozenset(range(7))


@dataclass
class Reference:
    """Open iff the local wall time lies in one of the day's hours. Equal to the module's rule
    whenever no interval boundary falls in a DST transition hour (true for these schedules)."""

    week: dict[int, Hours]
    is_holiday: Callable[[date], bool]
    closed: frozenset[date] = frozenset()
    periods: tuple[RefPeriod, ...] = ()
    _cache: dict[date, Hours] = field(default_factory=dict)

    def hours(self, day: date) -> Hours:
        if day not in self._cache:
            self._cache[day] = self._hours(day)
        return self._cache[day]

    def _hours(self, day: date) -> Hours:
        if day in self.closed or self.is_holiday(day):
            return ()
        for p in self.periods:
            if day.weekday() in p.weekdays and _ref_in_range(p.first, p.last, day):
                return p.hours
        return self.week.get(day.weekday(), ())

    def is_open(self, ts: int) -> bool:
        moment = datetime.fromtimestamp(ts, MADRID)
        wall = moment.time()
        return any(s <= wall < e for s, e in self.hours(moment.date()))

    def add(self, ts: int, seconds: int) -> int:
        t = ts
        while not self.is_open(t):
            t += 60 - t % 60
        while True:
            step = 60 - t % 60  # openings and closings fall on whole minutes
            if self.is_open(t):
                if seconds <= step:
                    return t + seconds
                seconds -= step
            t += step

    def elapsed(self, a: int, b: int) -> int:
        total, t = 0, a
        while t < b:
            step = min(60 - t % 60, b - t)
            if self.is_open(t):
                total += step
            t += step
        return total

    def calendar(self) -> BusinessCalendar:
        return calendar(
            self.week,
            self.is_holiday,
            closed_dates=self.closed,
            special=[
                SpecialPeriod(
                    p.name, p.first, p.last, tuple(Interval(s, e) for s, e in p.hours), p.weekdays
                )
                for p in self.periods
            ],
        )


def _ref_in_range(first: tuple[int, int] | date, last: tuple[int, int] | date, day: date) -> bool:
    if isinstance(first, date) and isinstance(last, date):
        return first <= day <= last
    assert isinstance(first, tuple) and isinstance(last, tuple)
    a, b, k = date(2000, *first), date(2000, *last), date(2000, day.month, day.day)
    return a <= k <= b if a <= b else (k >= a or k <= b)


DISTRIBUTOR_REF = Reference({d: SPLIT for d in WORKDAYS}, lambda d: d in ES)
SPECIAL_REF = Reference(
    {d: SPLIT for d in WORKDAYS},
    lambda d: d in CT,
    closed=frozenset({date(2026, 12, 31)}),
    periods=(
        RefPeriod("Nochebuena", (12, 24), (12, 24), ((time(9), time(14)),)),
        RefPeriod("Inventario", date(2027, 1, 4), date(2027, 1, 4), ()),
        RefPeriod("Fiestas", (12, 28), (1, 5), ((time(9), time(14)),), WORKDAYS),
        RefPeriod("Verano", (7, 1), (8, 31), ((time(8), time(15)),), WORKDAYS),
        RefPeriod("Sábados de marzo", (3, 1), (3, 31), ((time(10), time(13)),), frozenset({5})),
    ),
)
DISTRIBUTOR = DISTRIBUTOR_REF.calendar()
SPECIAL = SPECIAL_REF.calendar()
CASES = {"distributor": (DISTRIBUTOR_REF, DISTRIBUTOR), "special": (SPECIAL_REF, SPECIAL)}
# Boundaries inside the DST hours and runs across midnight: module-only properties.
NIGHT_HOURS = ((time(0), time(0, 30)), (time(1), time(2, 30)), (time(2, 45), time(4)))
NIGHT = calendar({d: (*NIGHT_HOURS, (time(23), time.max)) for d in range(7)}, lambda d: d in ES)
CALENDARS = {"distributor": DISTRIBUTOR, "special": SPECIAL, "night": NIGHT}
DST_SUNDAYS = [date(y, m, d) for y, m, d in ((2025, 3, 30), (2025, 10, 26), (2026, 3, 29))]
DST_SUNDAYS += [date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]

LO = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
HI = int(datetime(2028, 12, 31, tzinfo=UTC).timestamp())
EDGES = [time(0), time(2, 30), time(8), time(9), time(13, 59), time(14), time(15), time(16)]
EDGES += [time(19, 59), time(20)]


@st.composite
def near_edge(draw: st.DrawFn) -> int:
    day = draw(st.dates(date(2025, 1, 1), date(2028, 12, 30)))
    wall = draw(st.sampled_from(EDGES))
    return int(datetime.combine(day, wall, tzinfo=MADRID).timestamp()) + draw(st.integers(-90, 90))


whole_seconds = st.one_of(st.integers(LO, HI), near_edge())
zones = st.sampled_from([UTC, MADRID, timezone(timedelta(hours=-5, minutes=-30))])
cases = st.sampled_from(sorted(CASES))
calendars = st.sampled_from(sorted(CALENDARS))
any_instant = st.one_of(
    st.datetimes(
        datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.sampled_from([UTC, MADRID])
    ),
    st.builds(
        lambda day, offset: datetime.combine(day, time(), tzinfo=UTC) + offset,
        st.sampled_from(DST_SUNDAYS),
        st.timedeltas(timedelta(hours=-3), timedelta(hours=6)),
    ),
)
business = st.timedeltas(ZERO, timedelta(hours=45))  # up to 5 business days


def at(ts: int, zone: timezone | ZoneInfo = UTC) -> datetime:
    return datetime.fromtimestamp(ts, zone)


# -- properties against the reference -----------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(cases, whole_seconds, zones, st.integers(0, 3 * 9 * 60))
def test_add_matches_reference(case: str, ts: int, zone: ZoneInfo, minutes: int) -> None:
    ref, cal = CASES[case]
    result = cal.add(at(ts, zone), timedelta(minutes=minutes))
    assert result == at(ref.add(ts, minutes * 60))
    assert result.tzinfo is UTC


@settings(max_examples=80, deadline=None)
@given(cases, whole_seconds, st.integers(0, 6 * 24 * 3600))
def test_elapsed_matches_reference(case: str, ts: int, span: int) -> None:
    ref, cal = CASES[case]
    expected = timedelta(seconds=ref.elapsed(ts, ts + span))
    assert cal.elapsed(at(ts, MADRID), at(ts + span)) == expected


@settings(max_examples=150, deadline=None)
@given(cases, whole_seconds, zones)
def test_next_opening_and_is_open_match_reference(case: str, ts: int, zone: ZoneInfo) -> None:
    ref, cal = CASES[case]
    assert cal.is_open(at(ts, zone)) == ref.is_open(ts)
    opening = cal.next_opening(at(ts, zone))
    assert opening == at(ref.add(ts, 0))
    assert cal.is_open(opening)
    assert not any(ref.is_open(t) for t in range(ts, int(opening.timestamp()), 60))


# -- properties of the module alone (microsecond instants) --------------------------------


@settings(max_examples=300, deadline=None)
@given(calendars, any_instant, business, business)
def test_add_is_monotonic(case: str, t: datetime, d1: timedelta, d2: timedelta) -> None:
    cal = CALENDARS[case]
    d1, d2 = min(d1, d2), max(d1, d2)
    assert cal.add(t, d1) <= cal.add(t, d2)


@settings(max_examples=300, deadline=None)
@given(calendars, any_instant, business, business)
def test_add_is_additive(case: str, t: datetime, a: timedelta, b: timedelta) -> None:
    """Holds except for b == 0 after a > 0 ending at a closing (add(x, 0) is next_opening)."""
    assume(b > ZERO or a == ZERO)
    cal = CALENDARS[case]
    assert cal.add(cal.add(t, a), b) == cal.add(t, a + b)


@settings(max_examples=300, deadline=None)
@given(calendars, any_instant, business)
def test_add_ends_in_open_time_and_elapsed_inverts_it(case: str, t: datetime, d: timedelta) -> None:
    cal = CALENDARS[case]
    result = cal.add(t, d)
    assert result >= t
    assert cal.elapsed(t, result) == d
    if d > ZERO:
        assert cal.is_open(result - timedelta(microseconds=1))
    else:
        assert result == cal.next_opening(t)


@settings(max_examples=200, deadline=None)
@given(calendars, whole_seconds, st.integers(1, 3 * 9 * 60))
def test_second_before_result_is_open(case: str, ts: int, minutes: int) -> None:
    cal = CALENDARS[case]
    assert cal.is_open(cal.add(at(ts), timedelta(minutes=minutes)) - timedelta(seconds=1))


@settings(max_examples=300, deadline=None)
@given(calendars, any_instant)
@example("night", datetime(2025, 3, 30, 2, 0, tzinfo=MADRID))  # imaginary local time, open
def test_next_opening_and_closing(case: str, t: datetime) -> None:
    cal = CALENDARS[case]
    opening, closing = cal.next_opening(t), cal.next_closing(t)
    assert opening >= t
    assert cal.is_open(opening)
    assert cal.elapsed(t, opening) == ZERO
    # Compare instants, not objects: an imaginary local time (in the spring-forward gap)
    # never compares equal to a datetime in another zone (PEP 495).
    assert (opening.timestamp() == t.timestamp()) == cal.is_open(t)
    assert opening < closing
    assert cal.elapsed(opening, closing) == closing - opening
    assert not cal.is_open(closing)


@settings(max_examples=300, deadline=None)
@given(calendars, any_instant, any_instant, any_instant)
def test_elapsed_is_additive(case: str, a: datetime, b: datetime, c: datetime) -> None:
    cal = CALENDARS[case]
    a, b, c = sorted((a, b, c))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    assert cal.elapsed(c, a) == ZERO


# -- the library's holidays ---------------------------------------------------------------


def test_spanish_national_holidays_2026_as_the_library_gives_them() -> None:
    national = sorted(holidays.country_holidays("ES", years=2026))
    assert national == [
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 3),  # Good Friday
        date(2026, 5, 1),
        date(2026, 8, 15),  # Saturday
        date(2026, 10, 12),
        date(2026, 12, 8),
        date(2026, 12, 25),
    ]  # 1 Nov and 6 Dec fall on Sunday: the library leaves them out nationally
    catalan = set(holidays.country_holidays("ES", subdiv="CT", years=2026)) - set(national)
    assert catalan == {date(2026, 4, 6), date(2026, 6, 24), date(2026, 9, 11), date(2026, 12, 26)}
    assert date(2026, 12, 7) not in ES and date(2026, 12, 7) in MD  # Madrid moves 6 Dec


# -- fixed cases on the distributor's schedule --------------------------------------------


def test_documented_cli_example_friday_evening_to_monday() -> None:
    result = DISTRIBUTOR.add(local(2026, 11, 27, 19, 30), timedelta(minutes=120))
    assert result == local(2026, 11, 30, 10, 30)
    assert result.tzinfo is UTC


def test_split_shift_boundaries() -> None:
    day = (2026, 11, 30)
    assert DISTRIBUTOR.add(local(*day, 13, 30), timedelta(minutes=60)) == local(*day, 16, 30)
    assert DISTRIBUTOR.add(local(*day, 13, 30), timedelta(minutes=30)) == local(*day, 14)
    assert DISTRIBUTOR.add(local(*day, 14), ZERO) == local(*day, 16)
    assert DISTRIBUTOR.is_open(local(*day, 13, 59, 59, 999999))
    assert not DISTRIBUTOR.is_open(local(*day, 14))
    assert DISTRIBUTOR.is_open(local(*day, 16))
    assert not DISTRIBUTOR.is_open(local(*day, 20))
    assert not DISTRIBUTOR.is_open(local(*day, 8, 59, 59))
    assert DISTRIBUTOR.next_closing(local(*day, 10)) == local(*day, 14)
    assert DISTRIBUTOR.next_closing(local(*day, 15)) == local(*day, 20)
    assert DISTRIBUTOR.next_closing(local(2026, 11, 27, 20, 30)) == local(*day, 14)


def test_microseconds_are_kept_exact() -> None:
    start = local(2026, 11, 30, 9, 0, 0, 1)
    assert DISTRIBUTOR.add(start, timedelta(hours=5)) == local(2026, 11, 30, 16, 0, 0, 1)
    assert DISTRIBUTOR.elapsed(start, local(2026, 11, 30, 16, 0, 0, 1)) == timedelta(hours=5)


def test_start_in_any_zone_gives_the_same_instant() -> None:
    start = local(2026, 11, 27, 19, 30)
    for zone in (UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")):
        assert DISTRIBUTOR.add(start.astimezone(zone), timedelta(hours=2)) == local(
            2026, 11, 30, 10, 30
        )


def test_open_intervals_are_utc_and_empty_when_closed() -> None:
    assert DISTRIBUTOR.open_intervals(date(2026, 11, 30)) == (
        (datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 13, tzinfo=UTC)),
        (datetime(2026, 11, 30, 15, tzinfo=UTC), datetime(2026, 11, 30, 19, tzinfo=UTC)),
    )
    assert DISTRIBUTOR.open_intervals(date(2026, 11, 29)) == ()  # Sunday
    assert DISTRIBUTOR.open_intervals(date(2026, 12, 8)) == ()  # Immaculate Conception


def test_dst_spring_forward_weekend() -> None:
    result = DISTRIBUTOR.add(local(2026, 3, 27, 19), timedelta(hours=2))
    assert result == local(2026, 3, 30, 10)
    assert result == datetime(2026, 3, 30, 8, tzinfo=UTC)  # +02:00 now
    assert DISTRIBUTOR.elapsed(local(2026, 3, 27, 19), local(2026, 3, 30, 10)) == timedelta(hours=2)


def test_full_day_schedule_counts_23_and_25_hour_days() -> None:
    always = calendar({d: ((time(0), time.max),) for d in range(7)})
    assert always.elapsed(local(2026, 3, 29), local(2026, 3, 30)) == timedelta(hours=23)
    assert always.elapsed(local(2026, 10, 25), local(2026, 10, 26)) == timedelta(hours=25)
    assert always.elapsed(local(2026, 6, 1), local(2026, 6, 2)) == timedelta(hours=24)
    assert always.add(local(2026, 3, 29), timedelta(hours=23)) == local(2026, 3, 30)
    assert always.open_intervals(date(2026, 10, 25)) == (
        (datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC)),
    )
    with pytest.raises(ScheduleError, match="never closes"):
        always.next_closing(local(2026, 1, 1))


def test_nonexistent_and_repeated_wall_times() -> None:
    night = calendar({6: ((time(1), time(4)),)})
    assert night.elapsed(local(2026, 3, 29), local(2026, 3, 30)) == timedelta(hours=2)
    assert night.elapsed(local(2026, 10, 25), local(2026, 10, 26)) == timedelta(hours=4)
    # 02:00-03:00 does not exist in spring; in autumn it covers both passes of 02:xx
    gap = calendar({6: ((time(2), time(3)),)})
    assert gap.open_intervals(date(2026, 3, 29)) == ()
    assert gap.elapsed(local(2026, 10, 25), local(2026, 10, 26)) == timedelta(hours=2)
    # a skipped start is the jump (03:00 CEST); a repeated end is its first occurrence
    late = calendar({6: ((time(2, 30), time(3, 30)),)})
    assert late.open_intervals(date(2026, 3, 29)) == (
        (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    )
    short = calendar({6: ((time(2), time(2, 30)),)})
    assert short.open_intervals(date(2026, 10, 25)) == (
        (datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    )


def test_easter_2026_national_and_catalonia() -> None:
    catalonia = calendar({d: SPLIT for d in WORKDAYS}, lambda d: d in CT)
    start, two_hours = local(2026, 4, 2, 19), timedelta(hours=2)  # Maundy Thursday
    assert date(2026, 4, 6) not in ES and date(2026, 4, 6) in CT  # Easter Monday
    assert DISTRIBUTOR.add(start, two_hours) == local(2026, 4, 6, 10)
    assert catalonia.add(start, two_hours) == local(2026, 4, 7, 10)


def test_constitution_bridge_december_2026() -> None:
    madrid = calendar({d: SPLIT for d in WORKDAYS}, lambda d: d in MD)
    start = local(2026, 12, 4, 19)  # Friday; Sun 6 Constitution, Mon 7, Tue 8 Immaculate
    assert DISTRIBUTOR.add(start, timedelta(hours=3)) == local(2026, 12, 7, 11)  # 7 Dec works
    assert madrid.add(start, timedelta(hours=3)) == local(2026, 12, 9, 11)  # 7 Dec observed


def test_year_end() -> None:
    assert DISTRIBUTOR.add(local(2026, 12, 31, 19), timedelta(hours=2)) == local(2027, 1, 4, 10)
    assert DISTRIBUTOR.elapsed(local(2026, 12, 31, 19), local(2027, 1, 4, 10)) == timedelta(hours=2)


def test_leap_day() -> None:
    assert DISTRIBUTOR.add(local(2028, 2, 28, 19), timedelta(hours=2)) == local(2028, 2, 29, 10)
    leap = calendar(
        {d: SPLIT for d in WORKDAYS}, special=[SpecialPeriod("Bisiesto", (2, 29), (2, 29), ())]
    )
    assert leap.upcoming_closures(date(2027, 1, 1), 800) == [(date(2028, 2, 29), "Bisiesto")]


# -- special periods and closed dates -----------------------------------------------------


def test_summer_hours() -> None:
    assert SPECIAL.is_open(local(2026, 7, 3, 14, 30))
    assert not SPECIAL.is_open(local(2026, 7, 3, 16, 30))
    assert not SPECIAL.is_open(local(2026, 7, 4, 10))  # Saturday: weekly hours, closed
    assert SPECIAL.add(local(2026, 7, 3, 14, 30), timedelta(hours=1)) == local(2026, 7, 6, 8, 30)
    assert SPECIAL.add(local(2026, 6, 30, 19, 30), timedelta(hours=1)) == local(2026, 7, 1, 8, 30)
    assert SPECIAL.add(local(2026, 8, 31, 14, 30), timedelta(hours=1)) == local(2026, 9, 1, 9, 30)


def test_christmas_eve_closed_date_and_period_wrapping_the_year() -> None:
    assert SPECIAL.add(local(2026, 12, 24, 13), timedelta(hours=2)) == local(2026, 12, 28, 10)
    # 31 closed date, 1 holiday, 2-3 weekend, 4 "Inventario" (listed before "Fiestas")
    assert SPECIAL.add(local(2026, 12, 30, 13), timedelta(hours=2)) == local(2027, 1, 5, 10)
    assert SPECIAL.is_open(local(2026, 12, 21, 16, 30))
    assert not SPECIAL.is_open(local(2026, 12, 28, 16, 30))
    assert not SPECIAL.is_open(local(2027, 1, 5, 16, 30))
    assert SPECIAL.is_open(local(2027, 1, 7, 16, 30))
    assert SPECIAL.is_open(local(2027, 3, 6, 10))  # a Saturday of March
    assert SPECIAL.hours_on(date(2027, 1, 6)) == ((), "holiday")  # holiday beats the period
    assert SPECIAL.upcoming_closures(date(2026, 12, 1), 40) == [
        (date(2026, 12, 8), "holiday"),
        (date(2026, 12, 25), "holiday"),
        (date(2026, 12, 31), "closed date"),
        (date(2027, 1, 1), "holiday"),
        (date(2027, 1, 4), "Inventario"),
        (date(2027, 1, 6), "holiday"),
    ]


def test_days_are_computed_once() -> None:
    asked: list[date] = []

    def is_holiday(day: date) -> bool:
        asked.append(day)
        return day in ES

    cal = calendar({d: SPLIT for d in WORKDAYS}, is_holiday)
    for hour in range(200):
        cal.add(local(2026, 5, 4, 9) + timedelta(hours=hour), timedelta(hours=20))
    assert len(asked) == len(set(asked))


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: calendar({0: ((time(9), time(14)), (time(13), time(16)))}), "Monday.*overlap"),
        (lambda: calendar({1: ((time(14), time(9)),)}), "Tuesday.*14:00-09:00"),
        (lambda: calendar({7: SPLIT}), "weekday key 7"),
        (lambda: calendar({}), "never open"),
        (lambda: calendar({0: ()}, special=[SpecialPeriod("x", (1, 1), (1, 2), ())]), "never"),
        (
            lambda: calendar({0: SPLIT}, special=[SpecialPeriod("Verano", (2, 30), (3, 1), ())]),
            r"'Verano'.*\(2, 30\)",
        ),
        (
            lambda: calendar(
                {0: SPLIT}, special=[SpecialPeriod("Mix", (7, 1), date(2026, 8, 31), ())]
            ),
            "'Mix'.*both",
        ),
        (
            lambda: calendar(
                {0: SPLIT},
                special=[SpecialPeriod("Back", date(2026, 8, 31), date(2026, 7, 1), ())],
            ),
            "'Back'.*before",
        ),
        (
            lambda: calendar(
                {0: SPLIT},
                special=[
                    SpecialPeriod(
                        "Solapa", (7, 1), (7, 2), (Interval(time(8), time(15)),) * 2, WORKDAYS
                    )
                ],
            ),
            "'Solapa'.*overlap",
        ),
        (lambda: calendar({0: SPLIT}, closed_dates=[datetime(2026, 1, 2)]), "closed_dates"),
    ],
)
def test_invalid_schedules_say_what_and_where(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        build()


def test_touching_intervals_merge() -> None:
    cal = calendar({0: ((time(9), time(14)), (time(14), time(20)))})
    assert cal.open_intervals(date(2026, 11, 30)) == (
        (datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 19, tzinfo=UTC)),
    )


def test_never_open_at_run_time_raises_instead_of_looping() -> None:
    cal = calendar({d: SPLIT for d in WORKDAYS}, lambda d: True)
    with pytest.raises(ScheduleError, match="never open"):
        cal.next_opening(local(2026, 1, 1))
    with pytest.raises(ScheduleError, match="never open"):
        cal.add(local(2026, 1, 1), timedelta(hours=1))


def test_bad_arguments() -> None:
    naive = datetime(2026, 11, 30, 10)
    for call in (
        lambda: DISTRIBUTOR.is_open(naive),
        lambda: DISTRIBUTOR.next_opening(naive),
        lambda: DISTRIBUTOR.next_closing(naive),
        lambda: DISTRIBUTOR.add(naive, timedelta(hours=1)),
        lambda: DISTRIBUTOR.elapsed(local(2026, 1, 1), naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()
    with pytest.raises(ValueError, match="negative"):
        DISTRIBUTOR.add(local(2026, 1, 1), timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-14:00", Interval(time(9), time(14))),
        (" 8:00 – 15:00 ", Interval(time(8), time(15))),
        ("00:00-24:00", Interval(time(0), time.max)),
        ("09:00:30-10:00", Interval(time(9, 0, 30), time(10))),
    ],
)
def test_parse_interval(text: str, expected: Interval) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["9-14", "14:00-09:00", "09:00-09:00", "25:00-26:00", "09:60-10"])
def test_parse_interval_rejects_with_the_text(text: str) -> None:
    with pytest.raises(ScheduleError, match=repr(text).replace("(", r"\(")):
        parse_interval(text)


def test_interval_prints_like_the_configuration() -> None:
    assert str(Interval(time(9), time(14))) == "09:00-14:00"
    assert str(Interval(time(0), time.max)) == "00:00-24:00"
