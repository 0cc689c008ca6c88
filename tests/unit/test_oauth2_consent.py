"""``maildesk auth login``'s two consent flows against the local authorization server: the
device code (polled until the owner consents) and the loopback redirect with PKCE (the test
plays the browser). Each ends with a refresh token stored privately that buys tokens."""

from __future__ import annotations

import os
import stat
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maildesk.clock import FrozenClock
from maildesk.oauth2.consent import device_code_login, loopback_login
from maildesk.oauth2.tokens import OAuth2Error, RefreshGrant, RefreshTokenFile, TokenSource
from maildesk.testing.tokenserver import TokenServer

USER = "soporte@maildesk.test"


@pytest.fixture
def server() -> Iterator[TokenServer]:
    running = TokenServer(consenting_user=USER, device_polls_before_consent=2).start()
    yield running
    running.stop()


def usable(server: TokenServer, store: RefreshTokenFile) -> str:
    source = TokenSource(
        RefreshGrant(server.token_url, "desk", None, (), store),
        FrozenClock(datetime(2026, 12, 3, tzinfo=UTC)),
    )
    return server.tokens[source.token()].user


def test_the_device_code_flow_polls_until_consent_and_keeps_the_refresh_token(
    server: TokenServer, tmp_path: Path
) -> None:
    said: list[str] = []
    store = RefreshTokenFile(tmp_path / "rt")

    device_code_login(
        device_code_url=server.device_code_url, token_url=server.token_url, client_id="desk",
        client_secret=None, scopes=("mail",), store=store, say=said.append, sleep=lambda _: None,
    )  # fmt: skip

    assert said == [f"To sign in, open {server.url}/device and enter the code ABCD-1234"]
    polls = [r for r in server.requests if r["grant_type"].endswith("device_code")]
    assert len(polls) == 3  # two "authorization_pending", then the consent
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert usable(server, store) == USER


def test_a_device_code_that_expires_says_so(server: TokenServer, tmp_path: Path) -> None:
    server.device_polls_before_consent = 10_000
    clock = iter(range(0, 10_000, 100))
    store = RefreshTokenFile(tmp_path / "rt")
    with pytest.raises(OAuth2Error, match="expired before the sign-in"):
        device_code_login(
            device_code_url=server.device_code_url, token_url=server.token_url,
            client_id="desk", client_secret=None, scopes=(), store=store,
            say=lambda _: None, sleep=lambda _: None, monotonic=lambda: float(next(clock)),
        )  # fmt: skip
    assert not (tmp_path / "rt").exists()


def test_the_loopback_flow_with_pkce_takes_the_code_the_browser_brings_back(
    server: TokenServer, tmp_path: Path
) -> None:
    store = RefreshTokenFile(tmp_path / "rt")

    def browser(text: str) -> None:  # opens the printed address, follows the redirect back
        address = text.splitlines()[-1]
        threading.Thread(target=lambda: urllib.request.urlopen(address, timeout=10).read()).start()

    loopback_login(
        authorize_url=server.authorize_url, token_url=server.token_url, client_id="desk",
        client_secret=None, scopes=("https://mail.google.com/",), store=store, say=browser,
        timeout=20,
    )  # fmt: skip

    exchange = [r for r in server.requests if r["grant_type"] == "authorization_code"]
    assert len(exchange) == 1 and exchange[0]["code_verifier"]  # PKCE checked by the server
    assert usable(server, store) == USER
