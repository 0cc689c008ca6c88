"""From the ``[oauth2]`` settings to a token source: each provider's endpoints and scopes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from maildesk.clock import Clock
from maildesk.oauth2.tokens import ClientCredentials, RefreshGrant, RefreshTokenFile, TokenSource

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


def grant_settings(config: OAuth2Config) -> dict[str, Any]:
    """The grant in plain values (the secret resolved), for this process or a spawned one."""
    from maildesk.config import ConfigError

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


def token_source(settings: dict[str, Any], clock: Clock) -> TokenSource:
    """The source of access tokens ``grant_settings`` describes."""
    url, client, secret = settings["token_url"], settings["client_id"], settings["secret"]
    wanted = tuple(settings["scopes"])
    if settings["grant"] == "client_credentials":
        return TokenSource(ClientCredentials(url, client, secret, wanted), clock)
    store = RefreshTokenFile(Path(settings["refresh_token_file"]))
    return TokenSource(RefreshGrant(url, client, secret, wanted, store), clock)
