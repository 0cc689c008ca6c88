"""Everyday commands as a new user meets them: clear refusals, output fit for scripts and
pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.config import load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident
from maildesk.testing.stackconfig import write_offline_config


def with_incidents(tmp_path: Path, count: int) -> Path:
    path = write_offline_config(tmp_path)
    database = Database(load_config(path).database.url)
    database.migrate()
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with database.session() as session:
        for number in range(1, count + 1):
            session.add(
                Incident(reference=f"MD-2026-{number:06d}", category="technical",
                         category_confidence=0.9, category_reason="test", kind="outage",
                         kind_reason="test", priority="P1", priority_reason="test",
                         language="es", client_address=f"c{number}@clientes.test",
                         subject="Sin internet desde esta mañana " * 3, first_response_due=now,
                         resolution_due=now, deadline_reason="test", created_at=now,
                         updated_at=now)
            )  # fmt: skip
    database.dispose()
    return path


def test_incidents_list_json_is_one_array_even_when_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = with_incidents(tmp_path, 0)
    assert main(["--config", str(path), "incidents", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    (tmp_path / "more").mkdir()
    path = with_incidents(tmp_path / "more", 2)
    assert main(["--config", str(path), "incidents", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["reference"] for row in rows] == ["MD-2026-000002", "MD-2026-000001"]


@pytest.mark.parametrize("args", [["--json"], []])
def test_output_piped_into_a_reader_that_leaves_ends_quietly(
    tmp_path: Path, args: list[str]
) -> None:
    path = with_incidents(tmp_path, 1500)  # far more than a pipe holds
    command = [sys.executable, "-m", "maildesk.cli", "--config", str(path), "incidents",
               "list", "--limit", "1500", *args]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(100)) == 100
    proc.stdout.close()  # as `head` does
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_templates_preview_in_a_language_we_do_not_have_lists_the_ones_we_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_offline_config(tmp_path)
    assert main(["--config", str(path), "templates", "preview", "ack", "--lang", "fr"]) == 2
    assert capsys.readouterr().err.strip() == (
        "maildesk: no templates in 'fr'; available: es, ca, en"
    )
    assert main(["--config", str(path), "templates", "preview", "ack", "--lang", "ca"]) == 0
    assert capsys.readouterr().out.startswith("Subject: ")


def test_run_once_with_an_unreachable_server_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_offline_config(tmp_path)  # IMAP on port 1: nothing listens there
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", str(path), "run", "--once"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("maildesk: cannot reach the IMAP server 127.0.0.1:1: ")
    assert not any("Traceback" in line for line in err)


def test_templates_check_and_check_count_the_templates_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maildesk.runtime.checks import check_templates

    path = write_offline_config(tmp_path)
    assert main(["--config", str(path), "templates", "check"]) == 0
    line = capsys.readouterr().out.strip()
    result = check_templates(load_config(path), datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert line == f"ok    {result.detail}"
    assert result.detail.startswith(
        "12 templates (ack, ack_closed, followup, digest, alert, handoff, reassigned, relay, "
        "commands, reply, resolved, low_score)"
    )


def test_init_writes_a_starter_that_works_and_never_overwrites_unasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = tmp_path / "desk"
    assert main(["init", str(desk)]) == 0  # no configuration needed to write one
    config = desk / "maildesk.toml"
    assert f"wrote {config}" in capsys.readouterr().out
    loaded = load_config(config)
    assert loaded.templates_dir == desk / "templates"
    assert (desk / "templates" / "es" / "ack.txt.j2").is_file()
    (desk / "templates" / "es" / "ack.txt.j2").write_text("tuned by the admin")
    assert main(["init", str(desk)]) == 2
    assert "already exist(s); --force overwrites them" in capsys.readouterr().err
    assert (desk / "templates" / "es" / "ack.txt.j2").read_text() == "tuned by the admin"
    assert main(["init", str(desk), "--force"]) == 0
    assert (desk / "templates" / "es" / "ack.txt.j2").read_text() != "tuned by the admin"
