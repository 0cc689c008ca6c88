"""SMTP sign-in with OAuth2 tokens against an in-process aiosmtpd server that checks them
with the local authorization server: XOAUTH2 and OAUTHBEARER, an expired token renewed once,
a lost grant said plainly. (Dovecot and Postfix cannot be given custom SASL here; IMAP is
checked against Dovecot's own oauth2 passdb in the integration tests.)"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from maildesk.clock import FrozenClock
from maildesk.config import SmtpConfig
from maildesk.oauth2.tokens import ClientCredentials, TokenSource
from maildesk.outbound.outbox import AiosmtplibSession, ServerUnavailable
from maildesk.testing.tokenserver import TokenServer

USER = "soporte@maildesk.test"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class OAuthChecking:
    """Takes a mail only after AUTH XOAUTH2 / OAUTHBEARER with a token the authorization
    server knows; a refused token gets the providers' JSON challenge first."""

    def __init__(self, tokens: TokenServer, offer: tuple[str, ...]) -> None:
        self.tokens = tokens
        self.offer = offer
        self.signed_in: list[tuple[str, str]] = []
        self.accepted: list[list[str]] = []

    def _check(self, mechanism: str, user: str, token: str) -> bool:
        issued = self.tokens.tokens.get(token)
        ok = issued is not None and issued.user == user and issued.expires > 1e9
        if ok:
            self.signed_in.append((mechanism, user))
        return ok

    async def _sasl(self, server: Any, mechanism: str, args: list[str]) -> AuthResult:
        raw = base64.b64decode(args[1]).decode()
        fields = dict(p.split("=", 1) for p in raw.split("\x01") if "=" in p)
        user = fields.get("user") or raw.split(",")[1].removeprefix("a=")
        token = fields.get("auth", "").removeprefix("Bearer ")
        if self._check(mechanism, user, token):
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}).encode())
        await server.push("535 5.7.8 token invalid or expired")
        return AuthResult(success=False, handled=True)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        return await self._sasl(server, "XOAUTH2", args)

    async def auth_OAUTHBEARER(self, server: Any, args: list[str]) -> AuthResult:
        return await self._sasl(server, "OAUTHBEARER", args)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    running = TokenServer(clients={"maildesk": ("s3cret", USER)}).start()
    yield running
    running.stop()


def smtp_server(handler: OAuthChecking, offer: tuple[str, ...]) -> tuple[Controller, int]:
    port = free_port()
    excluded = [m for m in ("PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER") if m not in offer]
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, auth_require_tls=False,
        auth_exclude_mechanism=excluded,
    )  # fmt: skip
    controller.start()
    return controller, port


def send(port: int, source: TokenSource, mechanism: str = "auto") -> None:
    config = SmtpConfig(host="127.0.0.1", port=port, security="none", username=USER,
                        auth="oauth2", oauth2_mechanism=mechanism)  # type: ignore[arg-type]  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = USER, "c@clientes.test", "Recibido"
    msg.set_content("Hemos recibido su mensaje.")

    async def go() -> None:
        session = AiosmtplibSession(config, "", source)
        try:
            await session.send(USER, ["c@clientes.test"], msg.as_bytes())
        finally:
            await session.close()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("offer", "wanted", "used"),
    [
        (("XOAUTH2",), "auto", "XOAUTH2"),
        (("XOAUTH2", "OAUTHBEARER"), "auto", "OAUTHBEARER"),
        (("XOAUTH2", "OAUTHBEARER"), "XOAUTH2", "XOAUTH2"),
    ],
)
def test_smtp_signs_in_with_the_mechanism_the_server_offers(
    tokens: TokenServer, offer: tuple[str, ...], wanted: str, used: str
) -> None:
    handler = OAuthChecking(tokens, offer)
    controller, port = smtp_server(handler, offer)
    source = TokenSource(
        ClientCredentials(tokens.token_url, "maildesk", "s3cret", ()), FrozenClock(NOW)
    )
    try:
        send(port, source, wanted)
    finally:
        controller.stop()
    assert handler.signed_in == [(used, USER)]
    assert handler.accepted == [["c@clientes.test"]]


def test_a_token_the_server_no_longer_takes_is_renewed_once(tokens: TokenServer) -> None:
    handler = OAuthChecking(tokens, ("XOAUTH2",))
    controller, port = smtp_server(handler, ("XOAUTH2",))
    source = TokenSource(
        ClientCredentials(tokens.token_url, "maildesk", "s3cret", ()), FrozenClock(NOW)
    )
    try:
        source.token()  # cached, then the server forgets it (expired on its side)
        tokens.expire_all()
        send(port, source)
    finally:
        controller.stop()
    assert source.fetches == 2
    assert handler.accepted == [["c@clientes.test"]]


def test_a_lost_grant_fails_the_server_not_the_mail_and_says_why(tokens: TokenServer) -> None:
    handler = OAuthChecking(tokens, ("XOAUTH2",))
    controller, port = smtp_server(handler, ("XOAUTH2",))
    source = TokenSource(
        ClientCredentials(tokens.token_url, "maildesk", "s3cret", ()), FrozenClock(NOW)
    )
    tokens.revoke(USER)
    try:
        with pytest.raises(ServerUnavailable, match=r"invalid_client.*check the \[oauth2\]"):
            send(port, source)
    finally:
        controller.stop()
    assert handler.accepted == []
