"""How fast business-time deadlines are computed on the distributor's schedule.

Builds the calendar (Monday–Friday 9:00–14:00 and 16:00–20:00, Europe/Madrid, Spanish national
holidays from the ``holidays`` package), draws N seeded random arrival instants over 2026–2027
(to the microsecond) and durations of up to 5 business days (whole minutes), then times:

* ``add`` on a fresh calendar: the first pass, which also fills the day/year caches;
* ``add`` again, warm (best of 3);
* ``elapsed`` from each arrival to a random instant up to 10 calendar days later (best of 3).

Every deadline is checked afterwards: ``elapsed(start, add(start, d)) == d``.

Run: ``python bench/bench_schedule.py [--n 100000] [--seed 2026]``. Exit status 1 only when the
check fails; PASS/MISS against the target is informational.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from maildesk.businesstime import BusinessCalendar, parse_interval

TARGET = 50_000  # deadlines per second
SPAN_START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_US = (datetime(2028, 1, 1, tzinfo=UTC) - SPAN_START) // timedelta(microseconds=1)
MAX_MINUTES = 5 * 9 * 60  # 5 business days of 9 hours


def distributor_calendar() -> BusinessCalendar:
    """The distributor's schedule, built fresh (empty caches)."""
    public = holidays.country_holidays("ES", subdiv=None)
    hours = (parse_interval("09:00-14:00"), parse_interval("16:00-20:00"))

    def is_holiday(day: date) -> bool:
        return day in public

    return BusinessCalendar(
        ZoneInfo("Europe/Madrid"), {d: hours for d in range(5)}, is_holiday=is_holiday
    )


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def best_of(repeats: int, run: Callable[[], object]) -> float:
    return min(timed(run) for _ in range(repeats))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="deadlines to compute")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    starts = [SPAN_START + timedelta(microseconds=rng.randrange(SPAN_US)) for _ in range(args.n)]
    durations = [timedelta(minutes=rng.randint(0, MAX_MINUTES)) for _ in range(args.n)]
    ends = [s + timedelta(seconds=rng.randrange(10 * 86_400)) for s in starts]
    pairs = list(zip(starts, durations, strict=True))
    spans = list(zip(starts, ends, strict=True))

    calendar = distributor_calendar()
    results: list[datetime] = []
    first_year = timed(lambda: distributor_calendar().is_open(SPAN_START))
    cold = timed(lambda: results.extend(calendar.add(s, d) for s, d in pairs))
    warm = best_of(3, lambda: [calendar.add(s, d) for s, d in pairs])
    elapsed = best_of(3, lambda: [calendar.elapsed(s, e) for s, e in spans])
    wrong = sum(calendar.elapsed(s, r) != d for (s, d), r in zip(pairs, results, strict=True))

    cold_rate, warm_rate, elapsed_rate = args.n / cold, args.n / warm, args.n / elapsed
    goal = f">= {TARGET:,} /s"
    rows = [
        ("cache fill: one year of days", f"{first_year * 1000:.1f} ms", "", None),
        ("add, first pass (fills caches)", f"{cold_rate:,.0f} /s", goal, cold_rate >= TARGET),
        ("add, warm (best of 3)", f"{warm_rate:,.0f} /s", goal, warm_rate >= TARGET),
        ("elapsed, warm (best of 3)", f"{elapsed_rate:,.0f} /s", "", None),
        ("check elapsed(s, add(s, d)) == d", f"{args.n - wrong:,}/{args.n:,} ok", "all", not wrong),
    ]
    print("=" * 92)
    print(
        f"maildesk schedule benchmark — n={args.n:,}, seed={args.seed}, starts 2026–2027, "
        f"durations 0–{MAX_MINUTES} business min"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average "
        + "/".join(f"{v:.2f}" for v in os.getloadavg())
    )
    print("=" * 92)
    print(f"{'figure':<34}  {'value':>18}  {'target':<14} verdict")
    for name, value, target, passed in rows:
        verdict = "" if passed is None else ("PASS" if passed else "MISS")
        print(f"{name:<34}  {value:>18}  {target:<14} {verdict}".rstrip())
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
