"""Localized client mails from Jinja2 templates: subject, plain text and HTML.

Pure apart from reading template files: no clock reads (the context carries ``now``),
and every failure surfaces as ``TemplateError`` naming the template, line and cause.
Layout on disk: ``{directory}/{lang}/{name}.subject.j2|.txt.j2|.html.j2`` plus shared
``_``-prefixed files at the top (``_layout.html.j2``, ``_macros.html.j2``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.units import format_unit
from jinja2.sandbox import ImmutableSandboxedEnvironment

PARTS = ("subject", "txt", "html")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_UNDEFINED_RE = re.compile(r"^'(?P<name>[^']+)' is undefined$")
_NO_ATTRIBUTE_RE = re.compile(r"has no attribute '(?P<name>[^']+)'")
_REPLY_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|fwd?|rv|reenv|enc|aw|wg|r)\s*(?:\[\d+\])?\s*:|\[[A-Z][A-Z0-9]*-\d{4}-\d+\])\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class TemplateError(Exception):
    """A template could not be loaded or rendered; names the template and the cause."""

    def __init__(
        self,
        template: str,
        message: str,
        *,
        line: int | None = None,
        variable: str | None = None,
    ) -> None:
        where = f"{template}:{line}" if line is not None else template
        super().__init__(f"{where}: {message}")
        self.template = template
        self.message = message
        self.line = line
        self.variable = variable


@dataclass(frozen=True, slots=True)
class _Phrasing:
    """How one language says "on <weekday> <day> <month> at <time>"."""

    date: str  # babel pattern without year
    date_year: str  # babel pattern with year
    prefix: str  # article before the date ("el " in es/ca)
    at: Callable[[int], str]  # hour (0-23) -> word(s) before the time
    date_short: str


_PHRASINGS: dict[str, _Phrasing] = {
    # Spanish month names carry no preposition: the pattern adds "de".
    "es": _Phrasing(
        date="EEEE d 'de' MMMM",
        date_year="EEEE d 'de' MMMM 'de' y",
        prefix="el ",
        at=lambda hour: "a la" if hour == 1 else "a las",
        date_short="dd/MM/y",
    ),
    # Catalan format-context month names already include "de"/"d'" ("30 d'octubre").
    "ca": _Phrasing(
        date="EEEE d MMMM",
        date_year="EEEE d MMMM 'de' y",
        prefix="el ",
        at=lambda hour: "a la" if hour == 1 else "a les",
        date_short="dd/MM/y",
    ),
    "en": _Phrasing(
        date="EEEE d MMMM",
        date_year="EEEE d MMMM y",
        prefix="",
        at=lambda hour: "at",
        date_short="dd/MM/y",
    ),
}


def _base_language(language: str) -> str:
    """'es-ES', 'ca_ES', 'EN' -> 'es', 'ca', 'en'."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


def _clock(local: datetime) -> str:
    """24-hour clock without a leading zero: '9:00', '13:05'."""
    return f"{local.hour}:{local.minute:02d}"


def _typography(text: str) -> str:
    """Plain apostrophes, matching the hand-written template text ("d'octubre")."""
    return text.replace("\u2019", "'")


