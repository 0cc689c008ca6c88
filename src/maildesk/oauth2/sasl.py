"""The two SASL mechanisms mail providers accept for OAuth2 access tokens.

``XOAUTH2`` (Google's and Microsoft's own, https://developers.google.com/gmail/imap/xoauth2-protocol)
and ``OAUTHBEARER`` (RFC 7628, with the GS2 header of RFC 5801). Both carry the token as an
HTTP ``Bearer`` value; on failure the server sends a base64 JSON challenge (``status``,
``schemes``, ``scope``) and waits for an empty line before its final answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

MECHANISMS = ("OAUTHBEARER", "XOAUTH2")  # preferred first: the standard one

# What providers answer, over IMAP or SMTP, when they no longer take passwords (Microsoft
# 365's BasicAuthBlocked and 5.7.139, outlook.com, Google's application-specific password and
# web login): the refusal then names the OAuth2 settings to use instead.
BASIC_AUTH_OFF = re.compile(
    r"basic ?auth|BasicAuthBlocked|5\.7\.139|application-specific password|web login required",
    re.IGNORECASE,
)


def xoauth2(user: str, token: str) -> bytes:
    """The XOAUTH2 initial response, not yet base64-encoded."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(user: str, token: str, host: str | None = None, port: int | None = None) -> bytes:
    """The OAUTHBEARER initial response (RFC 7628 §3.1), not yet base64-encoded.

    The authorization identity is the mailbox; ``=`` and ``,`` in it are escaped as the
    GS2 header requires (RFC 5801 §4). Host and port are optional key-value pairs."""
    identity = user.replace("=", "=3D").replace(",", "=2C")
    pairs = []
    if host:
        pairs.append(f"host={host}")
    if port:
        pairs.append(f"port={port}")
    pairs.append(f"auth=Bearer {token}")
    return (f"n,a={identity}," + "".join(f"\x01{p}" for p in pairs) + "\x01\x01").encode()


def initial_response(mechanism: str, user: str, token: str, host: str, port: int) -> bytes:
    if mechanism == "XOAUTH2":
        return xoauth2(user, token)
    if mechanism == "OAUTHBEARER":
        return oauthbearer(user, token, host, port)
    raise ValueError(f"unknown OAuth2 SASL mechanism {mechanism!r}")


def choose(offered: set[str], wanted: str = "auto") -> str | None:
    """The mechanism to use: ``wanted`` if the server offers it, else under ``auto`` the
    first of ``MECHANISMS`` it offers; None when it offers neither."""
    offered = {m.upper() for m in offered}
    if wanted != "auto":
        return wanted if wanted in offered else None
    return next((m for m in MECHANISMS if m in offered), None)


def challenge_detail(challenge: bytes | str) -> str:
    """The server's error challenge, readable: ``status 401, scope …`` or the raw text."""
    try:
        data = json.loads(base64.b64decode(challenge, validate=True))
    except (binascii.Error, ValueError, TypeError):
        text = challenge.decode("ascii", "replace") if isinstance(challenge, bytes) else challenge
        return text.strip()[:200]
    if not isinstance(data, dict):
        return str(data)[:200]
    return ", ".join(f"{k} {v}" for k, v in data.items() if v)[:200]
