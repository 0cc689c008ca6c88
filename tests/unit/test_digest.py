"""The morning digest and escalation alerts with an injected clock and a real database."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import AlertSent, DigestSent, Incident, OutboxItem
from maildesk.outbound.render import TemplateRenderer
from maildesk.runtime.daemon import build_parts
from maildesk.runtime.jobs import ScheduledJobs
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import write_offline_config

MADRID = build_calendar(load_config(Path("config.example.toml")).schedule).zone


def madrid(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID).astimezone(UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_offline_config(tmp_path, digest=True))


def jobs(config: Config, at: datetime, database: Database | None = None) -> ScheduledJobs:
    """A fresh daemon's jobs (as after a restart), on its own database connection."""
    database = database or Database(config.database.url)
    database.migrate()
    calendar = build_calendar(config.schedule)
    renderer = TemplateRenderer(
        config.templates_dir,
        timezone=config.schedule.timezone,
        languages=config.replies.languages,
        default_language=config.replies.default_language,
    )
    return ScheduledJobs(config, database, calendar, renderer, FrozenClock(at))


def count(config: Config, model: type, *where: object) -> int:
    with Database(config.database.url).session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def add_incident(config: Config, reference: str, created: datetime, **fields: object) -> None:
    values: dict[str, object] = {
        "reference": reference,
        "status": "open",
        "category": "technical",
        "category_confidence": 0.9,
        "category_reason": "test",
        "kind": "outage",
        "kind_reason": "test",
        "priority": "P2",
        "priority_reason": "test",
        "language": "es",
        "client_address": f"{reference.lower()}@clientes.test",
        "client_name": f"Cliente {reference}",
        "subject": f"Asunto {reference}",
        "first_response_due": created + timedelta(hours=1),
        "resolution_due": created + timedelta(hours=8),
        "deadline_reason": "test",
        "created_at": created,
        "updated_at": created,
    }
    values.update(fields)
    database = Database(config.database.url)
    database.migrate()
    with database.session() as session:
        session.add(Incident(**values))


def test_one_digest_across_a_restart_at_844_and_846(config: Config) -> None:
    assert jobs(config, madrid(24, 8, 44)).digest() == []  # Tuesday, before 8:45
    assert jobs(config, madrid(24, 8, 46)).digest() == [config.company.distributor_address]
    assert jobs(config, madrid(24, 8, 46)).digest() == []  # restarted again: already sent
    assert jobs(config, madrid(24, 19, 0)).digest() == []
    assert count(config, DigestSent) == 1
    assert count(config, OutboxItem, OutboxItem.purpose == "digest") == 1


