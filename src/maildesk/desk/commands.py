"""Commands the distributor's staff write at the top of a mail, in Spanish, Catalan or English.

One command per line, from the first line of the text; the first line that is not a
command ends them (so quoted history, signatures and the rest of the mail are never read
as commands). A line that looks like a command but is not one is refused with a suggestion;
a known command with a bad argument is refused with what it expects. The same parser serves
the CLI (``maildesk incidents …``), so both paths follow one set of rules.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from maildesk.desk.messages import Said, said

# verb → its words in es / ca / en (accents and case are ignored when matching)
VERBS: dict[str, tuple[str, ...]] = {
    "resolve": ("resolver", "resuelta", "resuelto", "resoldre", "resolta", "resolve", "resolved"),
    "reopen": ("reabrir", "reobrir", "reopen"),
    "wait": ("esperar", "espera", "wait", "waiting"),
    "priority": ("prioridad", "prioritat", "priority"),
    "category": ("categoria", "category"),
    "kind": ("tipo", "tipus", "kind"),
    "note": ("nota", "note"),
    "time": ("tiempo", "temps", "time"),
    "reply": ("responder", "respon", "respondre", "reply"),
    "assign": ("asignar", "assignar", "assign"),
    "visit": ("visita", "visit"),
}
# the argument each verb takes: none, optional free text, required free text, or a value
_ARGUMENT = {
    "resolve": "text?",
    "reopen": "none",
    "wait": "text?",
    "priority": "priority",
    "category": "category",
    "kind": "word",
    "note": "text",
    "time": "duration",
    "reply": "text",
    "assign": "team",
    "visit": "cost",
}
CATEGORIES = {
    "tecnica": "technical", "tecnico": "technical", "technical": "technical",
    "facturacion": "billing", "facturacio": "billing", "billing": "billing", "cdf": "billing",
    "otra": "other", "otro": "other", "altra": "other", "altre": "other", "other": "other",
}  # fmt: skip
TEAMS = {
    "tecnico": "technical_service", "tecnic": "technical_service",
    "technical": "technical_service", "sat": "technical_service",
    "cdf": "billing_centre", "facturacion": "billing_centre", "facturacio": "billing_centre",
    "billing": "billing_centre",
}  # fmt: skip
_WORD = re.compile(r"^\s*([^\W\d_]+)\s*[:\-]?\s*(.*?)\s*$")
_PRIORITY = re.compile(r"^p?([1-4])$", re.IGNORECASE)
_DURATION = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*h(?:oras?|ores|ours?|rs?)?\s*)?"
    r"(?:(\d+)\s*(?:m|min|mins|minutos?|minuts?|minutes?)?)?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)$")
_COST = re.compile(r"^(\d+(?:[.,]\d{1,2})?)\s*(?:€|eur|euros?)?$", re.IGNORECASE)
_ALIASES = {
    unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode(): verb
    for verb, words in VERBS.items()
    for word in words
}


# The reason a staff member's command mail is kept with when it was not obeyed (its
# disposition stays "followup"): reports tell it from a client's follow-up by this prefix.
REFUSED_COMMAND = "command refused"


@dataclass(frozen=True, slots=True)
class Command:
    verb: str  # canonical: resolve, reopen, wait, priority, category, kind, note, time, reply…
    value: str  # normalised argument: "P2", "billing", minutes as text, a team id, free text
    line: str  # as written


@dataclass(frozen=True, slots=True)
class Refusal:
    line: str
    said: Said

    @property
    def reason(self) -> str:
        return self.said.text()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one command line: applied, or refused with why."""

    line: str
    applied: bool
    said: Said  # what changed, or why not

    @property
    def detail(self) -> str:
        return self.said.text()


@dataclass(frozen=True, slots=True)
class Parsed:
    commands: tuple[Command, ...]
    refusals: tuple[Refusal, ...]

    @property
    def empty(self) -> bool:
        return not self.commands and not self.refusals


def fold(word: str) -> str:
    """Lower case without accents: "Categoría" → "categoria"."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def parse_commands(text: str, max_lines: int = 20) -> Parsed:
    """The commands at the top of ``text``; stops at the first line that is neither a
    command nor an unknown word followed by an argument (that is, at ordinary prose)."""
    commands: list[Command] = []
    refusals: list[Refusal] = []
    seen_any = False
    for raw in text.replace("\r\n", "\n").split("\n")[: max_lines + 1]:
        line = raw.strip()
        if not line:
            if seen_any:
                break  # a blank line after the commands ends them
            continue
        if line.startswith(">"):
            break  # quoted history: never commands
        match = _WORD.match(line)
        if match is None:
            break
        word, argument = fold(match.group(1)), match.group(2)
        verb = _ALIASES.get(word)
        if verb is None:
            if seen_any or _looks_like_a_command(word, argument):
                close = difflib.get_close_matches(word, list(_ALIASES), n=1, cutoff=0.7)
                refusals.append(
                    Refusal(
                        line,
                        said("unknown-command-hint", word=match.group(1), suggestion=close[0])
                        if close
                        else said("unknown-command", word=match.group(1)),
                    )
                )
                seen_any = True
                continue
            break  # prose: the commands (if any) are over
        seen_any = True
        value, problem = _argument(verb, argument, match.group(1))
        if problem is not None:
            refusals.append(Refusal(line, problem))
        else:
            commands.append(Command(verb, value, line))
    return Parsed(tuple(commands), tuple(refusals))


def _looks_like_a_command(word: str, argument: str) -> bool:
    """A first line such as "Resolv: listo" (a typo of a command), not "Hola Juan,"."""
    close = difflib.get_close_matches(word, list(_ALIASES), n=1, cutoff=0.8)
    return bool(close) and not argument.endswith(",")


def parse_duration(text: str) -> int | None:
    """Minutes from "1h30", "1,5h", "90m", "90", "1:30"; None when not a duration."""
    text = fold(text.strip()).replace(" ", "")
    clock = _CLOCK.match(text)
    if clock:
        return int(clock.group(1)) * 60 + int(clock.group(2))
    found = _DURATION.match(text)
    if not text or found is None or not any(found.groups()):
        return None
    hours = float(found.group(1).replace(",", ".")) if found.group(1) else 0.0
    minutes = int(found.group(2)) if found.group(2) else 0
    total = round(hours * 60) + minutes
    return total if 0 < total <= 24 * 60 else None


def _argument(verb: str, argument: str, word: str) -> tuple[str, Said | None]:
    """(normalised value, None) or ("", why it is refused)."""
    kind = _ARGUMENT[verb]
    if kind == "none":
        return ("", None) if not argument else ("", said("no-argument", word=word))
    if kind == "text?":
        return argument, None
    if kind == "text":
        return (argument, None) if argument else ("", said("needs-text", word=word))
    if kind == "word":
        name = fold(argument).replace(" ", "_")
        if re.fullmatch(r"[a-z_]+", name):
            return name, None
        return "", said("needs-name", word=word)
    if kind == "priority":
        found = _PRIORITY.match(argument.strip())
        return (f"P{found.group(1)}", None) if found else ("", said("priority-values"))
    if kind == "category":
        value = CATEGORIES.get(fold(argument.strip()))
        return (value, None) if value else ("", said("category-values"))
    if kind == "team":
        value = TEAMS.get(fold(argument.strip()))
        return (value, None) if value else ("", said("team-values"))
    if kind == "duration":
        minutes = parse_duration(argument)
        return ("", said("duration-values")) if minutes is None else (str(minutes), None)
    found = _COST.match(argument.strip())  # cost
    if found is None:
        return "", said("cost-values")
    return found.group(1).replace(",", "."), None
