"""From the ``[oauth2]`` settings to a token source: each provider's endpoints and scopes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maildesk.clock import Clock
from maildesk.oauth2.tokens import (
    ClientCredentials,
    RefreshGrant,
    RefreshTokenFile,
    ServiceAccountGrant,
    TokenSource,
)
from maildesk.secretfile import readable_by_others

if TYPE_CHECKING:  # the sender process builds its token source without pydantic
    from maildesk.config import OAuth2Config

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"

# Application permissions (client credentials) are granted as one ".default" scope; delegated
# access names IMAP and SMTP, and offline_access for a refresh token.
MICROSOFT_APP_SCOPES = ("https://outlook.office365.com/.default",)
MICROSOFT_DELEGATED_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)
GOOGLE_SCOPES = ("https://mail.google.com/",)


def token_url(config: OAuth2Config) -> str:
    if config.token_url:
        return config.token_url
    if config.provider == "microsoft":
        return f"{MICROSOFT_AUTHORITY}/{config.tenant}/oauth2/v2.0/token"
    return GOOGLE_TOKEN_URL


def device_code_url(config: OAuth2Config) -> str:
    if config.device_code_url:
        return config.device_code_url
    if config.provider == "microsoft":
        return f"{MICROSOFT_AUTHORITY}/{config.tenant}/oauth2/v2.0/devicecode"
    return ""


def scopes(config: OAuth2Config) -> tuple[str, ...]:
    if config.scopes:
        return config.scopes
    if config.provider == "microsoft":
        if config.grant_type == "client_credentials":
            return MICROSOFT_APP_SCOPES
        return MICROSOFT_DELEGATED_SCOPES
    if config.provider == "google":
        return GOOGLE_SCOPES
    return ()


def grant_settings(config: OAuth2Config, subject: str = "") -> dict[str, Any]:
    """The grant in plain values (the secret resolved), for this process or a spawned one;
    ``subject`` is the mailbox a service account acts for."""
    from maildesk.config import ConfigError

    if config.grant_type == "service_account":
        return _service_account(config, subject)
    secret = config.resolve_secret()
    if config.grant_type == "client_credentials" and not secret:
        raise ConfigError("oauth2: client credentials need client_secret_env or client_secret_file")
    return {
        "grant": config.grant_type,
        "token_url": token_url(config),
        "client_id": config.client_id,
        "secret": secret,
        "scopes": list(scopes(config)),
        "refresh_token_file": str(config.refresh_token_file),
    }


def _service_account(config: OAuth2Config, subject: str) -> dict[str, Any]:
    from maildesk.config import ConfigError

    path = config.service_account_file
    assert path is not None  # the configuration requires it for this grant
    try:
        problem = readable_by_others(path)
        if problem:
            raise ConfigError(problem)
        key = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"oauth2.service_account_file: {exc}") from None
    missing = [k for k in ("client_email", "private_key") if not key.get(k)]
    if missing:
        raise ConfigError(f"{path} is no service account key (no {', '.join(missing)})")
    return {
        "grant": "service_account",
        "token_url": config.token_url or key.get("token_uri") or GOOGLE_TOKEN_URL,
        "client_email": key["client_email"],
        "private_key": key["private_key"],
        "scopes": list(scopes(config)),
        "subject": subject,
    }


def token_source(settings: dict[str, Any], clock: Clock) -> TokenSource:
    """The source of access tokens ``grant_settings`` describes."""
    wanted = tuple(settings["scopes"])
    if settings["grant"] == "service_account":
        grant = ServiceAccountGrant(
            settings["token_url"], settings["client_email"], settings["private_key"], wanted,
            settings["subject"],
        )  # fmt: skip
        return TokenSource(grant, clock)
    url, client, secret = settings["token_url"], settings["client_id"], settings["secret"]
    if settings["grant"] == "client_credentials":
        return TokenSource(ClientCredentials(url, client, secret, wanted), clock)
    store = RefreshTokenFile(Path(settings["refresh_token_file"]))
    return TokenSource(RefreshGrant(url, client, secret, wanted, store), clock)