class TemplateRenderer:
    """Renders ``{name}`` in a client's language from the templates under ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        timezone: str = "Europe/Madrid",
        languages: Sequence[str] = ("es", "ca", "en"),
        default_language: str = "es",
    ) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ValueError(f"templates directory {self.directory} does not exist")
        try:
            self.timezone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {timezone!r}") from exc
        self.languages = tuple(_base_language(lang) for lang in languages)
        self.default_language = _base_language(default_language)
        if self.default_language not in self.languages:
            raise ValueError(
                f"default language {default_language!r} is not one of {list(self.languages)}"
            )
        for lang in self.languages:
            try:
                Locale.parse(lang)
            except (UnknownLocaleError, ValueError) as exc:
                raise ValueError(f"language {lang!r} is not a known locale") from exc

        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            undefined=jinja2.StrictUndefined,
            autoescape=lambda name: name is not None and name.endswith(".html.j2"),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters.update(
            when=self._filter_when,
            date_short=self._filter_date_short,
            time_short=self._filter_time_short,
            duration=self._filter_duration,
            topic=_topic,
        )

    def language_for(self, language: str | None) -> str:
        """The supported language to render in; unknown or empty -> default language."""
        lang = _base_language(language or "")
        return lang if lang in self.languages else self.default_language

    def render(self, name: str, language: str, context: Mapping[str, Any]) -> RenderedMail:
        """Subject, text and HTML of template ``name``; ``lang`` is injected into the context."""
        if not _NAME_RE.match(name):
            raise TemplateError(name, "invalid template name (use lower-case letters, digits, -_)")
        lang = self.language_for(language)
        values = {**context, "lang": lang}
        subject = self._render_part(f"{lang}/{name}.subject.j2", values)
        text = self._render_part(f"{lang}/{name}.txt.j2", values)
        html = self._render_part(f"{lang}/{name}.html.j2", values)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=_tidy_text(text),
            html=html,
        )

    def available(self) -> list[tuple[str, str]]:
        """(name, language) pairs whose subject, text and HTML files all exist."""
        pairs: list[tuple[str, str]] = []
        for lang in self.languages:
            folder = self.directory / lang
            if not folder.is_dir():
                continue
            names = {path.name.removesuffix(".subject.j2") for path in folder.glob("*.subject.j2")}
            for name in sorted(names):
                if _NAME_RE.match(name) and all(
                    (folder / f"{name}.{part}.j2").is_file() for part in PARTS
                ):
                    pairs.append((name, lang))
        return sorted(pairs)

    # -- rendering -----------------------------------------------------------------

    def _render_part(self, template_name: str, values: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(template_name).render(values)
        except jinja2.TemplateNotFound as exc:  # the file itself or an extends/include/import
            missing = self.directory / (exc.name or template_name)
            raise TemplateError(template_name, f"template file not found: {missing}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                self._relative(exc.filename) or exc.name or template_name,
                f"syntax error: {exc.message}",
                line=exc.lineno,
            ) from exc
        except Exception as exc:  # every render failure becomes one named outcome
            raise self._render_error(template_name, exc) from exc

    def _render_error(self, template_name: str, exc: Exception) -> TemplateError:
        where, line = self._template_frame(exc.__traceback__)
        name = where or template_name
        text = str(exc)
        if isinstance(exc, jinja2.exceptions.SecurityError):
            return TemplateError(name, f"forbidden by the sandbox: {text}", line=line)
        if isinstance(exc, jinja2.UndefinedError):
            if found := _UNDEFINED_RE.match(text):
                variable = found["name"]
                return TemplateError(
                    name, f"unknown variable {variable!r}", line=line, variable=variable
                )
            if found := _NO_ATTRIBUTE_RE.search(text):
                variable = found["name"]
                return TemplateError(
                    name, f"unknown attribute {variable!r} ({text})", line=line, variable=variable
                )
            return TemplateError(name, f"undefined value: {text}", line=line)
        return TemplateError(name, f"{type(exc).__name__}: {text}", line=line)

    def _template_frame(self, tb: TracebackType | None) -> tuple[str | None, int | None]:
        """Innermost traceback frame that belongs to a template file: (name, line)."""
        where: str | None = None
        line: int | None = None
        while tb is not None:
            relative = self._relative(tb.tb_frame.f_code.co_filename)
            if relative is not None and relative.endswith(".j2"):
                where, line = relative, tb.tb_lineno
            tb = tb.tb_next
        return where, line

    def _relative(self, filename: str | None) -> str | None:
        if not filename:
            return None
        try:
            return Path(filename).resolve().relative_to(self.directory.resolve()).as_posix()
        except ValueError:
            return None

    # -- filters -------------------------------------------------------------------

    def _local(self, value: datetime) -> datetime:
        _require_defined(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}; pass a timezone-aware one")
        return value.astimezone(self.timezone)

    def _lang(self, context: Any) -> str:
        return self.language_for(context.get("lang"))

    @jinja2.pass_context
    def _filter_when(self, context: Any, value: datetime, year: bool | None = None) -> str:
        """'el lunes 30 de noviembre a las 9:00'; year only when not the year of ``now``."""
        lang = self._lang(context)
        local = self._local(value)
        if year is None:
            now = context.get("now")
            year = not isinstance(now, datetime) or self._local(now).year != local.year
        phrasing = _PHRASINGS.get(lang)
        if phrasing is None:  # a language added by the admin without a phrasing table
            day = _format_day(local.date(), "EEEE d MMMM y" if year else "EEEE d MMMM", lang)
            return _typography(f"{day}, {_clock(local)}")
        pattern = phrasing.date_year if year else phrasing.date
        day = _format_day(local.date(), pattern, lang)
        return _typography(f"{phrasing.prefix}{day} {phrasing.at(local.hour)} {_clock(local)}")

    @jinja2.pass_context
    def _filter_date_short(self, context: Any, value: datetime | date) -> str:
        """'30/11/2026'."""
        lang = self._lang(context)
        _require_defined(value)
        day = self._local(value).date() if isinstance(value, datetime) else value
        phrasing = _PHRASINGS.get(lang)
        pattern = phrasing.date_short if phrasing else "short"
        return _format_day(day, pattern, lang)

    def _filter_time_short(self, value: datetime) -> str:
        """'9:00' in the renderer's timezone."""
        return _clock(self._local(value))

    @jinja2.pass_context
    def _filter_duration(self, context: Any, value: timedelta | float) -> str:
        """'45 min', '2 h 30 min', '3 días', '1 día 4 h' (a number means minutes)."""
        return format_duration(value, self._lang(context))


