"""Small helpers shared by the integration tests, the demo and the benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select

from maildesk.clock import Clock, SystemClock
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.runtime.daemon import Daemon, OnceSummary, build_parts
from maildesk.testing.stackconfig import SUPPORT


def client_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    name: str = "Pepe Martínez",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A plain client mail to the support address, with a fresh Message-ID."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="clientes.test")
    msg["Date"] = email.utils.format_datetime(email.utils.localtime())
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg


@dataclass(frozen=True, slots=True)
class AheadClock:
    """The system clock read ``ahead``: a run "after" a lease has expired, without waiting
    for it (picklable, so the sender process gets the same view)."""

    ahead: timedelta

    def now(self) -> datetime:
        return SystemClock().now() + self.ahead


def run_once(config: Config, clock: Clock | None = None) -> OnceSummary:
    """``maildesk run --once`` in-process, on its own database connection."""
    parts = build_parts(config, clock or SystemClock())
    try:
        return asyncio.run(Daemon(parts).run_once())
    finally:
        parts.database.dispose()


@contextlib.contextmanager
def daemon_running(daemon: Daemon, stopped: threading.Event | None = None) -> Iterator[Daemon]:
    """``daemon.run()`` in a thread for the duration of the block, then stopped.

    ``stopped`` is set as soon as ``run()`` returns or fails, so that a waiting caller can
    give up at once; a failure is raised again when the block ends, as the cause."""
    loops: list[asyncio.AbstractEventLoop] = []
    failures: list[BaseException] = []
    started = threading.Event()
    ended = stopped or threading.Event()

    async def serve() -> None:
        loops.append(asyncio.get_running_loop())
        started.set()
        await daemon.run(install_signals=False)

    def target() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)
        finally:
            started.set()
            ended.set()

    thread = threading.Thread(target=target, name="daemon")
    thread.start()
    started.wait(timeout=10)
    try:
        yield daemon
    finally:
        if loops and not ended.is_set():
            loops[0].call_soon_threadsafe(daemon.request_stop)
        thread.join(timeout=30)
    if thread.is_alive():
        raise AssertionError("the daemon did not stop within 30 s")
    if failures:
        raise AssertionError(f"the daemon failed: {failures[0]!r}") from failures[0]


def count_rows(config: Config, model: type, *where: Any) -> int:
    database = Database(config.database.url)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        database.dispose()


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``predicate`` every 0.1 s; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
