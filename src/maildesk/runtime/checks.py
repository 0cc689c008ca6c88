"""``maildesk check``: can we reach everything the configuration names?"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosmtplib

from maildesk.config import Config, ConfigError
from maildesk.oauth2.tokens import TokenSource


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def token_source_of(config: Config) -> TokenSource | None:
    """The configured OAuth2 token source (one for IMAP and SMTP), or None."""
    from maildesk.clock import SystemClock
    from maildesk.oauth2.providers import grant_settings, token_source

    if config.oauth2 is None:
        return None
    return token_source(grant_settings(config.oauth2, config.imap.username), SystemClock())


def check_token(config: Config, tokens: TokenSource | None) -> CheckResult | None:
    """With OAuth2: can a token be had now? (None without OAuth2.)"""
    from maildesk.oauth2.providers import token_url
    from maildesk.oauth2.tokens import OAuth2Error

    if config.oauth2 is None or tokens is None:
        return None
    url = token_url(config.oauth2)
    try:
        tokens.token()
    except OAuth2Error as exc:
        hint = "; run 'maildesk auth login' to renew the grant" if exc.grant_lost else ""
        return CheckResult("oauth2", False, f"{exc}{hint}")
    return CheckResult(
        "oauth2", True, f"{config.oauth2.provider} token from {url} ({config.oauth2.grant_type})"
    )


def check_imap(config: Config, tokens: TokenSource | None = None) -> CheckResult:
    from maildesk.runtime.intake import CONNECTION_ERRORS, ImapMailbox

    cfg = config.imap
    where = f"{cfg.host}:{cfg.port} as {cfg.username}"
    try:
        password = "" if cfg.auth == "oauth2" else cfg.resolve_password()
        mailbox = ImapMailbox(cfg, password, tokens if cfg.auth == "oauth2" else None)
        mailbox.connect()
        try:
            state = mailbox.select()
            idle = "IDLE offered" if mailbox.supports_idle() else "no IDLE: polling"
        finally:
            mailbox.close()
    except ConfigError as exc:
        return CheckResult("imap", False, f"{where}: {exc}")
    except CONNECTION_ERRORS as exc:
        return CheckResult("imap", False, f"{where}: {type(exc).__name__}: {exc}")
    copies = f", copies filed in {cfg.sent_folder}" if config.copy_to and cfg.sent_folder else ""
    return CheckResult(
        "imap",
        True,
        f"{where} ({mailbox.mechanism}), folder {cfg.folder}: {state.exists} mail(s), "
        f"{idle}{copies}",
    )


async def _smtp(config: Config, tokens: TokenSource | None) -> str:
    from maildesk.outbound.outbox import smtp_session

    cfg = config.smtp
    oauth2 = cfg.auth == "oauth2" and tokens is not None
    client, mechanism = await smtp_session(
        cfg, "" if oauth2 else cfg.resolve_password(), tokens if oauth2 else None
    )
    try:
        code, _ = await client.noop()
        answer = f"{mechanism}, NOOP {code}"
        if config.copy_to:
            # The copy is a recipient of every reply: a refusal would leave no proof.
            await client.mail(config.company.support_address)
            try:
                await client.rcpt(config.copy_to)
            except aiosmtplib.SMTPRecipientRefused as exc:
                raise CopyRefused(
                    f"copy address {config.copy_to} refused: {exc.code} {exc.message}; "
                    "without copies a reply interrupted by a crash is sent again "
                    "(fix smtp.copy_address, or remove it to get the copies in the INBOX)"
                ) from None
            finally:
                await client.rset()
            answer += f", copy address {config.copy_to} accepted"
    finally:
        await client.quit()
    return answer


class CopyRefused(Exception):
    pass


def check_smtp(config: Config, tokens: TokenSource | None = None) -> CheckResult:
    cfg = config.smtp
    where = f"{cfg.host}:{cfg.port}"
    try:
        answer = asyncio.run(_smtp(config, tokens))
    except (ConfigError, CopyRefused) as exc:
        return CheckResult("smtp", False, f"{where}: {exc}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return CheckResult("smtp", False, f"{where}: {type(exc).__name__}: {exc}")
    return CheckResult("smtp", True, f"{where} answers ({answer})")


def check_database(config: Config) -> CheckResult:
    from sqlalchemy.exc import SQLAlchemyError

    from maildesk.db.store import Database, head_revision

    try:
        database = Database(config.database.url)
        current, head = database.schema_revision(), head_revision()
        if current is None and database.engine.dialect.name == "sqlite":
            folder = Path(database.where).parent
            if not os.access(folder, os.W_OK):
                return CheckResult("database", False, f"cannot create {database.where}")
            return CheckResult(
                "database", True, f"{database.where} will be created by 'run' or 'db upgrade'"
            )
        detail = database.ping()
        database.dispose()
    except SQLAlchemyError as exc:
        return CheckResult("database", False, f"{type(exc).__name__}: {exc}")
    if current == head:
        return CheckResult("database", True, f"{detail}, schema {head} current")
    return CheckResult(
        "database",
        True,
        f"{detail}, schema {current or 'none'}: 'run' or 'db upgrade' brings it to {head}",
    )


def check_templates(config: Config, now: datetime) -> CheckResult:
    from maildesk.outbound.render import TemplateRenderer
    from maildesk.outbound.samples import check_templates as render_all
    from maildesk.outbound.samples import templates_summary

    try:
        renderer = TemplateRenderer(
            config.templates_dir,
            timezone=config.schedule.timezone,
            languages=config.replies.languages,
            default_language=config.replies.default_language,
        )
    except ValueError as exc:
        return CheckResult("templates", False, str(exc))
    problems = render_all(config, renderer, now)
    if problems:
        return CheckResult("templates", False, "; ".join(problems))
    return CheckResult("templates", True, templates_summary(config))


def check_classifier(config: Config) -> CheckResult:
    """The trained model loads (hash verified, plain arrays only) and knows the catalogue."""
    from maildesk.triage.learned.model import ModelError, load

    if config.triage.classifier == "keywords":
        return CheckResult("classifier", True, "keyword rules (triage.classifier = keywords)")
    try:
        model = load(config.models_dir)
    except ModelError as exc:
        return CheckResult("classifier", False, f"{exc}; the daemon would use the keyword rules")
    meta = model.metadata
    unknown = sorted(set(meta.get("labels", {}).get("kind", [])) - {k.id for k in config.kinds})
    if unknown:
        return CheckResult(
            "classifier", False, f"model kinds not in the catalogue: {', '.join(unknown)}"
        )
    test = (meta.get("metrics") or {}).get("test") or {}
    figure = (
        f", held-out technical/billing macro-F1 {test['tech_billing_macro_f1']:.3f}"
        if "tech_billing_macro_f1" in test
        else ""
    )
    return CheckResult(
        "classifier",
        True,
        f"model trained {meta.get('trained_at', '?')} on "
        f"{meta.get('data', {}).get('train', {}).get('count', '?')} mails{figure}",
    )


def run_checks(config: Config, now: datetime) -> list[CheckResult]:
    tokens = token_source_of(config)
    token = check_token(config, tokens)
    return [
        check_database(config),
        check_templates(config, now),
        check_classifier(config),
        *([token] if token is not None else []),
        check_imap(config, tokens),
        check_smtp(config, tokens),
    ]


def auth_test(config: Config) -> list[CheckResult]:
    """``maildesk auth test``: a token, then a sign-in to IMAP and to SMTP, a line each."""
    tokens = token_source_of(config)
    token = check_token(config, tokens)
    if token is None:
        return [CheckResult("oauth2", False, "no [oauth2] section in the configuration")]
    return [token, check_imap(config, tokens), check_smtp(config, tokens)]
