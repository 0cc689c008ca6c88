"""A change reported while IDLE starts is not lost (a race a real server shows only under load)."""

from __future__ import annotations

from types import SimpleNamespace

from maildesk.runtime.intake import _take_reported_changes


def test_an_exists_filed_before_the_idle_continuation_counts_as_news() -> None:
    client = SimpleNamespace(_imap=SimpleNamespace(untagged_responses={"EXISTS": [b"7"]}))
    assert _take_reported_changes(client)  # type: ignore[arg-type]
    assert client._imap.untagged_responses == {}  # consumed: the next IDLE waits normally
    assert not _take_reported_changes(client)  # type: ignore[arg-type]


def test_other_untagged_responses_are_not_news() -> None:
    client = SimpleNamespace(_imap=SimpleNamespace(untagged_responses={"FLAGS": [b"()"]}))
    assert not _take_reported_changes(client)  # type: ignore[arg-type]
    assert not _take_reported_changes(SimpleNamespace())  # type: ignore[arg-type]
