"""Python wrapper around ``scripts/postgres.sh`` (a private PostgreSQL on 127.0.0.1).

Typical use in a pytest fixture::

    directory = make_server_directory()
    server = PostgresServer.start(directory, port=12432)
    try:
        url = server.fresh_database("test_one")   # an empty database per test
        ...
    finally:
        server.stop()
        remove_server_directory(directory)

The server needs root and runs as the ``postgres`` user, which must reach ``directory``:
pytest's ``tmp_path`` (mode 0700) does not work, use :func:`make_server_directory`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from maildesk.testing import scripts

SCRIPT_ENV = "MAILDESK_POSTGRES_SCRIPT"
DEFAULT_PORT = 15432
ROLE = "maildesk"

# Start may have to apt-get install PostgreSQL on a fresh machine.
_START_TIMEOUT = 900.0
_COMMAND_TIMEOUT = 60.0
_CONNECT_TIMEOUT = 10
_URL = re.compile(r"^url=(?P<url>\S+://[^@\s]+@(?P<host>[^:/\s]+):(?P<port>\d+)/\S+)$", re.M)
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def script_path() -> Path:
    """Return the path of ``postgres.sh`` (env ``MAILDESK_POSTGRES_SCRIPT`` wins)."""
    return scripts.script_path("postgres.sh", SCRIPT_ENV)


def make_server_directory(prefix: str = "maildesk-postgres-") -> Path:
    """Create a fresh directory under /tmp that the services' users can reach."""
    return scripts.make_reachable_directory(prefix)


def remove_server_directory(directory: Path) -> None:
    """Delete a (stopped) directory, ignoring errors."""
    scripts.remove_directory(directory)


def _run_script(
    command: str,
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = _COMMAND_TIMEOUT,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``postgres.sh COMMAND --dir DIRECTORY``; raise RuntimeError with its output."""
    return scripts.run_script(
        script_path(), SCRIPT_ENV, command, directory, env=env, timeout=timeout, check=check
    )


@dataclass(frozen=True)
class PostgresServer:
    """A running private PostgreSQL: role ``maildesk`` owns ``url``'s database."""

    directory: Path
    port: int
    url: str

    @classmethod
    def start(
        cls, directory: Path, *, port: int = DEFAULT_PORT, timeout: float = _START_TIMEOUT
    ) -> PostgresServer:
        """Start the server in ``directory`` (idempotent) and return where it listens."""
        directory = Path(directory).resolve()
        try:
            result = _run_script(
                "start", directory, env={"PGSTACK_PORT": str(port)}, timeout=timeout
            )
        except RuntimeError:
            # A start killed by the timeout could not clean up after itself.
            _run_script("stop", directory, check=False)
            raise
        # An already running server keeps the port it was started with: trust its output.
        found = list(_URL.finditer(result.stdout))
        if not found:
            raise RuntimeError(f"postgres.sh start printed no url= line:\n{result.stdout}")
        return cls(directory, int(found[-1]["port"]), found[-1]["url"])

    def stop(self) -> None:
        """Stop the server (nothing of it is left running); safe when already stopped."""
        _run_script("stop", self.directory)

    def is_running(self) -> bool:
        return _run_script("status", self.directory, check=False).returncode == 0

    def fresh_database(self, name: str) -> str:
        """Create an empty database ``name`` owned by ``maildesk`` (dropping any old one).

        Returns its SQLAlchemy URL, so that each test can have a database of its own.
        """
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
            connect_timeout=_CONNECT_TIMEOUT,
        ) as connection:
            database = sql.Identifier(name)
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(database, sql.Identifier(ROLE))
            )
        return f"{self.url.rsplit('/', 1)[0]}/{name}"

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
