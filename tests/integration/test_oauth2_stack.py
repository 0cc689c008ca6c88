"""OAuth2 sign-in on a real server: Dovecot's own ``oauth2`` passdb checks every token with
the local authorization server (RFC 7662 introspection). maildesk gets a token by client
credentials, reads the support mailbox with XOAUTH2 and with OAUTHBEARER, gets a new token
when the server stops taking the old one, and says plainly when the grant is gone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.config import Config, load_config
from maildesk.db.tables import Incident
from maildesk.runtime.intake import MailboxUnreachable
from maildesk.testing.mailstack import (
    DEFAULT_USERS,
    MailStack,
    make_stack_directory,
    remove_stack_directory,
)
from maildesk.testing.stackconfig import SUPPORT, write_local_config
from maildesk.testing.support import client_mail, count_rows, run_once, wait_for
from maildesk.testing.tokenserver import TokenServer

pytestmark = pytest.mark.stack

CLIENT_ID, SECRET = "maildesk-app", "app-secret"


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    running = TokenServer(clients={CLIENT_ID: (SECRET, SUPPORT)}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def oauth_stack(tokens: TokenServer) -> Iterator[MailStack]:
    base = int(os.environ.get("MAILDESK_TEST_PORT_BASE", "12000")) + 2000
    directory = make_stack_directory("maildesk-oauth2-")
    stack = MailStack.start(
        directory,
        imap_port=base + 143,
        smtp_port=base + 25,
        lmtp_port=base + 24,
        oauth2_introspection_url=tokens.introspection_url,
    )
    try:
        yield stack
    finally:
        stack.stop()
        remove_stack_directory(directory)


@pytest.fixture
def oauth_mail(oauth_stack: MailStack, tokens: TokenServer) -> MailStack:
    tokens.clients = {CLIENT_ID: (SECRET, SUPPORT)}
    tokens.tokens.clear()
    tokens.requests.clear()
    oauth_stack.start_imap()  # a test may have restarted it
    for user in DEFAULT_USERS:
        oauth_stack.empty(user)
    return oauth_stack


def oauth_config(
    tmp_path: Path,
    stack: MailStack,
    tokens: TokenServer,
    mechanism: str = "auto",
    section: str = "",
) -> Config:
    path = write_local_config(
        tmp_path,
        stack.imap_port,
        stack.smtp_port + 1,  # the submission port: SASL required, checked by Dovecot
        extra=section
        or (
            "\n[oauth2]\n"
            'provider = "generic"\n'
            f'token_url = "{tokens.token_url}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            'client_secret_env = "MAILDESK_TEST_OAUTH2_SECRET"\n'
            'grant = "client_credentials"\n'
        ),
    )
    text = path.read_text()
    # The password goes: only the token can sign in to IMAP now.
    # The passwords go: only the token can sign in, to IMAP and to SMTP.
    text = re.sub(r'(?m)^password = "secret"\n(auth = )"password"', r'\1"oauth2"', text)
    text = text.replace('oauth2_mechanism = "auto"', f'oauth2_mechanism = "{mechanism}"')
    text = text.replace('username = ""', f'username = "{SUPPORT}"', 1)
    path.write_text(text)
    os.environ["MAILDESK_TEST_OAUTH2_SECRET"] = SECRET
    config = load_config(path)
    assert config.imap.auth == config.smtp.auth == "oauth2"
    assert config.imap.password is None and config.smtp.password is None
    return config


def start_daemon(tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    """``maildesk run`` on the configuration ``oauth_config`` wrote, logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "maildesk.cli", "--config", str(tmp_path / "maildesk.toml"), "run"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_the_mailbox_is_read_with_an_oauth2_token(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path, mechanism: str
) -> None:
    config = oauth_config(tmp_path, oauth_mail, tokens, mechanism)
    sender = "cliente1@clientes.test"
    oauth_mail.append(SUPPORT, client_mail(sender, "Sin línea", "No hay tono.").as_bytes())

    summary = run_once(config)

    assert summary.outcomes == {"new_incident": 1} and summary.sent.sent == 1
    assert len(oauth_mail.wait_for_messages(sender, 1)) == 1  # sent with SMTP + the token
    # One token for both protocols.
    assert [r["grant_type"] for r in tokens.requests] == ["client_credentials"]


