"""Sends a crash interrupted: settled by their delivery copy once their lease has expired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from maildesk.clock import FrozenClock
from maildesk.config import load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, OutboxItem
from maildesk.inbound.pipeline import InboundMail
from maildesk.outbound.interrupted import InterruptedSends
from maildesk.runtime.daemon import build_parts
from maildesk.testing.stackconfig import write_offline_config
from maildesk.testing.support import client_mail

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEASE = 300.0


@pytest.fixture
def database(tmp_path: Path) -> Database:
    """Three acknowledged incidents whose replies are ``sending``: claimed 10 min, 6 min
    and 1 min ago (the first two past their 5-minute lease)."""
    config = load_config(write_offline_config(tmp_path))
    parts = build_parts(config, FrozenClock(NOW))
    for uid in (1, 2, 3):
        raw = client_mail(f"cliente{uid}@clientes.test", "Sin línea", "No hay tono.").as_bytes()
        parts.pipeline.handle(InboundMail("INBOX", 1, uid, len(raw), raw))
    with parts.database.session() as session:
        for row_id, minutes in zip(
            session.scalars(select(OutboxItem.id).order_by(OutboxItem.id)), (10, 6, 1), strict=True
        ):
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == row_id)
                .values(status="sending", claimed_at=NOW - timedelta(minutes=minutes), attempts=1)
            )
    return parts.database


def rows(database: Database) -> list[OutboxItem]:
    with database.session() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_an_expired_send_with_its_copy_is_sent_one_without_is_requeued(
    database: Database,
) -> None:
    old, older_copy, fresh = rows(database)
    asked: list[tuple[str, list[str], date]] = []

    def find(folder: str, message_ids: Sequence[str], since: date) -> set[str]:
        asked.append((folder, list(message_ids), since))
        return {older_copy.message_id}

    settled = InterruptedSends(database, FrozenClock(NOW), LEASE, "Sent").settle(find)

    assert (settled.confirmed, settled.requeued) == (1, 1)
    # Not the fresh one; the oldest claim (10 min ago) less a day of margin bounds the search.
    assert asked == [("Sent", [old.message_id, older_copy.message_id], date(2026, 11, 23))]
    after = rows(database)
    assert [r.status for r in after] == ["queued", "sent", "sending"]
    assert after[0].next_attempt_at == NOW and after[0].sent_at is None
    assert after[1].confirmed_at == NOW and after[1].sent_at == NOW
    assert after[2].claimed_at == fresh.claimed_at
    with database.session() as session:
        acknowledged = session.scalar(
            select(Incident.acknowledged_at).where(Incident.id == after[1].incident_id)
        )
    assert acknowledged == NOW


def test_without_a_copies_folder_nothing_is_searched_and_expired_sends_are_requeued(
    database: Database,
) -> None:
    def find(folder: str, message_ids: Sequence[str], since: date) -> set[str]:
        raise AssertionError("no folder to search")

    settled = InterruptedSends(database, FrozenClock(NOW), LEASE, None).settle(find)

    assert (settled.confirmed, settled.requeued) == (0, 2)
    assert [r.status for r in rows(database)] == ["queued", "queued", "sending"]


def test_the_next_lease_to_expire_is_the_oldest_send_in_progress(database: Database) -> None:
    clock = FrozenClock(NOW)
    interrupted = InterruptedSends(database, clock, LEASE, "Sent")
    assert interrupted.seconds_to_next_expiry() == pytest.approx(-300.0)  # 10 min ago
    interrupted.settle(lambda folder, ids, since: set())
    assert interrupted.seconds_to_next_expiry() == pytest.approx(240.0)  # the 1-minute one
    clock.advance(timedelta(minutes=5))
    interrupted.settle(lambda folder, ids, since: set())
    assert interrupted.seconds_to_next_expiry() is None  # nothing in progress
