"""Configuration: one TOML file, validated once at start into frozen typed objects.

The rest of the code never reads TOML or the environment; it receives a ``Config``.
Errors name the file, the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from maildesk.secretfile import readable_by_others

CONFIG_ENV = "MAILDESK_CONFIG"
DEFAULT_CONFIG = Path("maildesk.toml")
PACKAGE = Path(__file__).resolve().parent  # the default templates and model live in it

Category = Literal["technical", "billing", "other"]
Priority = Literal["P1", "P2", "P3", "P4"]
Language = Literal["es", "ca", "en"]
EmailStr = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Section):
    """A password given inline or, better, through an environment variable."""

    password: SecretStr | None = None
    password_env: str | None = None

    def resolve_password(self) -> str:
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    f"environment variable {self.password_env} (named by password_env) is not set"
                )
            return value
        return self.password.get_secret_value() if self.password else ""


Mechanism = Literal["auto", "XOAUTH2", "OAUTHBEARER"]


class OAuth2Config(_Section):
    """How maildesk gets OAuth2 access tokens for IMAP and SMTP (``auth = "oauth2"``)."""

    provider: Literal["microsoft", "google", "generic"] = "generic"
    grant: Literal["client_credentials", "refresh_token", "service_account", "auto"] = "auto"
    tenant: str = ""  # microsoft: the directory (tenant) id or domain
    client_id: str = ""
    client_secret_env: str = ""  # the secret from this environment variable…
    client_secret_file: Path | None = None  # …or from this file, readable by its owner only
    token_url: str = ""  # generic (microsoft and google have theirs)
    device_code_url: str = ""  # generic, for 'maildesk auth login'
    scopes: tuple[str, ...] = ()  # empty: the provider's usual ones for IMAP and SMTP
    refresh_token_file: Path = Path("oauth2-refresh-token")
    # google, grant = "service_account": the JSON key of a service account with domain-wide
    # delegation (mode 600); it acts for imap.username
    service_account_file: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> OAuth2Config:
        if not self.client_id and self.grant != "service_account":
            raise ValueError("oauth2.client_id is required")
        if self.provider == "microsoft" and not self.tenant:
            raise ValueError("oauth2.tenant is required for microsoft (the directory id)")
        if self.provider == "generic" and not self.token_url:
            raise ValueError("oauth2.token_url is required for a generic provider")
        if self.grant == "service_account" and self.service_account_file is None:
            raise ValueError('oauth2.grant = "service_account" needs service_account_file')
        return self

    @property
    def grant_type(self) -> str:
        if self.grant != "auto":
            return self.grant
        return "client_credentials" if self.provider == "microsoft" else "refresh_token"

    def resolve_secret(self) -> str | None:
        """The client secret, from the environment or an owner-only file; None when none is
        configured (public clients, e.g. Google installed apps with PKCE)."""
        if self.client_secret_env:
            value = os.environ.get(self.client_secret_env)
            if value is None:
                raise ConfigError(
                    f"environment variable {self.client_secret_env} (oauth2.client_secret_env) "
                    "is not set"
                )
            return value
        if self.client_secret_file is not None:
            try:
                problem = readable_by_others(self.client_secret_file)
                if problem:
                    raise ConfigError(problem)
                return self.client_secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"oauth2.client_secret_file: {exc}") from None
        return None


class ImapConfig(Secret):
    host: str = "127.0.0.1"
    port: int = Field(993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    auth: Literal["password", "oauth2"] = "password"
    oauth2_mechanism: Mechanism = "auto"
    folder: str = "INBOX"
    processed_folder: str = Field(
        "Processed", description="handled mail is moved here; empty keeps it in place, flagged"
    )
    sent_folder: str = Field(
        "",
        description="where the copies sent to smtp.copy_address land; searched for the copy of "
        "a send interrupted by a crash (empty: copies land in the INBOX and are read there)",
    )
    sent_retention_days: int = Field(
        0,
        ge=0,
        description="our delivery copies in sent_folder older than this many days are deleted "
        "(0: kept); other mail there is never touched",
    )
    idle: bool = True
    idle_renew_seconds: int = Field(1500, ge=60, le=1740)
    poll_interval_seconds: float = Field(60.0, gt=0, le=3600)
    fetch_batch: int = Field(200, ge=1, le=5000)
    max_message_bytes: int = Field(25_000_000, ge=10_000)
    timeout_seconds: float = Field(30.0, gt=0)
    reconnect_initial_seconds: float = Field(1.0, gt=0)
    reconnect_max_seconds: float = Field(300.0, gt=0)


class SmtpConfig(Secret):
    host: str = "127.0.0.1"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "starttls"
    username: str = ""
    auth: Literal["password", "oauth2"] = "password"
    oauth2_mechanism: Mechanism = "auto"
    timeout_seconds: float = Field(30.0, gt=0)
    connections: int = Field(4, ge=1, le=32)
    max_attempts: int = Field(12, ge=1)
    backoff_initial_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(3600.0, gt=0)
    poll_interval_seconds: float = Field(5.0, gt=0)
    sending_lease_seconds: float = Field(300.0, gt=0)
    keepalive_seconds: float = Field(30.0, gt=0)
    separate_process: bool = Field(
        False,
        description="send from a second process (a second core) beside intake: a faster "
        "backlog for ~60 MB more memory",
    )
    copy_to_support: bool = Field(
        True, description="deliver each reply to the support mailbox too, as proof of sending"
    )
    copy_address: EmailStr | None = Field(
        None,
        description="where that copy goes (a plus address filed into imap.sent_folder); "
        "unset: the support address itself",
    )


class DatabaseConfig(_Section):
    url: str = "sqlite:///maildesk.db"


class Company(_Section):
    name: str
    support_address: EmailStr
    display_name: str = "Soporte"
    phone: str = ""
    website: str = ""
    urgent_line: str = ""
    reference_prefix: str = Field("MD", pattern=r"^[A-Z]{1,6}$")
    own_addresses: tuple[EmailStr, ...] = ()
    distributor_address: EmailStr


Team = Literal["technical_service", "billing_centre"]


def _default_teams() -> dict[str, Team]:
    return {"technical": "technical_service", "billing": "billing_centre"}


class Routing(_Section):
    technical_service: EmailStr
    billing_centre: EmailStr
    forward: bool = True  # hand each sorted incident to the team that must solve it, at once
    teams: dict[str, Team] = Field(default_factory=_default_teams)  # category -> team
    kinds: dict[str, EmailStr] = {}  # kind -> an address of its own (e.g. portability)
    language: Language = "es"  # the forwards' language
    # per team: relay its answers to the client ("always") or keep them internal ("never")
    relay: dict[str, Literal["never", "always"]] = {}
    # per team: how soon it should answer a hand-off, in business time ('report levels')
    targets: dict[str, str] = Field(
        default_factory=lambda: {"technical_service": "4h", "billing_centre": "1d"}
    )

    @field_validator("targets")
    @classmethod
    def _business_durations(cls, value: dict[str, str]) -> dict[str, str]:
        for team, target in value.items():
            if not _DURATION.match(target):
                raise ValueError(f"{team}: expected a business duration like '4h', got {target!r}")
        return value

    def team_for(self, category: str, kind: str) -> tuple[str, str] | None:
        """(team, address) that solves incidents of this category and kind; None when the
        distributor keeps them (a category without a team, e.g. other)."""
        if kind in self.kinds:
            return f"kind:{kind}", str(self.kinds[kind])
        team = self.teams.get(category)
        if team is None:
            return None
        return team, str(getattr(self, team))


class SelfServiceLink(_Section):
    label: dict[Language, str]
    url: str


class Replies(_Section):
    languages: tuple[Language, ...] = ("es", "ca", "en")
    # a client's reply to an incident resolved longer ago opens a new one, linked to it
    reopen_days: int = Field(14, ge=0)
    default_language: Language = "es"
    acknowledge_followups: bool = True
    max_auto_replies_per_sender: int = Field(5, ge=1)
    auto_reply_window_hours: float = Field(24.0, gt=0)
    self_service: tuple[SelfServiceLink, ...] = ()
    # An address our mail bounced from (or that a server refused for good) gets no automatic
    # reply for this many days; the incident and the digest say so.
    failing_address_days: int = Field(7, ge=0)
    # Automatic mail of these kinds still opens an incident (never acknowledged), for mail a
    # person should read: "auto-reply", "read-receipt", "list", "bulk", "robot", "bounce".
    open_incident_for: tuple[
        Literal["auto-reply", "read-receipt", "list", "bulk", "robot", "bounce"], ...
    ] = ()

    @model_validator(mode="after")
    def _default_in_languages(self) -> Replies:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        return self


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")


class BusinessDuration(str):
    """A target in business time: "30m", "4h", "3d" (d = schedule.business_day_hours)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(cls._validate, core_schema.str_schema())

    @classmethod
    def _validate(cls, value: str) -> BusinessDuration:
        if not _DURATION.match(value):
            raise ValueError(
                f"expected a business duration like '30m', '4h' or '3d', got {value!r}"
            )
        return cls(value.strip())

    def minutes(self, business_day_hours: float) -> float:
        match = _DURATION.match(self)
        assert match is not None  # validated on construction
        amount, unit = float(match.group(1)), match.group(2)
        return amount * {"m": 1, "min": 1, "h": 60, "d": 60 * business_day_hours}[unit]


