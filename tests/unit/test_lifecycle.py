"""Status and triage changes: the paused clock, recomputed deadlines, the CLI that does it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from maildesk.cli import main
from maildesk.config import Config, load_config
from maildesk.db.lifecycle import InvalidChange, change_status, change_triage
from maildesk.db.store import Database, next_reference
from maildesk.db.tables import Incident, IncidentEvent
from maildesk.schedule import build_calendar

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
MADRID = ZoneInfo("Europe/Madrid")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Config, Database, Path]:
    text = EXAMPLE.read_text().replace(
        'url = "sqlite:///maildesk.db"', f'url = "sqlite:///{tmp_path / "t.db"}"'
    )
    path = tmp_path / "maildesk.toml"
    path.write_text(text)
    config = load_config(path)
    database = Database(config.database.url)
    database.migrate()
    return config, database, path


def new_incident(database: Database, config: Config, created: datetime) -> str:
    """A P2 card-terminal incident (1 business day = 9 h to resolve) created at ``created``."""
    calendar = build_calendar(config.schedule)
    first, resolution = config.targets(config.kind("card_terminal"), "P2")

    with database.session() as session:
        reference = next_reference(session, "MD", 2026)
        session.add(
            Incident(
                reference=reference,
                status="open",
                category="technical",
                category_confidence=0.9,
                category_reason="test",
                unsure=False,
                kind="card_terminal",
                kind_reason="test",
                priority="P2",
                priority_reason="test",
                language="es",
                client_address="bar@clientes.test",
                client_name="",
                subject="Datáfono",
                first_response_due=calendar.add(created, timedelta(minutes=first)),
                resolution_due=calendar.add(created, timedelta(minutes=resolution)),
                deadline_reason="test",
                created_at=created,
                updated_at=created,
            )
        )
    return reference


def get(database: Database, reference: str) -> Incident:
    with database.session() as session:
        return session.scalars(select(Incident).where(Incident.reference == reference)).one()


def test_waiting_pauses_and_resuming_moves_the_deadline(
    setup: tuple[Config, Database, Path],
) -> None:
    config, database, _ = setup
    calendar = build_calendar(config.schedule)
    reference = new_incident(database, config, local(2026, 11, 24, 10, 0))  # Tuesday 10:00
    assert get(database, reference).resolution_due == local(2026, 11, 25, 10, 0)
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        change_status(
            session,
            incident,
            "waiting",
            now=local(2026, 11, 24, 12, 0),
            calendar=calendar,
            actor="test",
        )
    # Waiting from Tue 12:00 to Wed 9:30: 2 h + 4 h + 0.5 h = 6.5 business hours.
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        change_status(
            session,
            incident,
            "open",
            now=local(2026, 11, 25, 9, 30),
            calendar=calendar,
            actor="client",
        )
    incident = get(database, reference)
    assert incident.paused_seconds == int(6.5 * 3600)
    assert incident.paused_at is None
    # Wed 10:00 + 6.5 business hours = Wed 18:30.
    assert incident.resolution_due == local(2026, 11, 25, 18, 30)


def test_resuming_at_once_leaves_a_deadline_on_a_closing_time_alone(
    setup: tuple[Config, Database, Path],
) -> None:
    config, database, _ = setup
    calendar = build_calendar(config.schedule)
    reference = new_incident(database, config, local(2026, 11, 23, 14, 0))  # Monday, closed
    due = get(database, reference).resolution_due
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        change_status(
            session,
            incident,
            "waiting",
            now=local(2026, 11, 23, 14, 10),
            calendar=calendar,
            actor="test",
        )
        change_status(
            session,
            incident,
            "open",
            now=local(2026, 11, 23, 15, 0),
            calendar=calendar,
            actor="test",
        )  # no business time passed
    assert get(database, reference).resolution_due == due


def test_new_priority_or_kind_recomputes_deadlines_from_arrival(
    setup: tuple[Config, Database, Path],
) -> None:
    config, database, _ = setup
    calendar = build_calendar(config.schedule)
    reference = new_incident(database, config, local(2026, 11, 24, 10, 0))
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        assert change_triage(
            session,
            incident,
            config,
            calendar,
            now=local(2026, 11, 24, 11, 0),
            actor="test",
            priority="P1",
        )
    # P1 on a P2 kind: 9 h × 0.5/0.75 = 6 h from Tue 10:00 → 16:00 + 2 h = 18:00.
    assert get(database, reference).resolution_due == local(2026, 11, 24, 18, 0)
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        change_triage(
            session,
            incident,
            config,
            calendar,
            now=local(2026, 11, 24, 11, 0),
            actor="test",
            kind="invoice_error",
        )
    incident = get(database, reference)
    assert incident.category == "billing"  # follows the kind
    # invoice_error is P3 with 5 d = 45 h; at P1: 45 × 0.5 = 22.5 business hours.
    assert incident.resolution_due == calendar.add(
        local(2026, 11, 24, 10, 0), __import__("datetime").timedelta(hours=22.5)
    )
    with database.session() as session:
        incident = session.scalars(select(Incident)).one()
        with pytest.raises(InvalidChange, match="unknown kind 'fax'"):
            change_triage(
                session,
                incident,
                config,
                calendar,
                now=local(2026, 11, 24, 11, 0),
                actor="test",
                kind="fax",
            )


def test_cli_set_changes_and_records_why(
    setup: tuple[Config, Database, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, database, path = setup
    reference = new_incident(database, config, local(2026, 11, 24, 10, 0))
    assert (
        main(
            [
                "--config",
                str(path),
                "incidents",
                "set",
                reference,
                "--status",
                "waiting",
                "--priority",
                "P3",
                "--note",
                "esperando el número de serie",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "priority P2 → P3" in out and "open → waiting" in out
    incident = get(database, reference)
    assert incident.status == "waiting" and incident.paused_at is not None
    with database.session() as session:
        details = session.scalars(select(IncidentEvent.detail)).all()
    assert any("esperando el número de serie" in d for d in details)
    assert (
        main(["--config", str(path), "incidents", "set", "MD-2026-999999", "--status", "open"]) == 2
    )
    assert "no incident MD-2026-999999" in capsys.readouterr().err
    assert main(["--config", str(path), "incidents", "set", reference]) == 2
