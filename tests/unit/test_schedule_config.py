"""The schedule as configured: validation at start, and the ``maildesk schedule`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    path = tmp_path / "maildesk.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_documented_due_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "--config",
            str(EXAMPLE),
            "schedule",
            "due",
            "--from",
            "2026-11-27T19:30:00+01:00",
            "--minutes",
            "120",
        ],
        capsys,
    )
    assert code == 0
    assert out == "2026-11-30T10:30:00+01:00\n"


def test_due_across_the_split_shift_and_in_summer_time(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        [
            "--config",
            str(EXAMPLE),
            "schedule",
            "due",
            "--from",
            "2026-07-15T13:30:00+02:00",
            "--minutes",
            "60",
        ],
        capsys,
    )
    assert out == "2026-07-15T16:30:00+02:00\n"
    # A start without offset is read in the schedule's zone.
    _, out, _ = run(
        [
            "--config",
            str(EXAMPLE),
            "schedule",
            "due",
            "--from",
            "2026-12-07T19:00:00",
            "--minutes",
            "180",
        ],
        capsys,
    )
    assert out == "2026-12-09T11:00:00+01:00\n"  # Tuesday 8 December is a holiday


def test_next_open(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        ["--config", str(EXAMPLE), "schedule", "next-open", "--at", "2026-11-27T19:55:00+01:00"],
        capsys,
    )
    assert out == "2026-11-27T19:55:00+01:00\n"  # open: the instant itself
    _, out, _ = run(
        ["--config", str(EXAMPLE), "schedule", "next-open", "--at", "2026-12-31T20:00:00+01:00"],
        capsys,
    )
    assert out == "2027-01-04T09:00:00+01:00\n"  # New Year, then the weekend


def test_show_lists_the_week_and_named_holidays(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        [
            "--config",
            str(EXAMPLE),
            "schedule",
            "show",
            "--at",
            "2026-11-28T10:00:00+01:00",
            "--days",
            "45",
        ],
        capsys,
    )
    assert "Monday     09:00-14:00, 16:00-20:00" in out
    assert "Saturday   closed" in out
    assert "closed; opens Mon 2026-11-30 09:00" in out
    assert "Tue 2026-12-08  Inmaculada Concepción" in out
    assert "Fri 2026-12-25" in out


def test_bad_instant_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["--config", str(EXAMPLE), "schedule", "due", "--from", "mañana", "--minutes", "10"], capsys
    )
    assert code == 2 and "not an ISO 8601 instant: 'mañana'" in err


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'monday = ["09:00-14:00", "16:00-20:00"]',
            'monday = ["09:00-14:00", "13:00-20:00"]',
            "overlap",
        ),
        ('tuesday = ["09:00-14:00", "16:00-20:00"]', 'tuesday = ["14:00-09:00"]', "14:00-09:00"),
        ('tuesday = ["09:00-14:00", "16:00-20:00"]', 'tuesday = ["9h a 14h"]', "9h a 14h"),
        ('region = ""', 'region = "XX"', "region"),
        ("closed_dates = []", 'closed_dates = ["2026-02-30"]', "closed_dates"),
        ('timezone = "Europe/Madrid"', 'timezone = "Europe/Madrit"', "unknown time zone"),
    ],
)
def test_invalid_schedule_fails_at_start_naming_the_problem(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config_with(tmp_path, old, new))
    text = str(err.value)
    assert "schedule" in text and message in text


def test_special_periods_and_closed_dates_are_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_with(
        tmp_path,
        "closed_dates = []",
        'closed_dates = ["2026-12-31"]\n\n'
        '[[schedule.special]]\nname = "Verano"\nfrom = "07-01"\nto = "08-31"\n'
        'hours = ["08:00-15:00"]\n'
        'weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]\n',
    )
    config = load_config(path)
    assert config.schedule.special[0].name == "Verano"
    _, out, _ = run(
        [
            "--config",
            str(path),
            "schedule",
            "due",
            "--from",
            "2026-07-15T14:30:00+02:00",
            "--minutes",
            "60",
        ],
        capsys,
    )
    assert out == "2026-07-16T08:30:00+02:00\n"  # summer: 8–15, no afternoon shift
    _, out, _ = run(
        ["--config", str(path), "schedule", "next-open", "--at", "2026-12-30T20:30:00+01:00"],
        capsys,
    )
    assert out == "2027-01-04T09:00:00+01:00\n"  # 31 Dec closed, 1 Jan holiday, weekend


def test_business_duration_targets_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"kinds\[0\]\.resolution.*'8 hours'"):
        load_config(config_with(tmp_path, 'resolution = "8h"', 'resolution = "8 hours"'))