def test_two_daemons_on_one_database_send_one_digest(config: Config) -> None:
    at = madrid(24, 8, 45)
    daemons = [jobs(config, at) for _ in range(4)]
    start = threading.Barrier(len(daemons))
    results: list[list[str]] = []

    def run(job: ScheduledJobs) -> None:
        start.wait()
        results.append(job.digest())

    threads = [threading.Thread(target=run, args=(d,)) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert count(config, DigestSent) == 1
    assert count(config, OutboxItem, OutboxItem.purpose == "digest") == 1


def test_a_missed_digest_goes_out_late_the_same_day_but_not_the_next(config: Config) -> None:
    # Down all Tuesday morning; started at 17:30, the business day still runs: sent.
    assert jobs(config, madrid(24, 17, 30)).digest() != []
    # Down all Wednesday; started after the last closing: Wednesday's is not sent late...
    assert jobs(config, madrid(25, 20, 30)).digest() == []
    # ...nor on Thursday before the digest time; Thursday's goes at 8:45.
    assert jobs(config, madrid(26, 7, 0)).digest() == []
    assert jobs(config, madrid(26, 8, 45)).digest() != []
    with Database(config.database.url).session() as session:
        assert list(session.scalars(select(DigestSent.day).order_by(DigestSent.day))) == [
            "2026-11-24",
            "2026-11-26",
        ]


def test_no_digest_on_holidays_and_weekends(config: Config) -> None:
    assert jobs(config, madrid(8, 9, 0, month=12)).digest() == []  # Tue 8 Dec: Inmaculada
    assert jobs(config, madrid(28, 9, 0)).digest() == []  # Saturday
    assert count(config, DigestSent) == 0


def test_the_digest_shows_new_due_overdue_waiting_and_unsure(config: Config) -> None:
    at = madrid(24, 8, 45)
    add_incident(config, "MD-2026-000001", madrid(23, 10), resolution_due=madrid(23, 19))
    add_incident(config, "MD-2026-000002", madrid(23, 12), resolution_due=madrid(24, 13))
    add_incident(config, "MD-2026-000003", madrid(23, 18), status="waiting", category="billing",
                 kind="invoice_error", resolution_due=madrid(27, 13))  # fmt: skip
    add_incident(config, "MD-2026-000004", madrid(24, 7), unsure=True, category="other",
                 kind="general", resolution_due=madrid(30, 13))  # fmt: skip
    add_incident(config, "MD-2026-000005", madrid(20, 9), status="resolved",
                 resolved_at=madrid(20, 11), resolution_due=madrid(20, 17))  # fmt: skip
    assert jobs(config, at).digest() == [config.company.distributor_address]
    with Database(config.database.url).session() as session:
        raw = session.scalars(select(OutboxItem.raw).where(OutboxItem.purpose == "digest")).one()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["To"] == config.company.distributor_address
    assert msg["Subject"] == "Resumen 24/11/2026: 4 nuevas, 1 vencidas, 1 vencen hoy"
    text = msg.get_body(("plain",)).get_content()
    sections = text.split("\n== ")
    overdue = next(s for s in sections if s.startswith("Vencidas"))
    due = next(s for s in sections if s.startswith("Vencen hoy"))
    waiting = next(s for s in sections if s.startswith("Esperando al cliente"))
    unsure = next(s for s in sections if s.startswith("Clasificación por confirmar"))
    assert "MD-2026-000001" in overdue and "MD-2026-000002" not in overdue
    assert "MD-2026-000002" in due
    assert "MD-2026-000003" in waiting and "MD-2026-000004" in unsure
    html = msg.get_body(("html",)).get_content()
    assert 'href="mailto:' in html and "%5BMD-2026-000001%5D" in html  # reply = act on it
    assert html.count("MD-2026-000005") == 0  # resolved before: not in any list


def test_new_incidents_are_those_since_the_previous_digest(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(23, 10))
    assert jobs(config, madrid(24, 8, 45)).digest()
    add_incident(config, "MD-2026-000002", madrid(24, 12))
    assert jobs(config, madrid(25, 8, 45)).digest()
    with Database(config.database.url).session() as session:
        raws = list(
            session.scalars(
                select(OutboxItem.raw).where(OutboxItem.purpose == "digest").order_by(OutboxItem.id)
            )
        )
    second = email.message_from_bytes(raws[1], policy=email.policy.default)
    text = second.get_body(("plain",)).get_content()
    new = next(s for s in text.split("\n== ") if s.startswith("Nuevas desde 24/11/2026 8:45"))
    assert "MD-2026-000002" in new and "MD-2026-000001" not in new


def test_escalation_alerts_fire_once_per_threshold(config: Config) -> None:
    # Created Tuesday 10:00 with 8 business hours to resolve: due Tuesday 20:00
    # (10–14 and 16–20); 75 % (6 hours) is used at 18:00.
    add_incident(config, "MD-2026-000001", madrid(24, 10), resolution_due=madrid(24, 20))
    add_incident(config, "MD-2026-000002", madrid(24, 10), resolution_due=madrid(24, 20),
                 category="billing", kind="invoice_error", status="resolved")  # fmt: skip
    assert jobs(config, madrid(24, 17, 50)).escalations() == []
    [first] = jobs(config, madrid(24, 18, 1)).escalations()
    assert (first.reference, first.threshold) == ("MD-2026-000001", 75)
    assert first.recipients == (
        config.company.distributor_address,
        config.routing.technical_service,
    )
    assert jobs(config, madrid(24, 19, 30)).escalations() == []  # restarted: not again
    [breach] = jobs(config, madrid(25, 9, 1)).escalations()
    assert breach.threshold == 100
    assert jobs(config, madrid(25, 12)).escalations() == []
    with Database(config.database.url).session() as session:
        raws = list(
            session.scalars(
                select(OutboxItem.raw).where(OutboxItem.purpose == "alert").order_by(OutboxItem.id)
            )
        )
    messages = [email.message_from_bytes(r, policy=email.policy.default) for r in raws]
    # one mail per person (each can carry its own reply address), two per alert
    assert [(m["Subject"].split(" [")[0], m["To"]) for m in messages] == [
        ("Aviso 75 %", config.company.distributor_address),
        ("Aviso 75 %", config.routing.technical_service),
        ("VENCIDA", config.company.distributor_address),
        ("VENCIDA", config.routing.technical_service),
    ]
    assert all("[MD-2026-000001]" in m["Subject"] for m in messages)
    assert all(m["Reply-To"] is None for m in messages)  # no staff list: replies go to support


def test_a_daemon_down_past_both_thresholds_sends_one_alert(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(24, 10), resolution_due=madrid(24, 20),
                 category="billing", kind="invoice_error")  # fmt: skip
    [alert] = jobs(config, madrid(26, 10)).escalations()
    assert alert.threshold == 100
    assert alert.recipients == (config.company.distributor_address, config.routing.billing_centre)
    assert count(config, AlertSent) == 2  # both thresholds recorded: 75 % never comes later
    assert jobs(config, madrid(26, 11)).escalations() == []


def test_waiting_on_the_client_does_not_use_the_resolution_time(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(24, 10), resolution_due=madrid(24, 20),
                 status="waiting", paused_at=madrid(24, 11))  # fmt: skip
    assert jobs(config, madrid(25, 12)).escalations() == []  # only waiting: not even "open"


def test_run_once_sends_the_due_digest(config: Config, tmp_path: Path) -> None:
    parts = build_parts(config, FrozenClock(madrid(24, 9)))
    parts.jobs().catch_up()
    assert count(config, DigestSent) == 1


def test_long_sections_show_the_most_pressing_lines_and_count_the_rest(config: Config) -> None:
    short = config.model_copy(update={"digest": config.digest.model_copy(update={"max_items": 2})})
    for n in range(1, 6):
        add_incident(
            config, f"MD-2026-00000{n}", madrid(20, 9 + n), resolution_due=madrid(20, 18 + n % 2)
        )
    assert jobs(short, madrid(24, 8, 45)).digest()
    with Database(config.database.url).session() as session:
        raw = session.scalars(select(OutboxItem.raw).where(OutboxItem.purpose == "digest")).one()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Resumen 24/11/2026: 0 nuevas, 5 vencidas, 0 vencen hoy"
    overdue = next(
        s for s in msg.get_body(("plain",)).get_content().split("\n== ") if s.startswith("Vencidas")
    )
    assert overdue.startswith("Vencidas (5)")
    assert overdue.count("[MD-2026-") == 2 and "… y más: 3" in overdue


def digest_text(config: Config, at: datetime) -> tuple[str, str]:
    assert jobs(config, at).digest() == [config.company.distributor_address]
    with Database(config.database.url).session() as session:
        raw = session.scalars(select(OutboxItem.raw).where(OutboxItem.purpose == "digest")).one()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_the_service_levels_say_which_days_each_column_covers(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(3, 10, month=10))  # long before: no note
    text, html = digest_text(config, madrid(24, 8, 45))
    levels = text.split("== Niveles de servicio")[1]
    assert "Ayer (23/11/2026):" in levels
    assert "7 días (17/11/2026–23/11/2026):" in levels
    assert "30 días (25/10/2026–23/11/2026):" in levels
    assert "17/11/2026–23/11/2026" in html
    assert "primera incidencia" not in text and "Todavía no hay" not in text


def test_a_fresh_install_explains_its_empty_service_levels(config: Config) -> None:
    text, html = digest_text(config, madrid(24, 8, 45))
    assert "Todavía no hay ninguna incidencia: las cifras se irán llenando" in text
    assert "Todavía no hay ninguna incidencia" in html


def test_figures_younger_than_the_longest_column_say_since_when(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(20, 10))
    text, _ = digest_text(config, madrid(24, 8, 45))
    assert "Cifras desde la primera incidencia, el 20/11/2026." in text


def test_the_digest_lists_what_waits_on_a_team_and_what_is_past_its_target(
    config: Config,
) -> None:
    from maildesk.db.tables import Handoff

    add_incident(config, "MD-2026-000001", madrid(20, 10))  # handed Friday: late by Tuesday
    add_incident(config, "MD-2026-000002", madrid(23, 18))  # handed Monday evening: in time
    add_incident(config, "MD-2026-000003", madrid(23, 12))  # answered: not waiting
    database = Database(config.database.url)
    with database.session() as session:
        ids = dict(session.execute(select(Incident.reference, Incident.id)).all())
        for reference, handed, answered in (
            ("MD-2026-000001", madrid(20, 10), None),
            ("MD-2026-000002", madrid(23, 18), None),
            ("MD-2026-000003", madrid(23, 12), madrid(23, 13)),
        ):
            session.add(Handoff(incident_id=ids[reference], team="technical_service",
                                address="tecnico@operador.test", message_id=f"fwd.{reference}",
                                reason="new incident", created_at=handed,
                                answered_at=answered))  # fmt: skip
    database.dispose()
    text, html = digest_text(config, madrid(24, 8, 45))
    section = text.split("== Esperando al servicio técnico o al CDF (2)")[1].split("\n== ")[0]
    first, second = section.split("- [")[1:]
    assert first.startswith("MD-2026-000001") and "pasado su plazo de respuesta" in first
    assert second.startswith("MD-2026-000002") and "pasado su plazo" not in second
    assert "MD-2026-000003" not in section
    assert "Esperando al servicio técnico o al CDF (2)" in html


def test_the_digest_lists_client_addresses_that_bounce_while_they_do(config: Config) -> None:
    from maildesk.db.tables import FailingAddress

    add_incident(config, "MD-2026-000001", madrid(23, 10))
    database = Database(config.database.url)
    with database.session() as session:
        incident_id = session.scalars(select(Incident.id)).one()
        for address, until in (
            ("ana@clientes.test", madrid(30, 10)),  # still failing on the 24th
            ("old@clientes.test", madrid(20, 10)),  # its period is over
        ):
            session.add(FailingAddress(address=address, source="bounce", incident_id=incident_id,
                                       detail="550 5.1.1 <ana@clientes.test>: unknown user",
                                       first_failed_at=madrid(23, 11),
                                       last_failed_at=madrid(23, 11), failures=1,
                                       until=until))  # fmt: skip
    database.dispose()

    text, html = digest_text(config, madrid(24, 8, 45))

    section = text.split("== Direcciones de clientes que rebotan")[1]
    assert section.startswith(" (sin respuestas automáticas) (1)")
    assert (
        "ana@clientes.test [MD-2026-000001]: rebote desde el 23/11/2026; hasta el 30/11/2026"
        in section
    )
    assert "old@clientes.test" not in text
    assert "ana@clientes.test" in html and "unknown user" in html


def test_a_staff_members_digest_links_to_each_incidents_secret_reply_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import unquote

    from maildesk.desk.authentication import command_address
    from maildesk.testing.stackconfig import DISTRIBUTOR

    monkeypatch.setenv("MAILDESK_TEST_DESK_SECRET", "s3")
    config = load_config(write_offline_config(tmp_path, digest=True, extra=(
        '\n[desk]\ntoken_secret_env = "MAILDESK_TEST_DESK_SECRET"\n'
        f'staff = [{{ address = "{DISTRIBUTOR}" }}]\n'
    )))  # fmt: skip
    add_incident(config, "MD-2026-000001", madrid(23, 10))

    _, html = digest_text(config, madrid(24, 8, 45))

    secret_address = command_address(
        config.company.support_address, "MD-2026-000001", DISTRIBUTOR, b"s3"
    )
    assert f'href="mailto:{secret_address}?subject=' in unquote(html)
    assert secret_address.startswith("support+c-md-2026-000001-")


def add_mails(config: Config, reference: str, *mails: tuple[str, str, str, datetime]) -> None:
    """(direction, disposition, reason, received_at) rows on an incident."""
    from maildesk.db.tables import Message

    database = Database(config.database.url)
    with database.session() as session:
        incident_id = session.scalars(
            select(Incident.id).where(Incident.reference == reference)
        ).one()
        for n, (direction, disposition, reason, received) in enumerate(mails):
            session.add(Message(incident_id=incident_id, direction=direction,
                                dedup_key=f"{reference}.{n}", disposition=disposition,
                                reason=reason, received_at=received))  # fmt: skip
    database.dispose()


def add_answer(config: Config, reference: str, score: int, answered: datetime) -> None:
    from maildesk.db.tables import SurveyAnswer

    database = Database(config.database.url)
    with database.session() as session:
        incident_id = session.scalars(
            select(Incident.id).where(Incident.reference == reference)
        ).one()
        session.add(SurveyAnswer(incident_id=incident_id, score=score, comment="",
                                 sender="cliente@clientes.test", how="link",
                                 answered_at=answered))  # fmt: skip
    database.dispose()


def test_first_contact_counts_the_clients_mails_only(config: Config) -> None:
    from maildesk.reports.digest import incident_records
    from maildesk.reports.levels import Share, service_levels

    done = {"status": "resolved", "resolved_at": madrid(23, 12)}
    # Resolved by a staff member's command mail, with a team's answer, a bounce, the
    # client's score and a refused command mail on it: still one client mail.
    add_incident(config, "MD-2026-000001", madrid(23, 9), **done)
    add_mails(config, "MD-2026-000001",
              ("in", "new_incident", "", madrid(23, 9)),
              ("out", "reply", "ack", madrid(23, 9)),
              ("in", "team_answer", "technical_service", madrid(23, 10)),
              ("in", "followup", "command refused: not authenticated", madrid(23, 10, 30)),
              ("in", "command", "dkim", madrid(23, 12)),
              ("in", "bounce", "550", madrid(23, 12, 5)),
              ("in", "survey", "score 5", madrid(23, 13)))  # fmt: skip
    # The client wrote again before it was solved: two contacts.
    add_incident(config, "MD-2026-000002", madrid(23, 9), **done)
    add_mails(config, "MD-2026-000002", ("in", "new_incident", "", madrid(23, 9)),
              ("in", "followup", "thread-match", madrid(23, 11)))  # fmt: skip
    # A "thank you" to it once closed (no reopening): still solved at the first contact.
    add_incident(config, "MD-2026-000003", madrid(23, 9), **{**done, "status": "closed"})
    add_mails(config, "MD-2026-000003", ("in", "new_incident", "", madrid(23, 9)),
              ("in", "followup", "thread-match", madrid(23, 18)))  # fmt: skip

    start, end = madrid(23, 0), madrid(24, 0)
    with Database(config.database.url).session() as session:
        records = {r.reference: r for r in incident_records(session, start, end)}
    assert {ref: r.client_messages for ref, r in records.items()} == {
        "MD-2026-000001": 1, "MD-2026-000002": 2, "MD-2026-000003": 1,
    }  # fmt: skip
    calendar = build_calendar(config.schedule)
    levels = service_levels(records.values(), start, end, calendar, calendar.zone)
    assert levels.first_contact_resolution == Share(2, 3)


def test_the_levels_read_reopenings_surveys_and_late_answers(config: Config) -> None:
    from maildesk.reports.digest import incident_records

    # Resolved yesterday after one reopening; its survey went out then and was answered.
    add_incident(config, "MD-2026-000001", madrid(20, 10), status="resolved",
                 resolved_at=madrid(23, 12), reopened_count=1,
                 survey_sent_at=madrid(23, 12))  # fmt: skip
    add_answer(config, "MD-2026-000001", 4, madrid(23, 15))
    # Opened and resolved in October, long before the window: its score came yesterday.
    add_incident(config, "MD-2026-000002", madrid(3, 10, month=10), status="closed",
                 resolved_at=madrid(5, 10, month=10),
                 survey_sent_at=madrid(5, 10, month=10))  # fmt: skip
    add_answer(config, "MD-2026-000002", 5, madrid(23, 10))
    # Resolved in October, its survey sent again in the window, not answered.
    add_incident(config, "MD-2026-000003", madrid(3, 10, month=10), status="resolved",
                 resolved_at=madrid(6, 10, month=10),
                 survey_sent_at=madrid(20, 10))  # fmt: skip

    with Database(config.database.url).session() as session:
        records = {r.reference: r for r in incident_records(session, madrid(17, 0), madrid(24, 0))}
    assert set(records) == {"MD-2026-000001", "MD-2026-000002", "MD-2026-000003"}
    first = records["MD-2026-000001"]
    assert (first.reopened, first.score, first.answered_at) == (1, 4, madrid(23, 15))
    assert first.survey_sent_at == madrid(23, 12)
    assert records["MD-2026-000003"].score is None

    text, html = digest_text(config, madrid(24, 8, 45))
    yesterday, week, month = text.split("== Niveles de servicio")[1].strip().splitlines()[:3]
    # Yesterday: one resolved (reopened); answers 4 and 5; one survey sent, answered.
    assert yesterday.startswith("Ayer (23/11/2026):")
    assert yesterday.endswith("Reabiertas 100 %; Satisfacción (1–5) 4,5 (2 resp., 100 %)")
    # The week also has the unanswered survey of the 20th.
    assert week.endswith("Reabiertas 100 %; Satisfacción (1–5) 4,5 (2 resp., 50 %)")
    assert month.endswith("Satisfacción (1–5) 4,5 (2 resp., 50 %)")
    assert ">Reabiertas</td>" in html and ">Satisfacción (1–5)</td>" in html
    assert "4,5<br>" in html and "2 resp., 50 %" in html


def test_service_levels_without_resolutions_nor_answers_show_dashes(config: Config) -> None:
    add_incident(config, "MD-2026-000001", madrid(3, 10, month=10))  # open, long before
    text, html = digest_text(config, madrid(24, 8, 45))
    yesterday = text.split("== Niveles de servicio")[1].strip().splitlines()[0]
    assert yesterday.endswith("Reabiertas -; Satisfacción (1–5) -")
    row = html.split(">Satisfacción (1–5)</td>")[1].split("</tr>")[0]
    assert row.count(">—</td>") == 3 and "resp." not in row
