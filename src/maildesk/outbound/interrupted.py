"""Replies whose send a crash interrupted: proven sent by their delivery copy, else queued again.

An outbox row is ``sending`` from its claim until the SMTP server's answer is recorded. A
process that dies in between leaves it so. Once its lease has expired (whoever claimed it
is gone), the delivery copy decides: the copy was a recipient of the same SMTP transaction,
so it exists if and only if the server accepted the reply.

Copies that land in the INBOX are read by intake itself, before this runs, and confirm
their rows there. Copies filed into ``imap.sent_folder`` (a plus address) are never read:
they are searched for here, only for the rows a crash left behind. Intake does this, after
each round, because it holds the IMAP connection; nobody else requeues an interrupted send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from maildesk.clock import Clock
from maildesk.db import store
from maildesk.db.tables import OutboxItem

log = logging.getLogger("maildesk.interrupted")

# (folder, Message-IDs without angle brackets, earliest day a copy can have arrived)
# -> those of them found in the folder
CopyFinder = Callable[[str, Sequence[str], date], set[str]]


@dataclass(frozen=True, slots=True)
class Settled:
    confirmed: int  # their copy was found: sent, not to be sent again
    requeued: int  # no copy: never accepted, sent again


class InterruptedSends:
    def __init__(
        self,
        database: store.Database,
        clock: Clock,
        lease_seconds: float,
        copies_folder: str | None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._folder = copies_folder or None

    def settle(self, find_copies: CopyFinder) -> Settled:
        """Decide every row whose lease has expired: its copy found, or requeued."""
        now = self._clock.now()
        cutoff = now - self._lease
        with self._db.session() as session:
            rows = session.execute(
                select(OutboxItem.id, OutboxItem.message_id, OutboxItem.claimed_at).where(
                    OutboxItem.status == "sending", OutboxItem.claimed_at < cutoff
                )
            ).all()
        if not rows:
            return Settled(0, 0)
        found: set[str] = set()
        if self._folder:
            # A copy arrives after its claim: the search skips the folder's older mail (a day
            # of margin for the server's time zone).
            since = (min(r.claimed_at for r in rows) - timedelta(days=1)).date()
            found = find_copies(self._folder, [r.message_id for r in rows], since)
        with self._db.session() as session:
            confirmed = store.confirm_sent_many(session, sorted(found), now) if found else set()
            requeue = [r.id for r in rows if r.message_id not in confirmed]
            if requeue:
                session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id.in_(requeue),
                        OutboxItem.status == "sending",
                        OutboxItem.claimed_at < cutoff,
                    )
                    .values(status="queued", next_attempt_at=now)
                )
        settled = Settled(len(confirmed), len(requeue))
        if confirmed:
            log.warning(
                "interrupted sends proven by their delivery copy; not sent again",
                extra={"count": settled.confirmed, "folder": self._folder},
            )
        if requeue:
            log.warning("requeued interrupted sends", extra={"count": settled.requeued})
        return settled

    def seconds_to_next_expiry(self) -> float | None:
        """How long until the oldest row now ``sending`` would be settled (negative: due),
        were its sender to die; None when nothing is being sent."""
        with self._db.session() as session:
            oldest: datetime | None = session.scalar(
                select(func.min(OutboxItem.claimed_at)).where(OutboxItem.status == "sending")
            )
        if oldest is None:
            return None
        return (oldest + self._lease - self._clock.now()).total_seconds()
