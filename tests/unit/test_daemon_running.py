"""The test helper that runs a daemon in a thread must not hide a daemon that died."""

from __future__ import annotations

import asyncio
import threading
from typing import cast

import pytest

from maildesk.runtime.daemon import Daemon
from maildesk.testing.support import daemon_running


class FailingDaemon:
    async def run(self, install_signals: bool = True) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("database is locked")

    def request_stop(self) -> None:
        raise AssertionError("a daemon that already stopped is not asked to stop")


class ServingDaemon:
    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.asked = False

    async def run(self, install_signals: bool = True) -> None:
        await self.stop.wait()

    def request_stop(self) -> None:
        self.asked = True
        self.stop.set()


def test_a_daemon_that_dies_sets_stopped_at_once_and_its_error_is_raised() -> None:
    stopped = threading.Event()
    with (
        pytest.raises(AssertionError, match="database is locked") as raised,
        daemon_running(cast(Daemon, FailingDaemon()), stopped),
    ):
        assert stopped.wait(timeout=5), "stopped was not set when run() failed"
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_a_running_daemon_is_asked_to_stop_at_the_end_of_the_block() -> None:
    daemon = ServingDaemon()
    stopped = threading.Event()
    with daemon_running(cast(Daemon, daemon), stopped):
        assert not stopped.wait(timeout=0.2)
    assert daemon.asked and stopped.is_set()
