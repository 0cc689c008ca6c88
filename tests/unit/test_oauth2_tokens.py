"""OAuth2: the SASL strings of both mechanisms, and tokens fetched from a real local
authorization server, cached, refreshed before expiry and once after a refusal, a rotated
refresh token stored safely."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maildesk.clock import FrozenClock
from maildesk.oauth2 import sasl
from maildesk.oauth2.tokens import (
    REFRESH_MARGIN,
    ClientCredentials,
    OAuth2Error,
    RefreshGrant,
    RefreshTokenFile,
    TokenSource,
)
from maildesk.testing.tokenserver import TokenServer

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
USER = "soporte@maildesk.test"


@pytest.mark.parametrize(
    ("user", "token", "expected"),
    [
        (USER, "ya29.abc", b"user=soporte@maildesk.test\x01auth=Bearer ya29.abc\x01\x01"),
        ("a@b.es", "t", b"user=a@b.es\x01auth=Bearer t\x01\x01"),
    ],
)
def test_xoauth2_initial_response(user: str, token: str, expected: bytes) -> None:
    assert sasl.xoauth2(user, token) == expected


@pytest.mark.parametrize(
    ("user", "host", "port", "expected"),
    [
        (USER, "imap.example", 993,
         b"n,a=soporte@maildesk.test,\x01host=imap.example\x01port=993\x01auth=Bearer T\x01\x01"),
        ("a=b,c@x.es", None, None, b"n,a=a=3Db=2Cc@x.es,\x01auth=Bearer T\x01\x01"),
    ],
)  # fmt: skip
def test_oauthbearer_initial_response_escapes_the_identity(
    user: str, host: str | None, port: int | None, expected: bytes
) -> None:
    assert sasl.oauthbearer(user, "T", host, port) == expected


@pytest.mark.parametrize(
    ("offered", "wanted", "chosen"),
    [
        ({"PLAIN", "XOAUTH2", "OAUTHBEARER"}, "auto", "OAUTHBEARER"),
        ({"PLAIN", "xoauth2"}, "auto", "XOAUTH2"),
        ({"PLAIN", "LOGIN"}, "auto", None),
        ({"XOAUTH2", "OAUTHBEARER"}, "XOAUTH2", "XOAUTH2"),
        ({"OAUTHBEARER"}, "XOAUTH2", None),
    ],
)
def test_the_mechanism_is_chosen_from_what_the_server_offers(
    offered: set[str], wanted: str, chosen: str | None
) -> None:
    assert sasl.choose(offered, wanted) == chosen


def test_the_error_challenge_is_read_for_the_log() -> None:
    challenge = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode())
    assert sasl.challenge_detail(challenge) == "status 401, schemes bearer"
    assert sasl.challenge_detail(b"not base64!") == "not base64!"


@pytest.fixture
def server() -> Iterator[TokenServer]:
    running = TokenServer(clients={"maildesk": ("s3cret", USER)}).start()
    yield running
    running.stop()


def test_client_credentials_tokens_are_cached_and_renewed_before_they_expire(
    server: TokenServer,
) -> None:
    clock = FrozenClock(NOW)
    grant = ClientCredentials(server.token_url, "maildesk", "s3cret", ("mail",))
    source = TokenSource(grant, clock)

    first = source.token()
    clock.advance(timedelta(seconds=server.lifetime) - REFRESH_MARGIN - timedelta(seconds=1))
    assert source.token() == first and source.fetches == 1  # still fresh: no request
    clock.advance(timedelta(seconds=2))  # inside the margin: renewed before expiry
    second = source.token()

    assert second != first and source.fetches == 2
    assert server.tokens[second].user == USER
    assert all("s3cret" not in json.dumps(r) for r in server.requests)


def test_a_refused_token_is_renewed_once_then_the_refusal_stands(server: TokenServer) -> None:
    source = TokenSource(
        ClientCredentials(server.token_url, "maildesk", "s3cret", ()), FrozenClock(NOW)
    )
    first = source.token()

    assert source.refused() is True  # the server said no: one fresh token is worth a try
    second = source.token()
    assert second != first
    assert source.refused() is False  # refused again: the server's verdict, no loop
    source.accepted()  # a later sign-in worked: the next refusal may retry again
    assert source.refused() is True


def test_a_wrong_secret_says_which_error_and_never_the_secret(server: TokenServer) -> None:
    clock = FrozenClock(NOW)
    source = TokenSource(ClientCredentials(server.token_url, "maildesk", "wrong", ()), clock)

    with pytest.raises(OAuth2Error, match="invalid_client") as caught:
        source.token()
    assert "wrong" not in str(caught.value) and not caught.value.grant_lost
    with pytest.raises(OAuth2Error, match="failed recently"):  # backs off, no hammering
        source.token()
    assert len(server.requests) == 1


def test_an_unreachable_endpoint_is_said_plainly() -> None:
    source = TokenSource(
        ClientCredentials("http://127.0.0.1:9/token", "maildesk", "s", ()), FrozenClock(NOW)
    )
    with pytest.raises(OAuth2Error, match="unreachable"):
        source.token()


def test_a_rotated_refresh_token_replaces_the_stored_one_atomically_and_privately(
    server: TokenServer, tmp_path: Path
) -> None:
    server.rotate = True
    server.refresh_tokens["rt-first"] = ("maildesk", USER)
    store = RefreshTokenFile(tmp_path / "refresh-token")
    store.write("rt-first")
    source = TokenSource(
        RefreshGrant(server.token_url, "maildesk", None, (), store), FrozenClock(NOW)
    )

    token = source.token()

    stored = store.read()
    assert stored != "rt-first" and stored in server.refresh_tokens
    assert server.tokens[token].user == USER
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["refresh-token"]  # no temporary left


def test_a_revoked_grant_names_the_command_that_renews_it(
    server: TokenServer, tmp_path: Path
) -> None:
    server.refresh_tokens["rt-1"] = ("maildesk", USER)
    store = RefreshTokenFile(tmp_path / "refresh-token")
    store.write("rt-1")
    source = TokenSource(
        RefreshGrant(server.token_url, "maildesk", None, (), store), FrozenClock(NOW)
    )
    server.revoke(USER)

    with pytest.raises(OAuth2Error, match="invalid_grant") as caught:
        source.token()
    assert caught.value.grant_lost


def test_a_refresh_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "refresh-token"
    path.write_text("rt-1\n")
    path.chmod(0o644)
    with pytest.raises(OAuth2Error, match="chmod 600"):
        RefreshTokenFile(path).read()
    with pytest.raises(OAuth2Error, match="maildesk auth login") as caught:
        RefreshTokenFile(tmp_path / "missing").read()
    assert caught.value.grant_lost


def service_account_key(tmp_path: Path, server: TokenServer, email: str) -> Path:
    """A Google-style JSON key for a new RSA key pair, the public half known to ``server``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server.service_accounts[email] = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    key_file = {"type": "service_account", "client_email": email, "private_key": private,
                "token_uri": server.token_url}  # fmt: skip
    path.write_text(json.dumps(key_file))
    path.chmod(0o600)
    return path


