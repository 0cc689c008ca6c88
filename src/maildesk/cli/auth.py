"""`maildesk auth login|test`: OAuth2 consent once, and a sign-in test."""

from __future__ import annotations

import argparse
from typing import Any

from maildesk.cli.common import UsageError
from maildesk.config import Config


def register(sub: Any) -> None:
    auth = sub.add_parser(
        "auth",
        help="OAuth2 sign-in: consent once, test",
        description="OAuth2 sign-in to Microsoft 365, Google Workspace or another provider "
        "(imap.auth / smtp.auth = oauth2 and an [oauth2] section).",
    )
    asub = auth.add_subparsers(dest="action", metavar="ACTION", required=True)
    login = asub.add_parser(
        "login",
        help="give maildesk a refresh token (device code, or a browser on this machine)",
        description="Microsoft and generic providers: prints a code to enter at an address, "
        "from any browser. Google: prints a consent address; the browser comes back to "
        "127.0.0.1. The refresh token is stored in oauth2.refresh_token_file (mode 600).",
    )
    login.add_argument("--port", type=int, default=0, help="loopback port (Google; default any)")
    login.set_defaults(handler=cmd_auth_login)
    test = asub.add_parser("test", help="get a token and sign in to IMAP and SMTP, a line each")
    test.set_defaults(handler=cmd_auth_test)


def cmd_auth_login(args: argparse.Namespace, config: Config) -> int:
    from maildesk.oauth2.consent import device_code_login, loopback_login
    from maildesk.oauth2.providers import GOOGLE_AUTH_URL, device_code_url, scopes, token_url
    from maildesk.oauth2.tokens import OAuth2Error, RefreshTokenFile

    settings = config.oauth2
    if settings is None:
        raise UsageError("no [oauth2] section in the configuration")
    if settings.grant_type in ("client_credentials", "service_account"):
        print(
            f"maildesk signs in as an application ({settings.grant_type}): there is no "
            "consent to give here; an administrator grants the permissions (README). "
            "'maildesk auth test' checks it."
        )
        return 0
    store = RefreshTokenFile(settings.refresh_token_file)
    url, secret, wanted = token_url(settings), settings.resolve_secret(), scopes(settings)
    try:
        if settings.provider == "google":
            loopback_login(
                authorize_url=GOOGLE_AUTH_URL, token_url=url, client_id=settings.client_id,
                client_secret=secret, scopes=wanted, store=store, port=args.port,
            )  # fmt: skip
        else:
            device = device_code_url(settings)
            if not device:
                raise UsageError("oauth2.device_code_url is needed for a generic provider")
            device_code_login(
                device_code_url=device, token_url=url, client_id=settings.client_id,
                client_secret=secret, scopes=wanted, store=store,
            )  # fmt: skip
    except OAuth2Error as exc:
        print(f"maildesk: {exc}")
        return 1
    print(f"refresh token stored in {store.path} (mode 600); 'maildesk auth test' checks it")
    return 0


def cmd_auth_test(args: argparse.Namespace, config: Config) -> int:
    from maildesk.runtime.checks import auth_test

    ok = True
    for result in auth_test(config):
        ok = ok and result.ok
        print(f"{'ok' if result.ok else 'FAIL':5} {result.name:7} {result.detail}")
    return 0 if ok else 1
