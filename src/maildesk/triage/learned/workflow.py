"""The model's life as the commands run it: train (and decide whether to install), evaluate
with the stress checks, classify JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from maildesk.config import Config
from maildesk.triage.learned.corpus import (
    CorpusError,
    Example,
    corpus_digest,
    corrections_as_examples,
    load_examples,
)
from maildesk.triage.learned.evaluation import Evaluation, evaluate, format_evaluation
from maildesk.triage.learned.model import ModelError, TrainedModel, load, save
from maildesk.triage.learned.stress import format_stress, run_stress, trades_path

# A new model replaces the installed one unless it is worse than this on the held-out set.
TOLERANCE = 0.005


class CommandError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: TrainedModel
    test: Evaluation | None
    previous: Evaluation | None
    replaced: bool
    reason: str


def kind_categories(config: Config) -> dict[str, str]:
    return {kind.id: kind.category for kind in config.kinds}


def _load(path: Path, config: Config) -> list[Example]:
    try:
        return load_examples(path, kind_categories(config))
    except CorpusError as exc:
        raise CommandError(str(exc)) from None


def run_train(
    config: Config,
    *,
    data: Path,
    test: Path | None,
    output: Path,
    with_corrections: bool,
    force: bool,
    now: datetime,
    out: TextIO | None = None,
) -> TrainResult:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from maildesk.db.store import Database
    from maildesk.triage.learned.training import SETTINGS, library_versions, train

    steps = [
        "loading",
        "features",
        "category model",
        "calibration",
        "kind model",
        "evaluating",
        "saving",
    ]
    console = Console(stderr=True)
    with Progress(
        TextColumn("training {task.description:<16}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(steps[0], total=len(steps))

        def step(name: str) -> None:
            progress.update(task, description=name, completed=steps.index(name))

        examples = _load(data, config)
        corrections: list[Example] = []
        if with_corrections:
            database = Database(config.database.url)
            try:
                database.require_current()
                corrections = corrections_as_examples(database)
            finally:
                database.dispose()
        test_examples = _load(test, config) if test is not None else []
        try:
            model = train(examples + corrections, kind_categories(config), progress=step)
        except (ModelError, ValueError) as exc:
            raise CommandError(f"training failed: {exc}") from None
        step("evaluating")
        threshold = config.triage.confidence_threshold
        result = evaluate(model, test_examples, threshold) if test_examples else None
        on_training = evaluate(model, examples, threshold)
        previous_model = _installed(output)
        previous = (
            evaluate(previous_model, test_examples, threshold)
            if previous_model is not None and test_examples
            else None
        )
        replaced, reason = _decide(result, previous, previous_model, corrections, model, force)
        step("saving")
        if replaced:
            save(
                model,
                output,
                {
                    "trained_at": now.isoformat(timespec="seconds"),
                    "labels": {
                        "category": ["technical", "billing", "other"],
                        "kind": list(model.kind.classes) if model.kind else [],
                    },
                    "versions": library_versions(),
                    "settings": SETTINGS,
                    "calibration": model.metadata.get("calibration"),
                    "data": {
                        "train": {
                            "path": str(data),
                            "count": len(examples),
                            "sha256": corpus_digest(examples),
                        },
                        "corrections": {
                            "count": len(corrections),
                            "sha256": corpus_digest(corrections),
                        },
                        "test": (
                            {
                                "path": str(test),
                                "count": len(test_examples),
                                "sha256": corpus_digest(test_examples),
                            }
                            if test_examples
                            else None
                        ),
                    },
                    "metrics": {
                        "training": on_training.summary(),
                        "test": result.summary() if result else None,
                    },
                },
            )
        progress.update(task, completed=len(steps), description="done")
    _print_train_report(
        out or sys.stdout, examples, corrections, result, previous, replaced, reason, output
    )
    return TrainResult(model, result, previous, replaced, reason)


def _installed(directory: Path) -> TrainedModel | None:
    try:
        return load(directory)
    except ModelError:
        return None


def _decide(
    new: Evaluation | None,
    old: Evaluation | None,
    old_model: TrainedModel | None,
    corrections: Sequence[Example],
    model: TrainedModel,
    force: bool,
) -> tuple[bool, str]:
    if force:
        return True, "--force"
    if old_model is None:
        return True, "no model installed"
    if new is None or old is None:
        return False, "a model is installed and there is no test data to compare with (--test)"
    if corrections:
        fixed_new = _right(model, corrections)
        fixed_old = _right(old_model, corrections)
        if fixed_new < fixed_old:
            return False, f"corrections: new model right on {fixed_new}, installed on {fixed_old}"
    for name in ("tech_billing_macro_f1", "category_macro_f1"):
        if getattr(new, name) < getattr(old, name) - TOLERANCE:
            return False, f"{name} {getattr(new, name):.3f} < installed {getattr(old, name):.3f}"
    return True, "not worse than the installed model on the held-out set"


def _right(model: TrainedModel, examples: Sequence[Example]) -> int:
    predictions = model.predict_many([(e.subject, e.text) for e in examples], 0.0)
    return sum(
        p.category == e.category and (e.kind is None or p.kind == e.kind)
        for p, e in zip(predictions, examples, strict=True)
    )


def _print_train_report(
    out: TextIO,
    examples: Sequence[Example],
    corrections: Sequence[Example],
    result: Evaluation | None,
    previous: Evaluation | None,
    replaced: bool,
    reason: str,
    output: Path,
) -> None:
    print(f"trained on {len(examples)} mails + {len(corrections)} corrections", file=out)
    if result is not None:
        print(format_evaluation(result, "held-out set, new model"), file=out)
    if previous is not None and result is not None:
        print("\nnew vs installed on the held-out set:", file=out)
        for name in ("category_accuracy", "category_macro_f1", "tech_billing_macro_f1"):
            print(
                f"  {name:<24} {getattr(result, name):.3f}  (installed "
                f"{getattr(previous, name):.3f})",
                file=out,
            )
    verdict = "written to" if replaced else "NOT written; kept the installed model in"
    print(f"\nmodel {verdict} {output} ({reason})", file=out)


def run_evaluate(config: Config, *, data: Path, model_dir: Path, as_json: bool, out: TextIO) -> int:
    """The figures on ``data`` and the stress checks; exit status 1 when a check fails."""
    try:
        model = load(model_dir)
    except ModelError as exc:
        raise CommandError(str(exc)) from None
    examples = _load(data, config)
    threshold = config.triage.confidence_threshold
    result = evaluate(model, examples, threshold)
    trades = trades_path(data)
    stress = run_stress(model, examples, threshold, _load(trades, config) if trades else ())
    if as_json:
        print(
            json.dumps(
                result.summary()
                | {
                    "category_report": result.category_report,
                    "rules": result.rules,
                    "trade_off": result.trade_off,
                    "stress": {s.name: {"passed": s.passed, "figure": s.figure} for s in stress},
                }
            ),
            file=out,
        )
    else:
        print(format_evaluation(result, f"{data} with the model in {model_dir}"), file=out)
        print("\n" + format_stress(stress), file=out)
    return 0 if all(s.passed for s in stress) else 1


def classify_jsonl(lines: Iterable[str], classify_one: Any, out: TextIO) -> int:
    """One JSON object out per line in, in order; a bad line gets an error object."""
    failures = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            subject, body = item.get("subject", ""), item.get("body", "")
            if not isinstance(subject, str) or not isinstance(body, str):
                raise ValueError("subject and body must be strings")
            result: dict[str, Any] = classify_one(subject, body)
        except (ValueError, json.JSONDecodeError) as exc:
            failures += 1
            result = {"line": number, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return failures
