"""A small OAuth2 authorization server on 127.0.0.1 for the tests and the OAuth2 mail stack.

It issues access tokens by client credentials and by refresh token (rotating the refresh
token when asked to), answers token introspection (RFC 7662, as Dovecot's ``oauth2`` passdb
asks it) and can revoke a grant, so that expiry, rotation and revocation can be shown on a
real server instead of a mock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Issued:
    user: str
    expires: float  # time.time() at expiry


@dataclass
class TokenServer:
    """Clients: ``client_id → (secret, user)``; refresh tokens: ``token → (client_id, user)``."""

    clients: dict[str, tuple[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    lifetime: int = 3600  # seconds an access token lives
    rotate: bool = False  # send a new refresh token with each refresh
    tokens: dict[str, Issued] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    consenting_user: str = ""  # who signs in at the device page / consent screen
    device_polls_before_consent: int = 1  # "authorization_pending" answers first
    devices: dict[str, list[Any]] = field(default_factory=dict)  # device_code → [client, polls]
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (client, challenge)
    # service accounts: client_email → public key (PEM) that checks their signed JWTs
    service_accounts: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"

    def start(self, port: int = 0) -> TokenServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/token":
                    status, body = owner._token(fields)
                elif self.path == "/devicecode":
                    status, body = owner._device(fields)
                elif self.path == "/introspect":
                    status, body = owner._introspect(fields.get("token", ""))
                else:
                    status, body = 404, {"error": "not_found"}
                self._answer(status, body)

            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                if self.path.startswith("/authorize"):
                    # The consent screen, consented at once: back to the app with a code.
                    code = "code-" + secrets.token_urlsafe(12)
                    owner.codes[code] = (
                        query.get("client_id", ""),
                        query.get("code_challenge", ""),
                    )
                    back = (
                        query["redirect_uri"]
                        + "?"
                        + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
                    )
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                    return
                # Dovecot's introspection_mode = get: the token in the query or a header.
                token = query.get("access_token") or self.headers.get(
                    "Authorization", ""
                ).removeprefix("Bearer ")
                status, body = owner._introspect(token)
                self._answer(status, body)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- what the tests change ------------------------------------------------------------

    def revoke(self, user: str) -> None:
        """Every refresh token and access token of ``user`` stops working."""
        self.refresh_tokens = {k: v for k, v in self.refresh_tokens.items() if v[1] != user}
        self.tokens = {k: v for k, v in self.tokens.items() if v.user != user}
        self.clients = {k: v for k, v in self.clients.items() if v[1] != user}

    def expire_all(self) -> None:
        for issued in self.tokens.values():
            issued.expires = 0.0

    # --- the endpoints --------------------------------------------------------------------

    def _issue(self, user: str) -> str:
        token = "at-" + secrets.token_urlsafe(24)
        self.tokens[token] = Issued(user, time.time() + self.lifetime)
        return token

    @property
    def device_code_url(self) -> str:
        return f"{self.url}/devicecode"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    def _device(self, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        code = "dc-" + secrets.token_urlsafe(12)
        self.devices[code] = [fields.get("client_id", ""), 0]
        return 200, {
            "device_code": code,
            "user_code": "ABCD-1234",
            "verification_uri": f"{self.url}/device",
            "expires_in": 600,
            "interval": 0,
        }

    def _refresh_for(self, client: str) -> dict[str, Any]:
        user = self.consenting_user
        refresh = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = (client, user)
        return {
            "access_token": self._issue(user),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
        }

    def _token(self, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append({k: v for k, v in fields.items() if "secret" not in k})
        grant = fields.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = self.devices.get(fields.get("device_code", ""))
            if device is None:
                return 400, {"error": "expired_token"}
            device[1] += 1
            if device[1] <= self.device_polls_before_consent:
                return 400, {"error": "authorization_pending"}
            del self.devices[fields["device_code"]]
            return 200, self._refresh_for(str(device[0]))
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            subject = self._check_jwt(fields.get("assertion", ""))
            if subject is None:
                return 400, {"error": "invalid_grant", "error_description": "bad assertion"}
            return 200, {
                "access_token": self._issue(subject),
                "token_type": "Bearer",
                "expires_in": self.lifetime,
            }
        if grant == "authorization_code":
            held = self.codes.pop(fields.get("code", ""), None)
            verifier = fields.get("code_verifier", "")
            expected = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
            if held is None or held[1] != expected:
                return 400, {"error": "invalid_grant", "error_description": "bad code or PKCE"}
            return 200, self._refresh_for(held[0])
        if grant == "client_credentials":
            known = self.clients.get(fields.get("client_id", ""))
            if known is None or known[0] != fields.get("client_secret"):
                return 401, {"error": "invalid_client", "error_description": "unknown client"}
            return 200, {
                "access_token": self._issue(known[1]),
                "token_type": "Bearer",
                "expires_in": self.lifetime,
            }
        if grant == "refresh_token":
            held = self.refresh_tokens.get(fields.get("refresh_token", ""))
            if held is None or held[0] != fields.get("client_id"):
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "refresh token expired or revoked",
                }
            body: dict[str, Any] = {
                "access_token": self._issue(held[1]),
                "token_type": "Bearer",
                "expires_in": self.lifetime,
            }
            if self.rotate:
                del self.refresh_tokens[fields["refresh_token"]]
                new = "rt-" + secrets.token_urlsafe(24)
                self.refresh_tokens[new] = held
                body["refresh_token"] = new
            return 200, body
        return 400, {"error": "unsupported_grant_type"}

    def _check_jwt(self, assertion: str) -> str | None:
        """The subject of a correctly signed, current JWT for this token endpoint, or None."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            head, body, signature = assertion.split(".")
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            public = serialization.load_pem_public_key(
                self.service_accounts[claims["iss"]].encode()
            )
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(
                base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
                f"{head}.{body}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, KeyError, AssertionError, InvalidSignature):
            return None
        current = claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60
        if claims.get("aud") != self.token_url or not current or not claims.get("sub"):
            return None
        return str(claims["sub"])

    def _introspect(self, token: str) -> tuple[int, dict[str, Any]]:
        issued = self.tokens.get(token)
        if issued is None or issued.expires <= time.time():
            return 200, {"active": False}
        return 200, {
            "active": True,
            "username": issued.user,
            "email": issued.user,
            "exp": int(issued.expires),
        }
