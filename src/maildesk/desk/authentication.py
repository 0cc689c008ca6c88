"""Is a command mail really from the staff member it names?

A ``From`` header proves nothing. A command mail is obeyed only when its sender is on the
staff list **and** one of these holds:

* the topmost ``Authentication-Results`` header (RFC 8601) written by a receiving server we
  trust (its authserv-id in ``desk.trusted_authserv_ids``) shows DKIM passing for the
  sender's domain, SPF passing for the sender's address or domain, or DMARC passing for it.
  Only the topmost one of a trusted id counts: the receiving server adds its own on top,
  and a sender can forge any number below it;
* it was sent to a secret reply address of one incident (``soporte+c-<ref>-<mac>@…``), the
  MAC binding the incident's reference to that staff member (HMAC-SHA256 with the secret
  from ``desk.token_secret_env``); alert and digest links carry it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from maildesk.desk.messages import Said, said

_COMMENT = re.compile(r"\([^()]*\)")
_PROPERTY = re.compile(r"([a-z]+)\.([a-z-]+)=(\S+)", re.IGNORECASE)
_RESULT = re.compile(r"^\s*([a-z-]+)\s*=\s*([a-z]+)", re.IGNORECASE)
_TOKEN_ADDRESS = re.compile(r"^(?P<local>[^+@]+)\+c-(?P<ref>[a-z0-9-]+?)-(?P<mac>[a-z2-7]{20})@")


@dataclass(frozen=True, slots=True)
class MethodResult:
    method: str  # dkim, spf, dmarc …
    result: str  # pass, fail, none …
    properties: dict[str, str]  # "header.d" → "example.es", "smtp.mailfrom" → …


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    how: str  # "dkim via mx.example.es", "spf via …", "token MD-2026-000012", or ""
    why_not: Said | None = None  # for the refusal answer (worded in its language) and the log
    reference: str | None = None  # the incident a valid secret reply address names

    @property
    def reason(self) -> str:
        return self.why_not.text() if self.why_not is not None else ""


def parse_authentication_results(value: str) -> tuple[str, list[MethodResult]]:
    """(authserv-id, results) of one ``Authentication-Results`` value; comments dropped."""
    text = " ".join(_COMMENT.sub(" ", value).split())
    parts = [p.strip() for p in text.split(";")]
    authserv = parts[0].split(" ")[0].lower() if parts and parts[0] else ""
    results = []
    for part in parts[1:]:
        found = _RESULT.match(part)
        if found is None:
            continue
        properties = {
            f"{kind.lower()}.{name.lower()}": val.strip('"').lower()
            for kind, name, val in _PROPERTY.findall(part[found.end() :])
        }
        results.append(MethodResult(found.group(1).lower(), found.group(2).lower(), properties))
    return authserv, results


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _aligned(result: MethodResult, sender: str) -> bool:
    domain = _domain(sender)
    p = result.properties
    if result.method == "dkim":
        identity = p.get("header.i", "")
        return p.get("header.d") == domain or identity == sender or identity == f"@{domain}"
    if result.method == "spf":
        mailfrom = p.get("smtp.mailfrom", "")
        return mailfrom in (sender, domain) or _domain(mailfrom) == domain
    if result.method == "dmarc":
        return p.get("header.from") == domain
    return False


def by_headers(results_headers: Sequence[str], sender: str, trusted: Collection[str]) -> Verdict:
    """The decision from the ``Authentication-Results`` headers, in their order (topmost
    first): only the first one written by a trusted authserv-id is read."""
    trusted = {t.lower() for t in trusted}
    ids = []
    for value in results_headers:
        authserv, results = parse_authentication_results(value)
        ids.append(authserv)
        if authserv not in trusted:
            continue
        for result in results:
            if result.result == "pass" and _aligned(result, sender):
                return Verdict(True, f"{result.method} via {authserv}")
        shown = ", ".join(f"{r.method}={r.result}" for r in results) or "no results"
        return Verdict(
            False, "", said("not-authenticated", server=authserv, sender=sender, shown=shown)
        )
    if not ids:
        return Verdict(False, "", said("no-results"))
    return Verdict(False, "", said("untrusted", ids=", ".join(ids)))


def _mac(secret: bytes, reference: str, staff: str) -> str:
    digest = hmac.new(secret, f"{reference.upper()}|{staff.lower()}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:20]


def command_address(support: str, reference: str, staff: str, secret: bytes) -> str:
    """The secret reply address of one incident for one staff member."""
    local, _, domain = support.partition("@")
    return f"{local}+c-{reference.lower()}-{_mac(secret, reference, staff)}@{domain}"


def by_address(recipients: Sequence[str], staff: str, secret: bytes) -> Verdict:
    """Whether one of the recipients is a valid secret reply address for ``staff``."""
    for address in recipients:
        found = _TOKEN_ADDRESS.match(address.lower())
        if found is None:
            continue
        reference = found.group("ref").upper()
        if hmac.compare_digest(found.group("mac"), _mac(secret, reference, staff)):
            return Verdict(True, f"token {reference}", None, reference)
        return Verdict(False, "", said("wrong-address", address=address, sender=staff))
    return Verdict(False, "")


def authenticate(
    *,
    sender: str,
    recipients: Sequence[str],
    results_headers: Sequence[str],
    staff: Collection[str],
    trusted: Collection[str],
    secret: bytes | None,
) -> Verdict:
    """Staff address and (trusted authentication result or secret reply address)."""
    sender = sender.lower()
    if sender not in {s.lower() for s in staff}:
        return Verdict(False, "", said("not-staff", sender=sender))
    if secret:
        verdict = by_address(recipients, sender, secret)
        if verdict.accepted or verdict.why_not is not None:
            return verdict
    return by_headers(results_headers, sender, trusted)
