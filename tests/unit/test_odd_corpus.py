"""The team-written odd-mail corpus (tests/corpus/odd, issue #14 item 9) against the parser,
the loop guard and the bounce reader.

One test per message, driven by ``expected.toml``. The APIs under test are imported inside
the tests so that collection (and the manifest checks below) work while they are being
changed. Duplicate groups are pipeline-level: here they are only parsed as their outcome
says; the pipeline test checks what happens to the second mail.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "odd"
MANIFEST = CORPUS / "expected.toml"
OWN_ADDRESSES = frozenset({"support@maildesk.test", "noreply@maildesk.test"})

MINIMUMS: dict[str, int] = {
    "auto-reply": 35,
    "read-receipt": 12,
    "list": 15,
    "bounce": 35,
    "robot": 10,
    "readable": 70,
    "human-lookalike": 15,
    "unreadable": 10,
    "duplicate": 12,
}
OUTCOMES = {"client", "automatic", "quarantine"}
KINDS = {"auto-reply", "read-receipt", "list", "bounce", "robot", "bulk", "loop", "no-sender"}
DUPLICATE_EXPECTS = {"reused-id", "twin", "unreadable-twin"}
FIELDS = {
    "file": str,
    "outcome": str,
    "kind": str,
    "subject": str,
    "from_address": str,
    "body_contains": list,
    "body_excludes": list,
    "attachments": list,
    "allow_replacement": bool,
    "bounce_recipients": list,
    "bounce_original_message_id": str,
    "bounce_permanent": bool,
    "duplicate_group": str,
    "duplicate_expect": str,
    "note": str,
}
NOT_FAILED = {"delivered", "relayed", "expanded"}

# Leftovers of undecoded content in a client's body text.
_BOUNDARY_LINE = re.compile(r"^--[-=_A-Za-z0-9.]{8,}$")
_PART_HEADER = re.compile(r"^content-(type|transfer-encoding|disposition)\s*:", re.IGNORECASE)
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]{60,76}$")
_ENCODED_BLOCK_START = re.compile(r"^(begin [0-7]{3} \S|=ybegin )")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_MOJIBAKE = ("Ã", "Â", "\ufffd")


def _load() -> list[dict[str, Any]]:
    with MANIFEST.open("rb") as handle:
        entries: list[dict[str, Any]] = tomllib.load(handle)["mail"]
    return entries


ENTRIES = _load()


def _class(entry: dict[str, Any]) -> str:
    return str(entry["file"]).split("/", 1)[0]


def _raw(entry: dict[str, Any]) -> bytes:
    return (CORPUS / entry["file"]).read_bytes()


# --- the manifest and the folder agree ----------------------------------------------------


def test_manifest_and_folder_agree() -> None:
    listed = [e["file"] for e in ENTRIES]
    duplicated = [name for name, count in Counter(listed).items() if count > 1]
    assert not duplicated, f"listed more than once: {duplicated}"
    on_disk = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.eml"))
    assert sorted(listed) == on_disk, {
        "not listed": sorted(set(on_disk) - set(listed)),
        "missing file": sorted(set(listed) - set(on_disk)),
    }
    counts = Counter(_class(e) for e in ENTRIES)
    assert set(counts) == set(MINIMUMS), f"unknown or empty classes: {set(counts) ^ set(MINIMUMS)}"
    short = {cls: (counts[cls], low) for cls, low in MINIMUMS.items() if counts[cls] < low}
    assert not short, f"classes below their minimum (have, need): {short}"


def test_manifest_entries_are_well_formed() -> None:
    problems: list[str] = []
    name_pattern = re.compile(r"^[a-z-]+/\d{3}[ab]?-[a-z0-9-]+\.eml$")
    for entry in ENTRIES:
        name = entry["file"]
        if not name_pattern.match(name):
            problems.append(f"{name}: file name is not <class>/<NNN>-<slug>.eml")
        for key, value in entry.items():
            if key not in FIELDS:
                problems.append(f"{name}: unknown field {key}")
            elif not isinstance(value, FIELDS[key]):
                problems.append(f"{name}: {key} should be {FIELDS[key].__name__}")
        if entry.get("outcome") not in OUTCOMES:
            problems.append(f"{name}: outcome {entry.get('outcome')!r}")
        if not entry.get("note") or "\n" in entry.get("note", ""):
            problems.append(f"{name}: needs a one-line note")
        if entry.get("outcome") == "automatic" and entry.get("kind") not in KINDS:
            problems.append(f"{name}: automatic mail needs a known kind")
        if entry.get("outcome") != "automatic" and "kind" in entry:
            problems.append(f"{name}: only automatic mails have a kind")
        cls = _class(entry)
        expected_outcome = {
            "readable": "client",
            "human-lookalike": "client",
            "unreadable": "quarantine",
        }.get(cls, "automatic" if cls != "duplicate" else entry.get("outcome"))
        if entry.get("outcome") != expected_outcome:
            problems.append(f"{name}: class {cls} expects outcome {expected_outcome}")
        if cls == "bounce" and (
            "bounce_recipients" not in entry or "bounce_permanent" not in entry
        ):
            problems.append(f"{name}: bounces need bounce_recipients and bounce_permanent")
        if cls == "duplicate" and entry.get("duplicate_expect") not in DUPLICATE_EXPECTS:
            problems.append(f"{name}: duplicates need duplicate_group and duplicate_expect")
    assert not problems, "\n".join(problems)


def test_duplicate_groups_are_consistent() -> None:
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in ENTRIES:
        if "duplicate_group" in entry:
            groups.setdefault(entry["duplicate_group"], []).append(entry)
    assert groups
    for group, members in groups.items():
        assert len(members) >= 2, group
        expects = {m["duplicate_expect"] for m in members}
        assert len(expects) == 1, group
        raws = [_raw(m) for m in members]
        if expects == {"reused-id"}:
            ids = {re.search(rb"(?im)^message-id:\s*(<[^>]*>)", raw) for raw in raws}
            assert None not in ids, group
            assert len({m.group(1) for m in ids if m}) == 1, f"{group}: ids differ"
            assert len(set(raws)) == len(raws), f"{group}: contents must differ"
        else:
            assert len(set(raws)) == 1, f"{group}: twins must be byte-identical"


def _generator() -> ModuleType:
    name = "odd_corpus_make_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, CORPUS / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_corpus() -> None:
    generated: dict[str, bytes] = _generator().generate()
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.eml")} | {"expected.toml"}
    assert set(generated) == on_disk
    differ = [name for name, data in generated.items() if (CORPUS / name).read_bytes() != data]
    assert not differ, f"regenerate with tests/corpus/odd/make_corpus.py: {differ}"


def test_generator_minimums_match() -> None:
    assert _generator().MINIMUMS == MINIMUMS


def test_corpus_stays_small() -> None:
    total = sum(p.stat().st_size for p in CORPUS.glob("*/*.eml"))
    assert total < 3_200_000, f"corpus is {total} bytes"


# --- one test per message -----------------------------------------------------------------


def _leftovers(body: str) -> list[str]:
    """Undecoded MIME structure or encoded blocks left in a body text."""
    found: list[str] = []
    lines = body.splitlines()
    run = 0
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _BOUNDARY_LINE.match(stripped):
            following = [n.strip() for n in lines[number + 1 : number + 3]]
            if any(_PART_HEADER.match(n) for n in following):
                found.append(f"MIME boundary followed by part headers: {stripped!r}")
        if _ENCODED_BLOCK_START.match(stripped):
            found.append(f"encoded block start: {stripped[:40]!r}")
        run = run + 1 if _BASE64_LINE.match(stripped) else 0
        if run == 8:
            found.append(f"8+ lines of base64 ending at line {number + 1}")
    return found


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_odd_mail(entry: dict[str, Any]) -> None:
    from maildesk.inbound.parse import UnparseableMail, parse_mail

    raw = _raw(entry)
    if entry["outcome"] == "quarantine":
        with pytest.raises(UnparseableMail):
            parse_mail(raw)
        return
    mail = parse_mail(raw)
    if "duplicate_group" in entry:
        return  # what happens to the second mail is the pipeline test's business

    from maildesk.inbound.loopguard import automatic_kind, automatic_reason

    reason = automatic_reason(mail, OWN_ADDRESSES)
    if "subject" in entry:
        assert mail.subject == entry["subject"]
    if "from_address" in entry:
        assert mail.from_address == entry["from_address"]
    if entry["outcome"] == "client":
        assert reason is None, f"client mail taken as automatic: {reason}"
        _check_client(entry, mail)
    else:
        assert reason is not None, "automatic mail taken as a client's"
        assert automatic_kind(reason) == entry["kind"], reason
    _check_bounce(entry, raw)


def _check_client(entry: dict[str, Any], mail: Any) -> None:
    body = mail.body_text
    for text in entry.get("body_contains", []):
        assert text in body, f"body lacks {text!r}"
    for text in entry.get("body_excludes", []):
        assert text not in body, f"body still has {text!r}"
    assert not _leftovers(body)
    names = [a.filename for a in mail.attachments]
    for name in entry.get("attachments", []):
        assert name in names, f"attachment {name!r} not in {names}"
    assert not _ENCODED_WORD.search(mail.subject), f"undecoded subject {mail.subject!r}"
    if not entry.get("allow_replacement"):
        marks = [m for m in _MOJIBAKE if m in mail.subject]
        assert not marks, f"mojibake in subject {mail.subject!r}"


def _check_bounce(entry: dict[str, Any], raw: bytes) -> None:
    from maildesk.inbound.bounces import read_bounce

    bounce = read_bounce(raw)
    if entry.get("kind") != "bounce":
        if entry["outcome"] == "client":
            assert bounce is None, "client mail read as a bounce"
        return
    assert bounce is not None, "bounce not recognised"
    failed = sorted(
        r.address.lower() for r in bounce.recipients if (r.action or "").lower() not in NOT_FAILED
    )
    assert failed == sorted(entry["bounce_recipients"])
    if "bounce_original_message_id" in entry:
        assert bounce.original_message_id == entry["bounce_original_message_id"]
    assert bounce.permanent is entry["bounce_permanent"]