def test_a_service_account_signs_a_jwt_and_acts_for_the_mailbox(
    server: TokenServer, tmp_path: Path
) -> None:
    from maildesk.config import OAuth2Config
    from maildesk.oauth2.providers import grant_settings, token_source

    path = service_account_key(tmp_path, server, "maildesk@project.iam.example")
    config = OAuth2Config(provider="google", grant="service_account", service_account_file=path)

    source = token_source(grant_settings(config, USER), FrozenClock(datetime.now(UTC)))
    token = source.token()

    assert server.tokens[token].user == USER  # the mailbox, not the service account
    [request] = server.requests
    assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = request["assertion"].split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["scope"] == "https://mail.google.com/" and decoded["sub"] == USER
    assert decoded["exp"] - decoded["iat"] == 3600


def test_a_service_account_key_others_can_read_or_a_key_not_registered_is_refused(
    server: TokenServer, tmp_path: Path
) -> None:
    from maildesk.config import ConfigError, OAuth2Config
    from maildesk.oauth2.providers import grant_settings, token_source

    path = service_account_key(tmp_path, server, "maildesk@project.iam.example")
    config = OAuth2Config(provider="google", grant="service_account", service_account_file=path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        grant_settings(config, USER)
    path.chmod(0o600)
    server.service_accounts.clear()  # the key was deleted in the console
    source = token_source(grant_settings(config, USER), FrozenClock(datetime.now(UTC)))
    with pytest.raises(OAuth2Error, match="invalid_grant"):
        source.token()