def test_a_token_the_server_stopped_taking_is_renewed_and_intake_goes_on(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    config = oauth_config(tmp_path, oauth_mail, tokens)
    log = tmp_path / "daemon.log"
    proc = start_daemon(tmp_path, log)
    try:
        wait_for("IDLE", lambda: "mode=idle" in log.read_text())
        first = "cliente1@clientes.test"
        oauth_mail.append(SUPPORT, client_mail(first, "Avería", "Sin ADSL.").as_bytes())
        oauth_mail.wait_for_messages(first, 1, timeout=20)
        # The token dies on the server's side during the IDLE, then the connection drops:
        # the cached token is refused at the next sign-in, a new one is fetched, and the
        # mail that came meanwhile is read once.
        tokens.expire_all()
        oauth_mail.stop_imap()
        second = "cliente2@clientes.test"
        oauth_mail.start_imap()
        oauth_mail.append(SUPPORT, client_mail(second, "Factura", "Cobro doble.").as_bytes())
        oauth_mail.wait_for_messages(second, 1, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    text = log.read_text()
    assert count_rows(config, Incident) == 2
    assert [r["grant_type"] for r in tokens.requests] == ["client_credentials"] * 2
    assert "Traceback" not in text


def test_a_revoked_grant_is_said_plainly_and_nothing_loops(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    config = oauth_config(tmp_path, oauth_mail, tokens)
    tokens.revoke(SUPPORT)

    with pytest.raises(MailboxUnreachable, match="invalid_client") as caught:
        run_once(config)

    assert "no OAuth2 token for support@maildesk.test" in str(caught.value)
    assert len(tokens.requests) == 1  # one try, no hammering of the provider


def test_a_server_that_no_longer_takes_passwords_gets_a_one_line_way_out(
    oauth_mail: MailStack, tmp_path: Path
) -> None:
    path = write_local_config(tmp_path, oauth_mail.imap_port, oauth_mail.smtp_port)
    path.write_text(
        path.read_text().replace(
            f'username = "{SUPPORT}"', 'username = "basic-off@maildesk.test"', 1
        )
    )

    with pytest.raises(MailboxUnreachable) as caught:
        run_once(load_config(path))

    message = str(caught.value)
    assert "\n" not in message
    assert "BasicAuthBlocked" in message  # the server's own words
    assert 'set imap.auth = "oauth2" and an [oauth2] section' in message


def test_auth_test_and_check_say_how_they_signed_in(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    oauth_config(tmp_path, oauth_mail, tokens, "OAUTHBEARER")
    config_path = str(tmp_path / "maildesk.toml")

    def maildesk(*command: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "maildesk.cli", "--config", config_path, *command],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    code, out = maildesk("auth", "test")
    lines = out.splitlines()
    assert code == 0, out
    assert len(lines) == 3
    assert lines[0].startswith("ok    oauth2  generic token from " + tokens.token_url)
    assert lines[1].startswith(f"ok    imap    127.0.0.1:{oauth_mail.imap_port} as {SUPPORT}")
    assert "(OAUTHBEARER)" in lines[1]
    assert lines[2].startswith(f"ok    smtp    127.0.0.1:{oauth_mail.smtp_port + 1} answers")
    assert "OAUTHBEARER, NOOP 250" in lines[2]
    code, out = maildesk("check")
    assert "(OAUTHBEARER)" in out and "client_credentials" in out
    tokens.revoke(SUPPORT)
    code, out = maildesk("auth", "test")
    assert code == 1 and "FAIL  oauth2  token endpoint" in out and "invalid_client" in out


def test_a_google_service_account_acts_for_the_support_mailbox(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = "maildesk@support-project.iam.example"
    tokens.service_accounts[email] = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps({"client_email": email, "private_key": key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()}))  # fmt: skip
    key_file.chmod(0o600)
    config = oauth_config(
        tmp_path, oauth_mail, tokens,
        section=(
            '\n[oauth2]\nprovider = "google"\ngrant = "service_account"\n'
            f'token_url = "{tokens.token_url}"\nservice_account_file = "{key_file}"\n'
        ),
    )  # fmt: skip
    sender = "cliente4@clientes.test"
    oauth_mail.append(SUPPORT, client_mail(sender, "Portabilidad", "Portar el 93.").as_bytes())

    summary = run_once(config)

    assert summary.outcomes == {"new_incident": 1} and summary.sent.sent == 1
    assert len(oauth_mail.wait_for_messages(sender, 1)) == 1
    assert [r["grant_type"] for r in tokens.requests] == [
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ]


def test_a_daemon_whose_grant_is_revoked_says_so_and_waits_without_hammering(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    import time

    oauth_config(tmp_path, oauth_mail, tokens)
    log = tmp_path / "daemon.log"
    proc = start_daemon(tmp_path, log)
    try:
        wait_for("IDLE", lambda: "mode=idle" in log.read_text())
        tokens.revoke(SUPPORT)
        oauth_mail.stop_imap()  # the session ends: the next sign-in needs a new token
        oauth_mail.start_imap()
        wait_for("the refusal", lambda: "invalid_client" in log.read_text(), timeout=30)
        time.sleep(6)  # reconnect attempts go on meanwhile, at their backoff
        assert proc.poll() is None  # still running, no crash
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    text = log.read_text()
    refusals = [line for line in text.splitlines() if "invalid_client" in line]
    assert 1 <= len(refusals) <= 3  # said, not at every attempt
    assert "run 'maildesk auth login'" not in refusals[0]  # client credentials: no login
    assert "check the [oauth2] settings" in refusals[0]
    token_calls = [r for r in tokens.requests if r["grant_type"] == "client_credentials"]
    assert len(token_calls) <= 3  # the provider is not hammered (30 s between tries)
    assert "Traceback" not in text


def test_a_revoked_refresh_token_names_the_command_that_renews_it(
    oauth_mail: MailStack, tokens: TokenServer, tmp_path: Path
) -> None:
    from maildesk.oauth2.tokens import RefreshTokenFile

    tokens.refresh_tokens["rt-granted"] = ("desk-public", SUPPORT)
    store = tmp_path / "refresh-token"
    RefreshTokenFile(store).write("rt-granted")
    section = (
        '\n[oauth2]\nprovider = "generic"\ngrant = "refresh_token"\n'
        f'token_url = "{tokens.token_url}"\nclient_id = "desk-public"\n'
        f'refresh_token_file = "{store}"\n'
    )
    config = oauth_config(tmp_path, oauth_mail, tokens, section=section)
    oauth_mail.append(SUPPORT, client_mail("cliente5@clientes.test", "Alta", "Alta.").as_bytes())
    assert run_once(config).outcomes == {"new_incident": 1}  # the granted token works

    tokens.revoke(SUPPORT)
    tokens.tokens.clear()
    oauth_mail.stop_imap()  # a new session, a new token needed
    oauth_mail.start_imap()
    with pytest.raises(MailboxUnreachable) as caught:
        run_once(config)
    assert "invalid_grant" in str(caught.value)
    assert "run 'maildesk auth login' to renew it" in str(caught.value)
