"""The classifier's costs: inference per mail, training time on the corpus, model size.

Inference is timed one mail at a time (as the daemon classifies), parsing excluded: from the
subject and the client's cleaned words to category + kind with their confidences. Training is
the whole of ``maildesk train`` minus the evaluation (vectorizers, both calibrated models).

Run: ``python bench/bench_classifier.py [--repeat 3]``. Targets: median inference <= 1 ms on
one core, training <= 60 s, model file <= 10 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from maildesk.config import load_config
from maildesk.learn.corpus import load_examples
from maildesk.learn.model import MODEL_FILE, load, save, train

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the test mails")
    parser.add_argument("--model", type=Path, default=REPO / "models")
    parser.add_argument("--train", type=Path, default=REPO / "data/corpus/train")
    parser.add_argument("--test", type=Path, default=REPO / "data/corpus/test")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    config = load_config(REPO / "config.example.toml")
    kinds = {kind.id: kind.category for kind in config.kinds}
    model = load(args.model)
    mails = [(e.subject, e.text) for e in load_examples(args.test, kinds)]
    model.predict(*mails[0])  # warm caches
    times: list[float] = []
    for _ in range(args.repeat):
        for subject, text in mails:
            start = time.perf_counter()
            model.predict(subject, text)
            times.append(time.perf_counter() - start)
    times.sort()
    median = statistics.median(times) * 1000
    p99 = times[int(0.99 * (len(times) - 1))] * 1000

    examples = load_examples(args.train, kinds)
    start = time.perf_counter()
    trained = train(examples, kinds)
    training = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        save(trained, Path(tmp), {})
        retrained_size = (Path(tmp) / MODEL_FILE).stat().st_size
    size = (args.model / MODEL_FILE).stat().st_size

    rows = [
        ("inference per mail, median", f"{median:.3f} ms", "<= 1 ms", median <= 1.0),
        ("inference per mail, p99", f"{p99:.3f} ms", "", None),
        (f"training on {len(examples)} mails", f"{training:.1f} s", "<= 60 s", training <= 60),
        ("model file (shipped)", f"{size / 1e6:.2f} MB", "<= 10 MB", size <= 10e6),
        ("model file (just retrained)", f"{retrained_size / 1e6:.2f} MB", "", None),
    ]
    print(f"maildesk classifier benchmark — {len(mails)} test mails x {args.repeat}, one core")
    for name, value, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"  {name:<32} {value:>10}  {target:<9} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
