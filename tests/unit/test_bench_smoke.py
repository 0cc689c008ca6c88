"""Every benchmark still runs: a tiny run of each, checking that it prints its figures.

Benchmarks are not timed here (speed lives in ``bench/``); this only keeps them from
rotting between the sittings that run them in full, as ``bench_pipeline.py`` once did for
a whole session after a module moved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_bench(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize(
    ("args", "figures"),
    [
        (("bench/bench_pipeline.py", "--mails", "30"), ("ms/mail", "handle_batch")),
        (("bench/bench_schedule.py", "--n", "2000"), ("add, warm", "2,000/2,000 ok")),
        (
            ("bench/bench_digest.py", "--open", "50", "--closed", "200", "--repeat", "1"),
            ("digest built and rendered", "content: "),
        ),
        (
            ("bench/bench_classifier.py", "--runs", "1", "--repeat", "1", "--no-training"),
            ("classification per mail, median", "model file"),
        ),
    ],
    ids=["pipeline", "schedule", "digest", "classifier"],
)
def test_a_tiny_run_of_each_benchmark_prints_its_figures(
    args: tuple[str, ...], figures: tuple[str, ...]
) -> None:
    out = run_bench(*args)
    for figure in figures:
        assert figure in out, out[-2000:]
