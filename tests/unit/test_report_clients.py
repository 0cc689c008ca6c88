"""``maildesk report clients``: incidents, time at each person's rate, visits and kinds per
client for one month, summed exactly on a fixture (table, JSON and CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maildesk.cli import main
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, TimeEntry
from maildesk.testing.stackconfig import write_offline_config

MADRID = ZoneInfo("Europe/Madrid")
JEFE, TECNICO = "jefe@telefonia-ruiz.es", "tecnico@telefonia-ruiz.es"


def at(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=MADRID)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = load_config(write_offline_config(tmp_path, extra=(
        "\n[desk]\nhourly_cost = 30.0\n"
        f'staff = [{{ address = "{JEFE}", hourly_cost = 60.0 }}]\n'
    )))  # fmt: skip
    database = Database(config.database.url)
    database.migrate()
    with database.session() as session:

        def incident(number: int, client: str, kind: str, created: datetime) -> Incident:
            row = Incident(reference=f"MD-2026-{number:06d}", client_address=client,
                           client_name="", subject="x", category="technical", kind=kind,
                           priority="P3", language="es", status="open", created_at=created,
                           updated_at=created, first_response_due=created,
                           resolution_due=created, category_confidence=1.0,
                           category_reason="test", kind_reason="test", priority_reason="test",
                           deadline_reason="test")  # fmt: skip
            session.add(row)
            return row

        bar = incident(1, "bar@clientes.test", "outage", at(3))
        incident(2, "bar@clientes.test", "invoice_error", at(30, hour=23))  # still November
        hotel = incident(3, "hotel@clientes.test", "outage", at(12))
        incident(4, "hotel@clientes.test", "outage", at(1, month=12, hour=0))  # December
        session.add_all([
            TimeEntry(incident=bar, at=at(3), actor=JEFE, kind="time", minutes=90, cost_cents=0),
            TimeEntry(incident=bar, at=at(4), actor=TECNICO, kind="time", minutes=30,
                      cost_cents=0),
            TimeEntry(incident=bar, at=at(4), actor=JEFE, kind="visit", minutes=0,
                      cost_cents=4550),
            TimeEntry(incident=hotel, at=at(2, month=12), actor=JEFE, kind="time", minutes=60,
                      cost_cents=0),  # logged in December
        ])  # fmt: skip
    database.dispose()
    return config


def test_the_month_is_summed_per_client(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "maildesk.toml")

    assert main(["--config", path, "report", "clients", "--month", "2026-11", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    bar, hotel = data["clients"]
    assert bar["client"] == "bar@clientes.test"
    assert (bar["incidents"], bar["minutes"], bar["visits"]) == (2, 120, 1)
    assert bar["time_cost"] == 105.0  # 1.5 h × 60 € + 0.5 h × 30 €
    assert bar["visit_cost"] == 45.5 and bar["total_cost"] == 150.5
    assert bar["kinds"] == {"invoice_error": 1, "outage": 1}
    assert (hotel["incidents"], hotel["minutes"], hotel["total_cost"]) == (1, 0, 0.0)

    assert main(["--config", path, "report", "clients", "--month", "2026-11", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["total_cost_eur"] == "150.50" and rows[0]["minutes"] == "120"

    assert main(["--config", path, "report", "clients", "--month", "2026-11"]) == 0
    table = capsys.readouterr().out
    assert "bar@clientes.test" in table and "2h00" in table and "150.50" in table

    assert main(["--config", path, "report", "clients", "--month", "2026-13"]) == 2
