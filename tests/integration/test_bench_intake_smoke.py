"""The intake benchmark still runs end to end on its own mail stack (a tiny backlog, on
ports of its own so that it never meets the test session's stack)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_tiny_backlog_benchmark_handles_every_mail_and_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, "bench/bench_intake.py", "--mails", "30", "--only", "backlog",
         "--repeat", "1", "--imap-port", "15143", "--smtp-port", "15025",
         "--lmtp-port", "15024"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    done = re.findall(r"(\d+) incidents \+ (\d+) acks accepted by SMTP", out)
    # run --once, then run (and the summary): every mail an incident and an acknowledgement
    assert len(done) >= 2 and set(done) == {("30", "30")}, out[-3000:]
    assert "CPU per mail, all processes" in out
