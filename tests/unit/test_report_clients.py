"""``maildesk report clients``: incidents, time at each person's rate, visits, kinds and
satisfaction per client for one month, summed exactly on a fixture (table, JSON and CSV)."""

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
from maildesk.db.tables import Incident, SurveyAnswer, TimeEntry
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
        late = incident(2, "bar@clientes.test", "invoice_error", at(30, hour=23))  # November
        hotel = incident(3, "hotel@clientes.test", "outage", at(12))
        december = incident(4, "hotel@clientes.test", "outage", at(1, month=12, hour=0))
        october = incident(5, "bar@clientes.test", "outage", at(20, month=10))
        session.add_all([
            TimeEntry(incident=bar, at=at(3), actor=JEFE, kind="time", minutes=90, cost_cents=0),
            TimeEntry(incident=bar, at=at(4), actor=TECNICO, kind="time", minutes=30,
                      cost_cents=0),
            TimeEntry(incident=bar, at=at(4), actor=JEFE, kind="visit", minutes=0,
                      cost_cents=4550),
            TimeEntry(incident=hotel, at=at(2, month=12), actor=JEFE, kind="time", minutes=60,
                      cost_cents=0),  # logged in December
        ])  # fmt: skip

        def answer(incident: Incident, score: int, answered: datetime) -> SurveyAnswer:
            return SurveyAnswer(incident=incident, score=score, comment="", sender="c@x.test",
                                how="reply", answered_at=answered)  # fmt: skip

        session.add_all([
            answer(bar, 5, at(5)),
            answer(late, 2, at(2, month=12)),  # answered in December: November's incident
            answer(december, 1, at(2, month=12)),  # a December incident
            answer(october, 1, at(3)),  # answered in November: October's incident
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
    # The scores of the incidents opened in November, whenever they were answered.
    assert (bar["satisfaction_average"], bar["satisfaction_answers"]) == (3.5, 2)
    assert (hotel["satisfaction_average"], hotel["satisfaction_answers"]) == (None, 0)

    assert main(["--config", path, "report", "clients", "--month", "2026-11", "--csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "client,incidents,minutes,time_cost_eur,visits,visit_cost_eur,total_cost_eur,kinds,"
        "satisfaction_average,satisfaction_answers"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["total_cost_eur"] == "150.50" and rows[0]["minutes"] == "120"
    assert (rows[0]["satisfaction_average"], rows[0]["satisfaction_answers"]) == ("3.50", "2")
    assert (rows[1]["satisfaction_average"], rows[1]["satisfaction_answers"]) == ("", "0")

    assert main(["--config", path, "report", "clients", "--month", "2026-11"]) == 0
    table = capsys.readouterr().out
    assert "bar@clientes.test" in table and "2h00" in table and "150.50" in table
    assert "satisfaction" in table.splitlines()[0]
    bar_line, hotel_line = table.splitlines()[1:3]
    assert "150.50       3.5 (2)  invoice_error 1, outage 1" in bar_line
    assert hotel_line.endswith("0.00             —  outage 1")

    assert main(["--config", path, "report", "clients", "--month", "2026-12", "--json"]) == 0
    [hotel] = json.loads(capsys.readouterr().out)["clients"]
    assert (hotel["satisfaction_average"], hotel["satisfaction_answers"]) == (1.0, 1)

    assert main(["--config", path, "report", "clients", "--month", "2026-13"]) == 2


def test_an_hourly_cost_is_the_persons_else_the_roles_else_the_desks(tmp_path: Path) -> None:
    from maildesk.config import ConfigError

    desk = (
        "\n[desk]\nhourly_cost = 30.0\nrole_costs = { tecnico = 40.0 }\n"
        f'staff = [{{ address = "{JEFE}", hourly_cost = 60.0, role = "tecnico" }}, '
        f'{{ address = "{TECNICO}", role = "tecnico" }}]\n'
    )
    config = load_config(write_offline_config(tmp_path, extra=desk))
    assert config.desk.hourly_cost_of(JEFE) == 60.0
    assert config.desk.hourly_cost_of(TECNICO.upper()) == 40.0
    assert config.desk.hourly_cost_of("otro@telefonia-ruiz.es") == 30.0
    unknown = desk.replace('role = "tecnico" }]', 'role = "comercial" }]')
    with pytest.raises(ConfigError, match=r"role 'comercial' is not in desk\.role_costs"):
        load_config(write_offline_config(tmp_path, extra=unknown))
