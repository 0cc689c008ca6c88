"""The CLI against a real stack, permanent SMTP refusals, and the demo mails' outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.cli import main
from maildesk.config import Config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, Message, OutboxItem
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT, write_local_config
from maildesk.testing.support import client_mail, count_rows, run_once

pytestmark = pytest.mark.stack

DEMO = Path(__file__).resolve().parents[2] / "demo" / "mails"


def config_path(config: Config) -> str:
    return str(Path(config.database.url.removeprefix("sqlite:///")).parent / "maildesk.toml")


def test_check_reports_each_connection(
    mail: MailStack, stack_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config_path(stack_config), "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out] == [
        "config",
        "database",
        "templates",
        "classifier",
        "imap",
        "smtp",
    ]
    assert all(line.startswith("ok") for line in out)
    assert "model trained" in out[3] and "macro-F1" in out[3]
    assert "IDLE offered" in out[4]


def test_check_tries_the_copy_address(
    mail: MailStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_config(tmp_path, mail.imap_port, mail.smtp_port, copy_to_support=True)
    assert main(["--config", str(path), "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "copies filed in Sent" in out[4]
    assert "copy address support+Sent@maildesk.test accepted" in out[5]

    path.write_text(path.read_text().replace("support+Sent@", "nobody+Sent@"))
    assert main(["--config", str(path), "check"]) == 1
    smtp_line = capsys.readouterr().out.splitlines()[-1]
    assert smtp_line.startswith("FAIL  smtp")
    assert "copy address nobody+Sent@maildesk.test refused: 550" in smtp_line


def test_check_fails_clearly_when_smtp_is_down(
    mail: MailStack, stack_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    mail.stop_smtp()
    assert main(["--config", config_path(stack_config), "check"]) == 1
    smtp_line = capsys.readouterr().out.splitlines()[-1]
    assert smtp_line.startswith("FAIL  smtp")
    assert f"127.0.0.1:{mail.smtp_port}" in smtp_line


def test_permanent_refusal_fails_the_reply_at_once_and_keeps_the_incident(
    mail: MailStack, stack_config: Config
) -> None:
    ghost = client_mail(
        "cliente1@clientes.test",
        "Factura",
        "Revisen la factura.",
        headers={"Reply-To": "ghost@clientes.test"},
    )
    mail.append(SUPPORT, ghost.as_bytes())

    summary = run_once(stack_config)

    assert summary.outcomes == {"new_incident": 1}
    assert summary.sent.failed == 1 and summary.sent.retried == 0
    db = Database(stack_config.database.url)
    with db.session() as session:
        [row] = session.scalars(select(OutboxItem)).all()
        [incident] = session.scalars(select(Incident)).all()
    db.dispose()
    assert row.status == "failed" and row.attempts == 1
    assert "550" in row.last_error
    assert incident.client_address == "ghost@clientes.test"
    assert incident.acknowledged_at is None


def test_incidents_list_and_show_for_scripts(
    mail: MailStack, stack_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = client_mail(
        "bar.pepe@clientes.test",
        "Datáfono no conecta",
        "El datáfono no conecta desde ayer.",
        name="Pepe Ruiz",
    )
    mail.append(SUPPORT, sent.as_bytes())
    run_once(stack_config)
    capsys.readouterr()

    assert main(["--config", config_path(stack_config), "incidents", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["client"] == "bar.pepe@clientes.test"
    assert row["client_name"] == "Pepe Ruiz"
    assert row["kind"] == "card_terminal" and row["category"] == "technical"

    assert (
        main(
            ["--config", config_path(stack_config), "incidents", "show", row["reference"], "--json"]
        )
        == 0
    )
    detail = json.loads(capsys.readouterr().out)
    assert detail["messages"][0]["message_id"] == sent["Message-ID"].strip("<>")
    assert detail["replies"][0]["status"] == "sent"
    assert detail["events"][0]["action"] == "created"

    assert main(["--config", config_path(stack_config), "incidents", "list"]) == 0
    table = capsys.readouterr().out
    assert row["reference"] in table and "card_terminal" in table
    assert main(["--config", config_path(stack_config), "incidents", "show", "MD-1999-000001"]) == 1


EXPECTED = {
    # file prefix: (outcome, language of the reply, category)
    "01": ("new_incident", "es", "technical"),
    "02": ("new_incident", "es", "billing"),
    "04": ("new_incident", "ca", "technical"),
    "05": ("new_incident", "es", "technical"),
    "06": ("new_incident", "es", "technical"),
    "07": ("new_incident", "ca", "technical"),
    "08": ("new_incident", "en", "technical"),
    "10": ("new_incident", "ca", "billing"),
    "11": ("ignored", None, None),
    "12": ("new_incident", "ca", "billing"),
    "13": ("new_incident", "en", "technical"),
}


def test_demo_mails_get_the_right_outcome_language_and_category(
    mail: MailStack, stack_config: Config
) -> None:
    files = sorted(p for p in DEMO.glob("*.eml") if p.name[:2] in EXPECTED)
    for path in files:
        mail.append(SUPPORT, path.read_bytes())

    summary = run_once(stack_config)

    assert summary.outcomes == {"new_incident": 10, "ignored": 1}
    db = Database(stack_config.database.url)
    with db.session() as session:
        messages = session.scalars(select(Message).order_by(Message.uid)).all()
        got = {}
        for path, message in zip(files, messages, strict=True):
            incident = session.get(Incident, message.incident_id) if message.incident_id else None
            got[path.name[:2]] = (
                message.disposition,
                incident.language if incident else None,
                incident.category if incident else None,
            )
    db.dispose()
    assert got == EXPECTED
    # Every incident was acknowledged in its client's language.
    assert count_rows(stack_config, OutboxItem, OutboxItem.status == "sent") == 10
    catalan = mail.wait_for_messages("gestoria.llobregat@clientes.test", 2)
    assert all(b"Content-Language: ca" in raw for raw in catalan)


def broken_templates(tmp_path: Path, config: Config) -> Path:
    import shutil

    copy = tmp_path / "templates"
    shutil.copytree(config.templates_dir, copy)
    for name in ("ack", "ack_closed"):  # whatever the hour the test runs at
        target = copy / "ca" / f"{name}.txt.j2"
        target.write_text(target.read_text() + "\n{{ deadline | when }} {{ mystery_value }}\n")
    return copy


def test_a_broken_template_stops_the_daemon_at_start_with_its_name(
    mail: MailStack, stack_config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maildesk.clock import SystemClock
    from maildesk.config import ConfigError
    from maildesk.runtime.daemon import build_parts

    broken = stack_config.model_copy(
        update={"templates_dir": broken_templates(tmp_path, stack_config)}
    )
    with pytest.raises(
        ConfigError, match=r"ca/ack(_closed)?\.txt\.j2:\d+: unknown variable 'mystery_value'"
    ):
        build_parts(broken, SystemClock())
    path = Path(config_path(stack_config))
    path.write_text(
        path.read_text().replace(
            f'templates_dir = "{stack_config.templates_dir}"',
            f'templates_dir = "{tmp_path / "templates"}"',
        )
    )
    assert main(["--config", str(path), "check"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if " templates " in x)
    assert line.startswith("FAIL") and "mystery_value" in line


def test_a_template_failing_at_run_time_keeps_the_incident_and_says_why(
    mail: MailStack, stack_config: Config, tmp_path: Path
) -> None:
    from maildesk.clock import SystemClock
    from maildesk.db.tables import IncidentEvent
    from maildesk.runtime.daemon import Daemon, build_parts

    parts = build_parts(stack_config, SystemClock())
    # The templates break after start (an admin edit): the next mail still becomes an incident.
    broken_templates(tmp_path, stack_config)
    parts.pipeline._renderer = type(parts.pipeline._renderer)(
        tmp_path / "templates", timezone="Europe/Madrid"
    )
    catalan = client_mail(
        "gestoria.llobregat@clientes.test",
        "La centraleta no funciona",
        "Bon dia, la centraleta no desvia les trucades des d'ahir. Gràcies.",
    )
    mail.append(SUPPORT, catalan.as_bytes())
    import asyncio

    summary = asyncio.run(Daemon(parts).run_once())
    parts.database.dispose()

    assert summary.outcomes == {"new_incident": 1}
    assert summary.sent.sent == 0
    assert (
        count_rows(
            stack_config,
            IncidentEvent,
            IncidentEvent.action == "no-reply",
            IncidentEvent.detail.like("template error:%mystery_value%"),
        )
        == 1
    )
    assert mail.message_count(SUPPORT) == 0  # handled, not stuck