class IncidentKind(_Section):
    """One kind of incident the distributor handles, with its targets in business time."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Category
    priority: Priority = "P3"
    first_response: BusinessDuration = BusinessDuration("4h")
    resolution: BusinessDuration
    label: dict[Language, str]
    keywords: tuple[str, ...] = ()


class PriorityConfig(_Section):
    """How the priority level is set, and how it scales the kind's targets."""

    factors: dict[Priority, float] = {"P1": 0.5, "P2": 0.75, "P3": 1.0, "P4": 1.5}
    vip: tuple[str, ...] = ()  # addresses, or "@domain" for a whole domain
    urgent_cues: tuple[str, ...] = ()
    information_cues: tuple[str, ...] = ()

    @field_validator("factors")
    @classmethod
    def _all_levels(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [p for p in ("P1", "P2", "P3", "P4") if p not in value]
        if missing:
            raise ValueError(f"a factor is needed for {', '.join(missing)}")
        if any(f <= 0 for f in value.values()):
            raise ValueError("factors must be positive")
        return value

    @field_validator("vip")
    @classmethod
    def _vip_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.match(r"^([^@\s]+@|@)[^@\s]+\.[^@\s]+$", entry):
                raise ValueError(f"{entry!r} is neither an address nor '@domain'")
        return tuple(v.lower() for v in value)


class Triage(_Section):
    confidence_threshold: float = Field(0.6, ge=0, le=1)
    default_kind: str = "general"
    classifier: Literal["model", "keywords"] = "model"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WORKWEEK: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
_SPLIT_SHIFT = ("09:00-14:00", "16:00-20:00")


class WeekHours(_Section):
    """Opening intervals per weekday, local time ("09:00-14:00"); empty = closed."""

    monday: tuple[str, ...] = _SPLIT_SHIFT
    tuesday: tuple[str, ...] = _SPLIT_SHIFT
    wednesday: tuple[str, ...] = _SPLIT_SHIFT
    thursday: tuple[str, ...] = _SPLIT_SHIFT
    friday: tuple[str, ...] = _SPLIT_SHIFT
    saturday: tuple[str, ...] = ()
    sunday: tuple[str, ...] = ()


class SpecialHours(_Section):
    """A period with its own hours: recurring ("07-01" … "08-31") or dated ("2026-12-24")."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    first: str = Field(alias="from", pattern=r"^(\d{4}-)?\d{2}-\d{2}$")
    last: str = Field(alias="to", pattern=r"^(\d{4}-)?\d{2}-\d{2}$")
    hours: tuple[str, ...] = ()
    weekdays: tuple[Weekday, ...] = WEEKDAYS  # type: ignore[assignment]


class ScheduleConfig(_Section):
    timezone: str = "Europe/Madrid"
    country: str = "ES"
    region: str = ""  # holidays subdivision ("CT", "MD", "AR"…); "" = national holidays only
    business_day_hours: float = Field(9.0, gt=0, le=24)
    last_call_minutes: float = Field(10.0, ge=0, le=120)
    closed_dates: tuple[date, ...] = ()
    week: WeekHours = WeekHours()
    special: tuple[SpecialHours, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _valid_calendar(self) -> ScheduleConfig:
        from maildesk.schedule import build_calendar  # validates intervals, periods, region

        build_calendar(self)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_CLOCK_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"
Recipient = Literal["distributor", "technical_service", "billing_centre"]


class DigestConfig(_Section):
    enabled: bool = True
    time: str = Field("08:45", pattern=_CLOCK_TIME)  # business days, schedule time zone
    recipients: tuple[EmailStr, ...] = ()  # empty: the distributor
    language: str = "es"
    chart_days: int = Field(14, ge=1, le=60)
    max_items: int = Field(20, ge=1, le=500)  # lines per section; the rest is counted

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


def _default_notify() -> dict[str, tuple[Recipient, ...]]:
    return {
        "technical": ("distributor", "technical_service"),
        "billing": ("distributor", "billing_centre"),
        "other": ("distributor",),
    }


class EscalationConfig(_Section):
    enabled: bool = True
    thresholds: tuple[float, ...] = (0.75, 1.0)  # share of the resolution time used
    check_minutes: int = Field(5, ge=1, le=240)
    notify: dict[str, tuple[Recipient, ...]] = Field(default_factory=_default_notify)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not 0 < t <= 2 for t in value):
            raise ValueError("expected shares of the resolution time in (0, 2], e.g. [0.75, 1.0]")
        return tuple(sorted(set(value)))


class SatisfactionConfig(_Section):
    """What the client hears when an incident is resolved, and the one-question survey."""

    resolution_notice: bool = True  # tell the client, with the resolution text
    survey: bool = True  # and ask for a score 1–5 in that notice
    # a reply made of a score counts as one this long after the notice (the links: always)
    answer_days: int = Field(30, ge=1, le=365)
    alert_at_or_below: int = Field(2, ge=0, le=5)  # such a score alerts (0: never)
    notify: tuple[Recipient, ...] = ("distributor",)


class Logging(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "text"


class StaffMember(_Section):
    address: EmailStr
    name: str = ""
    language: Language = "es"
    role: str = ""  # a key of desk.role_costs ("tecnico", "administracion"…)
    hourly_cost: float | None = Field(None, ge=0)  # € per hour; else the role's, else desk's


class DeskConfig(_Section):
    """Who may run the desk by mail, and how their mails are proven to be theirs."""

    staff: tuple[StaffMember, ...] = ()
    # receiving servers whose Authentication-Results header is believed (their authserv-id)
    trusted_authserv_ids: tuple[str, ...] = ()
    # the secret of the per-incident reply addresses (soporte+c-<ref>-<mac>@…)
    token_secret_env: str = ""
    hourly_cost: float = Field(0.0, ge=0)  # € per hour of time logged by anyone else
    role_costs: dict[str, float] = Field(default_factory=dict)  # € per hour of each role

    @model_validator(mode="after")
    def _roles_known(self) -> DeskConfig:
        for member in self.staff:
            if member.role and member.role not in self.role_costs:
                known = ", ".join(sorted(self.role_costs)) or "none defined"
                raise ValueError(
                    f"staff {member.address}: role {member.role!r} is not in desk.role_costs "
                    f"({known})"
                )
        return self

    def hourly_cost_of(self, actor: str) -> float:
        """The person's own hourly cost, else their role's, else ``hourly_cost``."""
        member = self.staff_member(actor)
        if member is not None and member.hourly_cost is not None:
            return member.hourly_cost
        if member is not None and member.role:
            return self.role_costs[member.role]
        return self.hourly_cost

    def staff_member(self, address: str) -> StaffMember | None:
        address = address.lower()
        return next((m for m in self.staff if m.address.lower() == address), None)

    def token_secret(self) -> bytes | None:
        value = os.environ.get(self.token_secret_env) if self.token_secret_env else None
        return value.encode() if value else None


class MetricsConfig(_Section):
    """Prometheus metrics on a local port (off by default: nothing listens unless asked)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class Config(_Section):
    imap: ImapConfig
    smtp: SmtpConfig
    database: DatabaseConfig = DatabaseConfig()
    company: Company
    routing: Routing
    replies: Replies = Replies()
    schedule: ScheduleConfig = ScheduleConfig()
    triage: Triage = Triage()
    priority: PriorityConfig = PriorityConfig()
    kinds: tuple[IncidentKind, ...]
    logging: Logging = Logging()
    metrics: MetricsConfig = MetricsConfig()
    desk: DeskConfig = DeskConfig()
    oauth2: OAuth2Config | None = None
    digest: DigestConfig = DigestConfig()
    escalation: EscalationConfig = EscalationConfig()
    satisfaction: SatisfactionConfig = SatisfactionConfig()
    templates_dir: Path = PACKAGE / "templates"  # the ones shipped inside maildesk
    models_dir: Path = PACKAGE / "models"

    @model_validator(mode="after")
    def _oauth2_present(self) -> Config:
        for name, section in (("imap", self.imap), ("smtp", self.smtp)):
            if section.auth == "oauth2" and self.oauth2 is None:
                raise ValueError(f'{name}.auth = "oauth2" needs an [oauth2] section')
        return self

    @model_validator(mode="after")
    def _kinds_consistent(self) -> Config:
        ids = [kind.id for kind in self.kinds]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"kinds: duplicated id(s) {', '.join(duplicated)}")
        unknown_kinds = sorted(set(self.routing.kinds) - set(ids))
        if unknown_kinds:
            raise ValueError(f"routing.kinds: unknown kind(s) {', '.join(unknown_kinds)}")
        unknown_categories = sorted(set(self.routing.teams) - {"technical", "billing", "other"})
        if unknown_categories:
            raise ValueError(
                f"routing.teams: unknown categor(y/ies) {', '.join(unknown_categories)}; "
                "expected technical, billing or other"
            )
        if self.triage.default_kind not in ids:
            raise ValueError(
                f"triage.default_kind {self.triage.default_kind!r} is not one of the kinds"
            )
        for kind in self.kinds:
            missing = [lang for lang in self.replies.languages if lang not in kind.label]
            if missing:
                raise ValueError(f"kinds: {kind.id!r} has no label for {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _copies_findable(self) -> Config:
        copy = self.smtp.copy_address
        if (
            self.smtp.copy_to_support
            and copy is not None
            and copy.lower() != self.company.support_address.lower()
            and not self.imap.sent_folder
        ):
            raise ValueError(
                f"smtp.copy_address {copy!r} needs imap.sent_folder: the folder its copies "
                "land in, searched after a crash for the proof that a reply left"
            )
        return self

    @property
    def copy_to(self) -> str | None:
        """Where each reply's proof copy goes, or None when copies are off."""
        if not self.smtp.copy_to_support:
            return None
        return self.smtp.copy_address or self.company.support_address

    def targets(self, kind: IncidentKind, priority: str) -> tuple[float, float]:
        """First-response and resolution targets in business minutes for a priority.

        The kind's targets hold at its own default priority; another level scales them by
        the ratio of the factors (P1 for a P2 kind: 0.5 / 0.75 of the targets).
        """
        day = self.schedule.business_day_hours
        factors = self.priority.factors
        factor = factors[priority] / factors[kind.priority]  # type: ignore[index]
        return kind.first_response.minutes(day) * factor, kind.resolution.minutes(day) * factor

    def kind_label(self, kind_id: str, language: str) -> str:
        """A kind's name in ``language``, else in the default language, else its id."""
        try:
            labels = self.kind(kind_id).label
        except KeyError:
            return kind_id
        fallback = self.replies.default_language
        return labels.get(language) or labels.get(fallback) or kind_id  # type: ignore[call-overload]

    def team_targets(self) -> dict[str, timedelta]:
        """Each team's response target (``routing.targets``) as business time."""
        day = self.schedule.business_day_hours
        return {
            team: timedelta(minutes=BusinessDuration(target).minutes(day))
            for team, target in self.routing.targets.items()
        }

    def kind(self, kind_id: str) -> IncidentKind:
        for kind in self.kinds:
            if kind.id == kind_id:
                return kind
        raise KeyError(kind_id)

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(
            a.lower()
            for a in (
                self.company.support_address,
                self.company.distributor_address,
                *self.company.own_addresses,
            )
        )


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """``--config`` wins, then ``$MAILDESK_CONFIG``, then ``./maildesk.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the TOML file; relative paths are resolved against its folder."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            key = _location(tuple(error["loc"]))
            got = error.get("input")
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
            lines.append(f"{path}: key {key}: {error['msg']}{shown}")
        raise ConfigError("\n".join(lines)) from None
    base = path.absolute().parent  # where the file is seen: a symlinked config keeps its folder
    updates: dict[str, object] = {}
    for name in ("templates_dir", "models_dir"):
        value: Path = getattr(config, name)
        if not value.is_absolute():
            updates[name] = base / value
    url = config.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        updates["database"] = DatabaseConfig(url=prefix + str(base / url[len(prefix) :]))
    return config.model_copy(update=updates)
