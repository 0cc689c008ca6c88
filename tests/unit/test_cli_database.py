"""The schema changes only when asked: `db upgrade` and `run`; reading commands say in one line
that the database is missing or behind, and create nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.testing.stackconfig import write_offline_config


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    "command",
    [
        ["incidents", "list"],
        ["incidents", "show", "MD-2026-000001"],
        ["quarantine", "list"],
        ["report", "levels"],
        ["digest", "--preview", "--at", "2026-12-01T08:45:00+01:00"],
    ],
)
def test_reading_commands_on_a_missing_database_say_so_and_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config = write_offline_config(tmp_path)
    before = files(tmp_path)
    assert main(["--config", str(config), *command]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no maildesk database at" in err and "maildesk db upgrade" in err
    assert files(tmp_path) == before


def test_db_upgrade_creates_then_finds_the_schema_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_offline_config(tmp_path)
    assert main(["--config", str(config), "db", "status"]) == 1
    assert "schema none" in capsys.readouterr().out
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert "schema none → " in capsys.readouterr().out
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert "already current" in capsys.readouterr().out
    assert main(["--config", str(config), "db", "status"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": current")
    assert main(["--config", str(config), "incidents", "list", "--json"]) == 0


def test_a_database_behind_the_code_is_named_with_its_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    from maildesk.config import load_config
    from maildesk.db.store import Database, head_revision

    config = write_offline_config(tmp_path)
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    database = Database(load_config(config).database.url)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    database.dispose()
    capsys.readouterr()
    assert main(["--config", str(config), "report", "levels"]) == 1
    assert f"has schema 0007, this maildesk needs {head_revision()}" in capsys.readouterr().err


def test_check_does_not_create_the_database(tmp_path: Path) -> None:
    from maildesk.config import load_config
    from maildesk.runtime.checks import check_database

    config = load_config(write_offline_config(tmp_path))
    before = files(tmp_path)
    result = check_database(config)
    assert result.ok and "will be created" in result.detail
    assert files(tmp_path) == before
