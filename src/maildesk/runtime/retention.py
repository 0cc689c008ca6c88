"""Old delivery copies deleted from the copies folder, once a day, so that one copy per
reply does not fill the support mailbox's quota over the years.

Only our own copies are touched: mail carrying our loop header with the support address
(``X-Maildesk-Loop``), received before the cutoff. The folder may also hold the
distributor's own sent mail; that is never deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from maildesk.clock import Clock

log = logging.getLogger("maildesk.retention")

# (folder, received before this day, loop-header value) -> how many were deleted
CopyPruner = Callable[[str, date, str], int]
EVERY = timedelta(hours=24)


class CopyRetention:
    def __init__(self, clock: Clock, folder: str, days: int, marker: str) -> None:
        self._clock = clock
        self._folder = folder
        self._days = days
        self._marker = marker
        self._last: datetime | None = None

    def run_if_due(self, prune: CopyPruner) -> int | None:
        """Prune at the first call and then once a day; None when not due."""
        now = self._clock.now()
        if self._last is not None and now - self._last < EVERY:
            return None
        self._last = now
        before = (now - timedelta(days=self._days)).date()
        deleted = prune(self._folder, before, self._marker)
        if deleted:
            log.info(
                f"deleted {deleted} delivery copies received before {before.isoformat()} "
                f"from {self._folder} (imap.sent_retention_days = {self._days})",
                extra={"deleted": deleted, "before": before.isoformat(), "folder": self._folder},
            )
        return deleted
