"""Labelled mail for training and evaluation, from JSONL, CSV or folders of .eml files.

Accepted inputs (``maildesk train --data PATH``):
- a ``.jsonl`` file: one object per line with ``subject``, ``body``, ``category`` and
  optionally ``kind`` and ``language``;
- a ``.csv`` file with a header row naming the same columns;
- a directory holding such files (read in name order), or holding one folder per label with
  ``.eml`` files inside: a folder named after a category (technical, billing, other) or after
  a kind of the catalogue (the category then follows from the catalogue).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from maildesk.inbound.parse import UnparseableMail, parse_mail
from maildesk.inbound.quotes import clean_reply, is_forward_subject

if TYPE_CHECKING:
    from maildesk.db.store import Database

CATEGORIES = ("technical", "billing", "other")


class CorpusError(ValueError):
    """The data cannot be used; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Example:
    subject: str
    text: str  # the client's own words: quotes, signatures and footers cut
    category: str
    kind: str | None = None
    language: str | None = None
    source: str = ""  # file:line, for error messages and reports
    weight: float = 1.0


def load_examples(path: Path, kind_categories: Mapping[str, str]) -> list[Example]:
    """Every example under ``path``; raises ``CorpusError`` naming what is wrong."""
    if not path.exists():
        raise CorpusError(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".csv"))
        folders = sorted(p for p in path.iterdir() if p.is_dir())
        if files:
            return [e for f in files for e in _load_file(f, kind_categories)]
        if folders:
            return [e for d in folders for e in _load_eml_folder(d, kind_categories)]
        raise CorpusError(f"{path}: no .jsonl/.csv files and no label folders of .eml files")
    return _load_file(path, kind_categories)


def corpus_digest(examples: Iterable[Example]) -> str:
    """A hash of the examples' content, recorded with the model it trained."""
    digest = hashlib.sha256()
    for example in examples:
        content = asdict(example)
        del content["source"]  # where it was read from is not what it says
        digest.update(json.dumps(content, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _load_file(path: Path, kind_categories: Mapping[str, str]) -> list[Example]:
    if path.suffix == ".jsonl":
        rows = _jsonl_rows(path)
    elif path.suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise CorpusError(f"{path}: expected .jsonl, .csv or a directory")
    return [_example(row, where, kind_categories) for row, where in rows]


def _jsonl_rows(path: Path) -> list[tuple[dict[str, object], str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise CorpusError(f"{where}: expected a JSON object")
            rows.append((row, where))
    return rows


def _csv_rows(path: Path) -> list[tuple[dict[str, object], str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"subject", "body", "category"} - set(reader.fieldnames or ())
        if missing:
            raise CorpusError(f"{path}: header lacks {', '.join(sorted(missing))}")
        return [(dict(row), f"{path}:{reader.line_num}") for row in reader]


def _example(row: Mapping[str, object], where: str, kinds: Mapping[str, str]) -> Example:
    subject, body = row.get("subject", ""), row.get("body")
    if not isinstance(subject, str) or not isinstance(body, str):
        raise CorpusError(f"{where}: subject and body must be text")
    category = row.get("category")
    kind = row.get("kind") or None
    if kind is not None:
        if kind not in kinds:
            raise CorpusError(f"{where}: unknown kind {kind!r}; known: {', '.join(kinds)}")
        category = category or kinds[str(kind)]
        if category != kinds[str(kind)]:
            raise CorpusError(
                f"{where}: kind {kind!r} belongs to {kinds[str(kind)]!r}, not {category!r}"
            )
    if category not in CATEGORIES:
        raise CorpusError(f"{where}: category {category!r}; expected one of {CATEGORIES}")
    language = row.get("language")
    return Example(
        subject=subject,
        text=clean_reply(body, forwarded=is_forward_subject(subject)),
        category=str(category),
        kind=str(kind) if kind else None,
        language=str(language) if language else None,
        source=where,
    )


def _load_eml_folder(folder: Path, kinds: Mapping[str, str]) -> list[Example]:
    label = folder.name
    if label in kinds:
        category, kind = kinds[label], label
    elif label in CATEGORIES:
        category, kind = label, None
    else:
        raise CorpusError(
            f"{folder}: folder name {label!r} is neither a category ({', '.join(CATEGORIES)}) "
            "nor a kind of the catalogue"
        )
    examples = []
    for path in sorted(folder.glob("*.eml")):
        try:
            mail = parse_mail(path.read_bytes())
        except UnparseableMail as exc:
            raise CorpusError(f"{path}: not a mail ({exc.reason}: {exc.detail})") from None
        examples.append(Example(mail.subject, mail.clean_text, category, kind, None, str(path)))
    return examples


CORRECTION_WEIGHT = 3.0  # a person looked at this mail: it counts more than a corpus mail


def corrections_as_examples(database: Database) -> list[Example]:
    """The latest correction of each incident, as weighted training examples."""
    from sqlalchemy import select

    from maildesk.db.tables import Correction

    latest: dict[int, Correction] = {}
    with database.session() as session:
        for correction in session.scalars(select(Correction).order_by(Correction.id)):
            latest[correction.incident_id] = correction
    return [
        Example(
            subject=c.subject,
            text=c.text,
            category=c.category,
            kind=c.kind,
            source=f"correction {c.id} (incident {c.incident_id}, by {c.actor})",
            weight=CORRECTION_WEIGHT,
        )
        for c in latest.values()
    ]
