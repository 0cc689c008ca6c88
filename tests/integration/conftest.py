"""Integration fixtures: a private PostgreSQL (once per session) and a fresh database per test."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator

import pytest

from maildesk.testing.postgres import (
    PostgresServer,
    make_server_directory,
    remove_server_directory,
)

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """PostgreSQL on 127.0.0.1, started by the project's own script, stopped even on failure."""
    base = int(os.environ.get("MAILDESK_TEST_PORT_BASE", "12000"))
    directory = make_server_directory()
    try:
        server = PostgresServer.start(directory, port=base + 432)
        try:
            yield server
        finally:
            server.stop()
    finally:
        remove_server_directory(directory)


@pytest.fixture
def pg_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of this test's own, owned by ``maildesk``."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    return postgres.fresh_database(f"t{next(_database_numbers)}_{slug}"[:63])
