"""Access tokens: fetched from the provider's token endpoint, cached in memory, refreshed
before they expire and once after the server refused one.

Plain HTTP with the standard library (``urllib``): the three grants maildesk needs (client
credentials, refresh token, and the device code of ``maildesk auth login``) are one form POST
each, which does not justify ``msal`` or ``google-auth`` and their dependencies.
Secrets never reach a log line or an exception message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maildesk.clock import Clock
from maildesk.secretfile import readable_by_others

log = logging.getLogger("maildesk.oauth2")

#: A token is renewed this long before its expiry (a long IDLE never holds a stale one).
REFRESH_MARGIN = timedelta(minutes=5)
#: After the provider failed, the next try waits at least this long.
RETRY_AFTER = timedelta(seconds=30)
HTTP_TIMEOUT = 15.0


class OAuth2Error(Exception):
    """The provider refused or could not be reached; ``grant_lost`` when only a new consent
    (``maildesk auth login``) can help (RFC 6749 ``invalid_grant``)."""

    def __init__(self, message: str, *, grant_lost: bool = False) -> None:
        super().__init__(message)
        self.grant_lost = grant_lost


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: datetime
    refresh_token: str | None = None  # a rotated one, when the provider sent it


Post = Callable[[str, Mapping[str, str]], dict[str, Any]]


def post_form(url: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """POST ``fields`` form-encoded; the JSON answer, or ``OAuth2Error`` naming the
    provider's ``error`` (its description too), never the fields sent."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Accept": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return dict(json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        error = str(body.get("error", f"HTTP {exc.code}"))
        description = str(body.get("error_description", "")).split("\n")[0][:200]
        raise OAuth2Error(
            f"token endpoint {url} refused: {error}" + (f" ({description})" if description else ""),
            grant_lost=error == "invalid_grant",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OAuth2Error(f"token endpoint {url} unreachable: {reason}") from None


def _token(answer: Mapping[str, Any], now: datetime) -> Token:
    value = answer.get("access_token")
    if not isinstance(value, str) or not value:
        raise OAuth2Error("token endpoint answered without an access_token")
    try:
        lifetime = int(answer.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600
    refresh = answer.get("refresh_token")
    return Token(
        value, now + timedelta(seconds=lifetime), refresh if isinstance(refresh, str) else None
    )


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """RFC 6749 §4.4: an application signs in as itself (Microsoft 365 app registrations
    with the IMAP/SMTP application permissions; generic providers)."""

    token_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]

    def fetch(self, post: Post, now: datetime) -> Token:
        return _token(
            post(
                self.token_url,
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": " ".join(self.scopes),
                },
            ),
            now,
        )


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """RFC 6749 §6: a stored refresh token (Google; Microsoft delegated access) buys access
    tokens; a new refresh token the provider sends back replaces the stored one."""

    token_url: str
    client_id: str
    client_secret: str | None
    scopes: tuple[str, ...]
    store: RefreshTokenFile

    def fetch(self, post: Post, now: datetime) -> Token:
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": self.store.read(),
        }
        if self.client_secret:
            fields["client_secret"] = self.client_secret
        if self.scopes:
            fields["scope"] = " ".join(self.scopes)
        token = _token(post(self.token_url, fields), now)
        if token.refresh_token and token.refresh_token != fields["refresh_token"]:
            self.store.write(token.refresh_token)
        return token


class RefreshTokenFile:
    """A refresh token on disk, readable by its owner only, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        try:
            problem = readable_by_others(self.path)
        except FileNotFoundError:
            raise OAuth2Error(
                f"no refresh token at {self.path}: run 'maildesk auth login' once",
                grant_lost=True,
            ) from None
        if problem:
            raise OAuth2Error(problem)
        token = self.path.read_text(encoding="utf-8").strip()
        if not token:
            raise OAuth2Error(f"{self.path} is empty: run 'maildesk auth login'", grant_lost=True)
        return token

    def write(self, token: str) -> None:
        """Write to a temporary file (0600) beside it, then rename over: a crash leaves
        either the old token or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".refresh-", dir=self.path.parent)
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(token + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class ServiceAccountGrant:
    """RFC 7523: a Google service account with domain-wide delegation signs a JWT that
    names the mailbox it acts for (``subject``); no consent, no refresh token. Needs the
    ``cryptography`` package (``pip install 'maildesk[google]'``)."""

    token_url: str
    client_email: str
    private_key: str  # PEM, from the service account's JSON key
    scopes: tuple[str, ...]
    subject: str

    def assertion(self, now: datetime) -> str:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            raise OAuth2Error(
                "a service account needs the cryptography package: pip install 'maildesk[google]'"
            ) from None
        issued = int(now.timestamp())
        header = {"alg": "RS256", "typ": "JWT"}
        claims = {
            "iss": self.client_email,
            "scope": " ".join(self.scopes),
            "aud": self.token_url,
            "sub": self.subject,
            "iat": issued,
            "exp": issued + 3600,
        }
        signing_input = f"{_b64url(header)}.{_b64url(claims)}".encode()
        try:
            key = serialization.load_pem_private_key(self.private_key.encode(), password=None)
        except ValueError:
            raise OAuth2Error("the service account's private key is not a PEM RSA key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise OAuth2Error("the service account's private key is not an RSA key")
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + _b64url_bytes(signature)

    def fetch(self, post: Post, now: datetime) -> Token:
        return _token(
            post(self.token_url, {"grant_type": JWT_BEARER, "assertion": self.assertion(now)}),
            now,
        )


def _b64url_bytes(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64url(value: dict[str, Any]) -> str:
    return _b64url_bytes(json.dumps(value, separators=(",", ":")).encode())


Grant = ClientCredentials | RefreshGrant | ServiceAccountGrant


class TokenSource:
    """The current access token of one grant, shared by every connection (thread-safe).

    ``token()`` gives the cached token while it has more than ``REFRESH_MARGIN`` left;
    ``refused()`` is called when a server rejected it: the next ``token()`` fetches a new
    one, once; a second refusal in a row is the server's verdict, not the token's age."""

    def __init__(self, grant: Grant, clock: Clock, post: Post = post_form) -> None:
        self._grant = grant
        self._clock = clock
        self._post = post
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._stale = False
        self._retried = False  # a fresh token was already tried after a refusal
        self._failed_until: datetime | None = None
        self.fetches = 0

    def token(self) -> str:
        with self._lock:
            now = self._clock.now()
            current = self._token
            if (
                current is not None
                and not self._stale
                and now < current.expires_at - REFRESH_MARGIN
            ):
                return current.value
            if self._failed_until is not None and now < self._failed_until:
                raise OAuth2Error(
                    "token endpoint failed recently; next try after "
                    f"{self._failed_until:%H:%M:%S} UTC"
                )
            try:
                token = self._grant.fetch(self._post, now)
            except OAuth2Error:
                self._failed_until = now + RETRY_AFTER
                raise
            self.fetches += 1
            self._token, self._stale, self._failed_until = token, False, None
            log.info(
                "OAuth2 access token obtained",
                extra={"expires_at": token.expires_at.isoformat(), "fetches": self.fetches},
            )
            return token.value

    def refused(self) -> bool:
        """The server refused the token: whether a fresh one is worth a second try. True
        once; until a sign-in succeeds (``accepted``), further refusals are the server's
        verdict (a revoked permission, a wrong mailbox), not the token's age."""
        with self._lock:
            if self._retried:
                return False
            self._stale = self._retried = True
            return True

    def accepted(self) -> None:
        with self._lock:
            self._retried = False
