"""Who may command the desk: a staff address, and a trusted server's DKIM/SPF/DMARC pass for
it in the topmost header of that server, or the incident's secret reply address."""

from __future__ import annotations

import pytest

from maildesk.desk.authentication import (
    Verdict,
    authenticate,
    command_address,
    parse_authentication_results,
)

STAFF = "jefe@telefonia-ruiz.es"
TRUSTED = ("mx.maildesk.test",)
SECRET = b"desk-secret"


def test_an_authentication_results_header_is_read_without_its_comments() -> None:
    authserv, results = parse_authentication_results(
        "mx.maildesk.test 1; dkim=pass (2048-bit key; unprotected) header.d=telefonia-ruiz.es "
        "header.i=@telefonia-ruiz.es header.s=s1; spf=pass (sender SPF authorized) "
        "smtp.mailfrom=jefe@telefonia-ruiz.es; dmarc=pass (p=none) header.from=telefonia-ruiz.es"
    )
    assert authserv == "mx.maildesk.test"
    assert [(r.method, r.result) for r in results] == [
        ("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")
    ]  # fmt: skip
    assert results[0].properties["header.d"] == "telefonia-ruiz.es"
    assert results[1].properties["smtp.mailfrom"] == STAFF


def verdict(*headers: str, sender: str = STAFF, to: tuple[str, ...] = ()) -> Verdict:
    return authenticate(
        sender=sender, recipients=to, results_headers=headers, staff=[STAFF],
        trusted=TRUSTED, secret=SECRET,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("header", "how"),
    [
        ("mx.maildesk.test; dkim=pass header.d=telefonia-ruiz.es", "dkim via "),
        ("mx.maildesk.test; dkim=pass header.i=@telefonia-ruiz.es", "dkim via "),
        ("mx.maildesk.test; spf=pass smtp.mailfrom=jefe@telefonia-ruiz.es", "spf via "),
        ("mx.maildesk.test; spf=pass smtp.mailfrom=telefonia-ruiz.es", "spf via "),
        ("MX.Maildesk.Test; dmarc=pass header.from=telefonia-ruiz.es", "dmarc via "),
    ],
)  # fmt: skip
def test_a_trusted_pass_for_the_senders_domain_is_accepted(header: str, how: str) -> None:
    result = verdict(header)
    assert result.accepted and result.how == how + "mx.maildesk.test"


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        (("mx.maildesk.test; dkim=pass header.d=telefonia-ruiz.es",), "intruso@evil.test",
         "intruso@evil.test is not on the staff list"),
        (("mx.evil.test; dkim=pass header.d=telefonia-ruiz.es",), STAFF,
         "no Authentication-Results from a trusted server (mx.evil.test)"),
        (("mx.maildesk.test; dkim=pass header.d=evil.test; spf=fail smtp.mailfrom=evil.test",),
         STAFF, "mx.maildesk.test did not authenticate"),
        ((), STAFF, "no Authentication-Results header"),
        # The trusted server's own verdict (topmost) is a fail; a forged pass below it
        # claiming the same authserv-id is not read.
        (("mx.maildesk.test; dkim=fail header.d=telefonia-ruiz.es",
          "mx.maildesk.test; dkim=pass header.d=telefonia-ruiz.es"), STAFF,
         "mx.maildesk.test did not authenticate"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_with_the_reason(
    headers: tuple[str, ...], sender: str, reason: str
) -> None:
    result = verdict(*headers, sender=sender)
    assert not result.accepted and result.reason.startswith(reason)


def test_the_secret_reply_address_is_bound_to_the_incident_and_the_staff_member() -> None:
    address = command_address("soporte@maildesk.test", "MD-2026-000012", STAFF, SECRET)
    assert address.startswith("soporte+c-md-2026-000012-") and address.endswith("@maildesk.test")

    accepted = verdict(to=(address,))
    assert accepted.accepted and accepted.how == "token MD-2026-000012"
    other = command_address("soporte@maildesk.test", "MD-2026-000012", "otro@x.es", SECRET)
    refused = verdict(to=(other,))  # a colleague's link, used by someone else
    assert not refused.accepted and "is not jefe@telefonia-ruiz.es's" in refused.reason
    forged = address.replace(address.split("-")[-1].split("@")[0], "a" * 20)
    assert not verdict(to=(forged,)).accepted
