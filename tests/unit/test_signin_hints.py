"""One wording for secret files others can read, and one pattern for "this server takes no
passwords any more" over IMAP and SMTP alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.oauth2.sasl import BASIC_AUTH_OFF
from maildesk.secretfile import readable_by_others


def test_a_secret_file_must_be_its_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("x")
    path.chmod(0o600)
    assert readable_by_others(path) is None
    path.chmod(0o640)
    assert readable_by_others(path) == (
        f"{path} is readable by others (mode 640): run chmod 600 {path}"
    )
    with pytest.raises(FileNotFoundError):
        readable_by_others(tmp_path / "missing")


@pytest.mark.parametrize(
    "refusal",
    [
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",  # M365 SMTP
        "AUTHENTICATE failed: BasicAuthBlocked",  # M365 IMAP
        "[ALERT] Application-specific password required",  # Gmail
        "Web login required: https://support.google.com/mail/answer/78754",
    ],
)
def test_providers_refusing_passwords_are_recognised(refusal: str) -> None:
    assert BASIC_AUTH_OFF.search(refusal)


@pytest.mark.parametrize(
    "refusal", ["535 5.7.8 Authentication credentials invalid", "[AUTHENTICATIONFAILED] Invalid"]
)
def test_an_ordinary_wrong_password_is_not_taken_for_one(refusal: str) -> None:
    assert BASIC_AUTH_OFF.search(refusal) is None
