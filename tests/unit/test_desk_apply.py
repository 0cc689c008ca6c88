"""What the staff's commands change, through the one set of rules shared by the mail path
and the CLI: status, triage, notes, time and visits, each an event naming who and how."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.cli import main
from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, IncidentEvent, OutboxItem, TimeEntry
from maildesk.desk.apply import apply_commands
from maildesk.desk.commands import parse_commands
from maildesk.inbound.pipeline import InboundMail
from maildesk.runtime.daemon import build_parts
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import write_offline_config
from maildesk.testing.support import client_mail

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STAFF = "jefe@telefonia-ruiz.es"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = load_config(write_offline_config(tmp_path))
    raw = client_mail("ana@clientes.test", "Sin ADSL", "No tenemos ADSL desde ayer.").as_bytes()
    pipeline = build_parts(config, FrozenClock(NOW)).pipeline
    [handled] = pipeline.handle_batch([InboundMail("INBOX", 7, 1, len(raw), raw)])
    assert handled.reference == "MD-2026-000001"
    return config


def run(config: Config, text: str) -> list[tuple[bool, str]]:
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        outcomes = apply_commands(
            session, config, build_calendar(config.schedule), incident,
            parse_commands(text).commands, actor=STAFF, how="dkim via mx.maildesk.test", now=NOW,
        )  # fmt: skip
    return [(o.applied, o.detail) for o in outcomes]


def test_commands_change_the_incident_and_each_is_an_event_with_who_and_how(
    config: Config,
) -> None:
    outcomes = run(
        config,
        "prioridad P3\nnota llamar por la tarde\ntiempo 1h30\nvisita 45,50\n"
        "resolver router cambiado\n",
    )

    assert outcomes == [
        (True, "priority P3"),
        (True, "note added"),
        (True, "90 min logged"),
        (True, "visit of 45.50 € logged"),
        (True, "status resolved"),
    ]
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        assert (incident.status, incident.priority) == ("resolved", "P3")
        entries = list(session.scalars(select(TimeEntry).order_by(TimeEntry.id)))
        assert [(e.kind, e.minutes, e.cost_cents) for e in entries] == [
            ("time", 90, 0),
            ("visit", 0, 4550),
        ]
        commands = [
            e for e in session.scalars(select(IncidentEvent)) if e.action.startswith("command:")
        ]
        assert len(commands) == 5
        assert {e.actor for e in commands} == {f"{STAFF} (dkim via mx.maildesk.test)"}


def test_what_cannot_be_applied_is_refused_and_the_rest_goes_on(config: Config) -> None:
    outcomes = run(config, "tipo inexistente\nresponder ya vamos\nesperar falta el contrato\n")

    assert outcomes[0][0] is False and "inexistente" in outcomes[0][1]
    assert outcomes[1] == (False, "no templates here to write to the client with")
    assert outcomes[2] == (True, "status waiting on the client")


def test_the_cli_mirrors_the_mail_commands(config: Config, tmp_path: Path) -> None:
    path = str(tmp_path / "maildesk.toml")

    assert main(["--config", path, "incidents", "time", "MD-2026-000001", "45m"]) == 0
    assert main(["--config", path, "incidents", "resolve", "MD-2026-000001", "listo"]) == 0
    assert main(["--config", path, "incidents", "time", "MD-2026-000001", "mucho"]) == 2
    assert main(["--config", path, "incidents", "reopen", "MD-2026-000001"]) == 0
    reply = ["incidents", "reply", "MD-2026-000001", "Pasamos", "mañana."]
    assert main(["--config", path, *reply]) == 0

    with Database(config.database.url).session() as session:
        assert session.scalars(select(Incident.status)).one() == "open"
        assert list(session.scalars(select(TimeEntry.minutes))) == [45]
        [sent] = session.scalars(select(OutboxItem).where(OutboxItem.purpose == "reply"))
        assert sent.recipients == "ana@clientes.test"
        body = sent.raw.decode()
        assert "Pasamos ma=C3=B1ana." in body and "In-Reply-To:" in body
        # resolving from the CLI told the client too, in their thread
        [notice] = session.scalars(select(OutboxItem).where(OutboxItem.purpose == "resolved"))
        assert notice.recipients == "ana@clientes.test"
        assert "listo" in notice.raw.decode() and "In-Reply-To:" in notice.raw.decode()
        incident = session.scalars(select(Incident)).one()
        assert incident.survey_sent_at is not None and incident.reopened_count == 1
