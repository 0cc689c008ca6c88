"""``maildesk auth login``: the one-time consent that gives maildesk a refresh token.

Two flows, both plain HTTP:

* device code (RFC 8628; Microsoft delegated access, generic providers): maildesk prints a
  short code and an address, the mailbox's owner signs in there from any browser, maildesk
  polls the token endpoint until the consent is given;
* loopback redirect with PKCE (RFC 8252 §7.3, RFC 7636; Google installed apps): maildesk
  listens on 127.0.0.1, prints the consent address, and receives the code when the browser
  is sent back there (on a headless server, through ``ssh -L`` to that port).

The refresh token obtained is written to ``refresh_token_file`` (mode 600, atomically).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from maildesk.oauth2.tokens import OAuth2Error, Post, RefreshTokenFile, post_form

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_code_login(
    *,
    device_code_url: str,
    token_url: str,
    client_id: str,
    client_secret: str | None,
    scopes: tuple[str, ...],
    store: RefreshTokenFile,
    say: Callable[[str], None] = print,
    post: Post = post_form,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    started = post(device_code_url, {"client_id": client_id, "scope": " ".join(scopes)})
    try:
        device_code = str(started["device_code"])
        user_code = str(started["user_code"])
        where = str(started.get("verification_uri") or started["verification_url"])
    except KeyError as exc:
        raise OAuth2Error(f"device code endpoint answered without {exc}") from None
    say(str(started.get("message") or f"To sign in, open {where} and enter the code {user_code}"))
    interval = float(started.get("interval", 5))
    deadline = monotonic() + float(started.get("expires_in", 900))
    fields = {"grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code}
    if client_secret:
        fields["client_secret"] = client_secret
    while monotonic() < deadline:
        sleep(interval)
        try:
            answer = post(token_url, fields)
        except OAuth2Error as exc:
            text = str(exc)
            if "authorization_pending" in text:
                continue
            if "slow_down" in text:
                interval += 5
                continue
            raise
        _keep(answer, store)
        return
    raise OAuth2Error("the code expired before the sign-in was completed: run it again")


def loopback_login(
    *,
    authorize_url: str,
    token_url: str,
    client_id: str,
    client_secret: str | None,
    scopes: tuple[str, ...],
    store: RefreshTokenFile,
    say: Callable[[str], None] = print,
    post: Post = post_form,
    port: int = 0,
    timeout: float = 600.0,
) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    received: dict[str, str] = {}
    done = threading.Event()

    class Back(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            if query.get("state") == state:
                received.update(query)
                done.set()
            ok = "code" in query and query.get("state") == state
            page = "maildesk: signed in, you can close this page." if ok else "maildesk: failed."
            body = page.encode()
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", port), Back)
    redirect = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = (
            authorize_url
            + "?"
            + urllib.parse.urlencode(
                {
                    "client_id": client_id,
                    "redirect_uri": redirect,
                    "response_type": "code",
                    "scope": " ".join(scopes),
                    "access_type": "offline",  # Google: give a refresh token
                    "prompt": "consent",
                    "state": state,
                    "code_challenge": challenge.decode().rstrip("="),
                    "code_challenge_method": "S256",
                }
            )
        )
        listening = server.server_address[1]
        say(
            "Open this address in a browser on this machine (or through "
            f"ssh -L {listening}:127.0.0.1:{listening}):\n{address}"
        )
        if not done.wait(timeout):
            raise OAuth2Error("no answer from the browser in time: run it again")
    finally:
        server.shutdown()
        server.server_close()
    if "code" not in received:
        raise OAuth2Error(f"consent refused: {received.get('error', 'no code')}")
    fields = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "redirect_uri": redirect,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    if client_secret:
        fields["client_secret"] = client_secret
    _keep(post(token_url, fields), store)


def _keep(answer: dict[str, Any], store: RefreshTokenFile) -> None:
    refresh = answer.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise OAuth2Error(
            "the provider gave no refresh token (Microsoft: ask for offline_access; Google: "
            "the consent screen must ask for offline access)"
        )
    store.write(refresh)
