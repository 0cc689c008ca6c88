"""What a daemon process is doing, readable from another process.

The intake thread and the sender note their state and last event here; the note is kept in
memory and written to ``daemon_heartbeats`` at once when the state changes, otherwise at most
every ``every`` (a busy backlog does not pay a write per round). A timer calls ``alive``
every few seconds: it writes a note left unwritten, or, when nothing happened for
``quiet``, the same note again so that a quiet daemon still shows it lives.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from maildesk.clock import Clock
from maildesk.db.store import Database
from maildesk.db.tables import DaemonHeartbeat

log = logging.getLogger("maildesk.heartbeat")

#: Rows of processes not heard of for this long are removed when a daemon starts.
FORGET_AFTER = timedelta(days=7)


@dataclass(slots=True)
class Beat:
    state: str
    event: str
    event_at: datetime
    facts: dict[str, Any] = field(default_factory=dict)


class Heartbeat:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        role: str,
        every: timedelta = timedelta(seconds=2),
        quiet: timedelta = timedelta(seconds=30),
    ) -> None:
        self._db = database
        self._clock = clock
        self.role = role
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{role}"[:200]
        self._every = every
        self._quiet = quiet
        self._dirty = False
        self._lock = threading.Lock()
        self.started_at = clock.now()
        self.beat = Beat("starting", "started", self.started_at)
        self._written_at: datetime | None = None
        self._written_state = ""

    def note(self, state: str, event: str, **facts: Any) -> None:
        """Record what just happened; written now when the state changed, else when due."""
        now = self._clock.now()
        with self._lock:
            self.beat = Beat(state, event, now, {**self.beat.facts, **facts})
            self._dirty = True
            due = (
                state != self._written_state
                or self._written_at is None
                or now - self._written_at >= self._every
            )
        if due:
            self.flush()

    def alive(self) -> None:
        """Write a note left unwritten, or the same note again after ``quiet``."""
        with self._lock:
            last = self._written_at
            due = self._dirty or last is None or self._clock.now() - last >= self._quiet
        if due:
            self.flush()

    def facts(self, **facts: Any) -> None:
        """Update figures (mailbox size, checkpoint…) without it counting as an event."""
        with self._lock:
            self.beat.facts.update(facts)

    def flush(self) -> None:
        """Write the current note (also when nothing changed: it shows the process lives).
        A database that cannot take it now costs a debug line, never the caller."""
        now = self._clock.now()
        with self._lock:
            beat = Beat(self.beat.state, self.beat.event, self.beat.event_at, dict(self.beat.facts))
            self._written_at, self._written_state, self._dirty = now, beat.state, False
        try:
            with self._db.session() as session:
                session.merge(
                    DaemonHeartbeat(
                        worker=self.worker,
                        role=self.role,
                        state=beat.state,
                        event=beat.event[:2000],
                        event_at=beat.event_at,
                        started_at=self.started_at,
                        updated_at=now,
                        facts=beat.facts,
                    )
                )
        except SQLAlchemyError as exc:
            log.debug(f"heartbeat not written: {exc}", extra={"error": str(exc)})

    def forget_old(self) -> None:
        """Remove the rows of processes gone for long (each start adds a row of its own)."""
        with self._db.session() as session:
            session.execute(
                delete(DaemonHeartbeat).where(
                    DaemonHeartbeat.updated_at < self._clock.now() - FORGET_AFTER
                )
            )