@functools.lru_cache(maxsize=512)
def _format_day(day: date, pattern: str, language: str) -> str:
    """Babel's date formatting, remembered: every reply names a few days, mostly the same."""
    return format_date(day, pattern, locale=language)


def format_duration(value: timedelta | float, language: str) -> str:
    """Minimal localized duration: minutes and hours as symbols, days as a word."""
    _require_defined(value)
    if isinstance(value, timedelta):
        minutes = round(value.total_seconds() / 60)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        minutes = round(value)
    else:
        raise TypeError(f"duration expects a timedelta or minutes, got {type(value).__name__}")
    if minutes < 0:
        raise ValueError(f"negative duration ({minutes} min)")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [_days(days, language)]
        if hours:
            parts.append(f"{hours} h")
        return " ".join(parts)
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _require_defined(value: object) -> None:
    """A missing variable handed to a filter fails as missing, naming the variable."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()


def _days(count: int, language: str) -> str:
    # Some CLDR locales (ca) only define the short form, which babel does not inherit.
    for length in ("long", "short"):
        text = format_unit(count, "duration-day", length=length, locale=language)
        if "duration" not in text:
            return text
    return f"{count} d"


def _topic(subject: str, labels: Sequence[str] = ()) -> str:
    """``subject`` without leading Re:/Fwd:/RV: markers, [MD-…] tags and any of ``labels``."""
    lowered = [label.lower() for label in labels if label]
    previous = None
    text = " ".join(str(subject).split())
    while text != previous:
        previous = text
        text = _REPLY_PREFIX_RE.sub("", text, count=1).strip()
        for label in lowered:
            if text.lower().startswith(label):
                text = text[len(label) :].strip()
    return text


def _tidy_text(text: str) -> str:
    """No trailing spaces (bar the "-- " signature mark), single blank lines, final newline."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    tidy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return tidy + "\n"
