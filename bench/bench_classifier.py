"""The classifier's costs, as a user meets them.

- ``maildesk classify one.eml``, a whole process: wall time and peak memory (median of
  ``--runs``); the language model's compact cache is made first (as the first start does).
- Loading the shipped model in a process, and classifying one mail at a time (as the
  daemon does: category, kind, the unsure rules), parsing excluded: the median of a first
  pass over the held-out mail (every word new to the process), then the median and p99 of
  ``--repeat`` further passes (a running daemon: words already seen).
- The daemon, from ``maildesk run`` to its "maildesk started" line (templates checked,
  database migrated, language and classifier models loaded) on an offline configuration.
- Training on the corpus (``maildesk train`` minus the evaluation) and the model's size.

Run: ``python bench/bench_classifier.py [--runs 5] [--repeat 3]``. Targets (issue: triage
that holds on real mail): classify one mail <= 1 s and <= 150 MB; <= 0.5 ms per mail;
daemon ready <= 2 s; training <= 120 s; model file <= 10 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from maildesk.config import load_config
from maildesk.testing.stackconfig import write_offline_config
from maildesk.triage.learned.corpus import load_examples
from maildesk.triage.learned.model import MODEL_FILE, load, save
from maildesk.triage.learned.training import train

REPO = Path(__file__).resolve().parents[1]
MAILDESK = [sys.executable, "-m", "maildesk.cli"]


def whole_process(command: Sequence[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MB) of ``command`` run ``runs`` times."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode()}")
        child.stderr.close()
    return statistics.median(walls), statistics.median(peaks)


def daemon_ready(config: Path, runs: int) -> float:
    """Median seconds from ``maildesk run`` to its "maildesk started" log line."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(
            [*MAILDESK, "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        for line in child.stderr:
            if "maildesk started" in line:
                times.append(time.perf_counter() - start)
                break
        else:
            raise SystemExit(f"maildesk run ended without starting (exit {child.wait()})")
        child.terminate()
        child.wait(timeout=30)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs of each whole process")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the held-out mails")
    parser.add_argument("--model", type=Path, default=REPO / "models")
    parser.add_argument("--train", type=Path, default=REPO / "data/corpus/train")
    parser.add_argument("--test", type=Path, default=REPO / "data/heldout")
    parser.add_argument("--no-training", action="store_true", help="skip the training figure")
    args = parser.parse_args(argv)
    config_path = REPO / "config.example.toml"
    config = load_config(config_path)
    kinds = {kind.id: kind.category for kind in config.kinds}
    eml = sorted((REPO / "demo/mails").glob("*.eml"))[1]

    subprocess.run([*MAILDESK, "--config", str(config_path), "classify", str(eml)],
                   check=True, capture_output=True)  # fmt: skip
    classify_wall, classify_rss = whole_process(
        [*MAILDESK, "--config", str(config_path), "classify", str(eml)], args.runs
    )
    with tempfile.TemporaryDirectory() as tmp:
        offline = write_offline_config(Path(tmp))
        ready = daemon_ready(offline, max(3, args.runs // 2))

    start = time.perf_counter()
    model = load(args.model)
    loading = time.perf_counter() - start
    mails = [(e.subject, e.text) for e in load_examples(args.test, kinds)]
    first: list[float] = []  # a fresh process: no word's n-grams looked up yet
    for subject, text in mails:
        start = time.perf_counter()
        model.predict(subject, text)
        first.append(time.perf_counter() - start)
    cold = statistics.median(first) * 1000
    times: list[float] = []
    for _ in range(args.repeat):
        for subject, text in mails:
            start = time.perf_counter()
            model.predict(subject, text)
            times.append(time.perf_counter() - start)
    times.sort()
    median = statistics.median(times) * 1000
    p99 = times[int(0.99 * (len(times) - 1))] * 1000
    in_process_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    size = (args.model / MODEL_FILE).stat().st_size
    rows = [
        (f"maildesk classify {eml.name[:18]}…", f"{classify_wall:.2f} s", "<= 1 s",
         classify_wall <= 1.0),
        ("  its peak memory", f"{classify_rss:.0f} MB", "<= 150 MB", classify_rss <= 150),
        ("daemon start to ready", f"{ready:.2f} s", "<= 2 s", ready <= 2.0),
        ("model load (in process)", f"{loading * 1000:.0f} ms", "", None),
        ("classification per mail, first pass", f"{cold:.3f} ms", "", None),
        ("classification per mail, median", f"{median:.3f} ms", "<= 0.5 ms", median <= 0.5),
        ("classification per mail, p99", f"{p99:.3f} ms", "", None),
        ("model file", f"{size / 1e6:.2f} MB", "<= 10 MB", size <= 10e6),
    ]  # fmt: skip
    if not args.no_training:
        examples = load_examples(args.train, kinds)
        start = time.perf_counter()
        trained = train(examples, kinds)
        training = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            save(trained, Path(tmp), {})
            retrained = (Path(tmp) / MODEL_FILE).stat().st_size
        rows += [
            (f"training on {len(examples)} mails", f"{training:.1f} s", "<= 120 s",
             training <= 120),
            ("model file, just retrained", f"{retrained / 1e6:.2f} MB", "", None),
        ]  # fmt: skip
    print(
        f"maildesk classifier benchmark — {len(mails)} held-out mails x {args.repeat}; "
        f"whole processes: median of {args.runs}; this process peaked at "
        f"{in_process_rss:.0f} MB"
    )
    for name, value, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"  {name:<34} {value:>10}  {target:<10} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
