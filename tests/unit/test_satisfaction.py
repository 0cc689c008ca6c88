"""Resolution and satisfaction through the pipeline: the resolution notice with its survey,
a client's score (by reply or by link), the low-score alert, and a reply that is not a
score reopening the incident."""

from __future__ import annotations

import email
import email.policy
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import Incident, IncidentEvent, OutboxItem, SurveyAnswer
from maildesk.desk.apply import apply_commands
from maildesk.desk.authentication import command_address
from maildesk.desk.commands import parse_commands
from maildesk.desk.survey import survey_address
from maildesk.inbound.pipeline import Handled, InboundMail
from maildesk.runtime.daemon import build_parts
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import SUPPORT, write_offline_config
from maildesk.testing.support import client_mail

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Madrid
CLIENT = "ana@clientes.test"
BOSS = "distribuidor@maildesk.test"  # the distributor, on the staff list
SECRET = "satisfaction-test-secret"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Config]:
    path = write_offline_config(
        tmp_path,
        extra=(
            "\n[desk]\n"
            'token_secret_env = "MAILDESK_TEST_SURVEY_SECRET"\n'
            f'staff = [{{ address = "{BOSS}", name = "Jefe", language = "ca" }}]\n'
        ),
    )
    os.environ["MAILDESK_TEST_SURVEY_SECRET"] = SECRET
    yield load_config(path)
    del os.environ["MAILDESK_TEST_SURVEY_SECRET"]


UID = iter(range(1, 10_000))


def deliver(config: Config, raw: bytes, at: datetime) -> Handled:
    pipeline = build_parts(config, FrozenClock(at)).pipeline
    [handled] = pipeline.handle_batch([InboundMail("INBOX", 7, next(UID), len(raw), raw)])
    return handled


def resolved_incident(config: Config, text: str = "router cambiado") -> str:
    """A client's incident, resolved by the distributor; the Message-ID of the notice."""
    raw = client_mail(CLIENT, "Sin ADSL", "No tenemos ADSL desde ayer.", name="Ana").as_bytes()
    assert deliver(config, raw, NOW).reference == "MD-2026-000001"
    parts = build_parts(config, FrozenClock(NOW))
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        [outcome] = apply_commands(
            session, config, build_calendar(config.schedule), incident,
            parse_commands(f"resolver {text}").commands, actor=BOSS, how="token", now=NOW,
            renderer=parts.renderer, staff_name="Jefe",
        )  # fmt: skip
    assert outcome.applied
    assert (
        outcome.said.text("es") == "estado: resuelta; el cliente ha recibido el aviso de resolución"
    )
    return notice(config).message_id


def notice(config: Config) -> OutboxItem:
    with Database(config.database.url).session() as session:
        found = session.scalars(select(OutboxItem).where(OutboxItem.purpose == "resolved")).one()
        session.expunge(found)
        return found


def client_reply(body: str, in_reply_to: str, *, to: str = SUPPORT, sender: str = CLIENT) -> bytes:
    return client_mail(
        sender, "Re: [MD-2026-000001] Sin ADSL", body, name="Ana",
        headers={"In-Reply-To": f"<{in_reply_to}>", "References": f"<{in_reply_to}>"},
    ).as_bytes().replace(f"To: {SUPPORT}".encode(), f"To: {to}".encode())  # fmt: skip


def outbox(config: Config, purpose: str) -> list[OutboxItem]:
    with Database(config.database.url).session() as session:
        rows = list(session.scalars(select(OutboxItem).where(OutboxItem.purpose == purpose)))
        for row in rows:
            session.expunge(row)
        return rows


def the_incident(config: Config) -> Incident:
    with Database(config.database.url).session() as session:
        found = session.scalars(select(Incident)).one()
        session.expunge(found)
        return found


def test_resolving_tells_the_client_in_their_thread_with_five_score_links(config: Config) -> None:
    resolved_incident(config, "Hemos cambiado el router.")
    row = notice(config)
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert row.recipients == CLIENT
    assert message["Subject"].startswith("[MD-2026-000001] Resuelta: Sin ADSL")
    assert message["In-Reply-To"]  # the client's own thread
    text = message.get_body(("plain",)).get_content()
    assert "Hemos cambiado el router." in text and "del 1 (muy mal) al 5" in text
    html = message.get_body(("html",)).get_content()
    secret = SECRET.encode()
    for score in range(1, 6):
        link = survey_address(SUPPORT, "MD-2026-000001", score, secret)
        assert f"mailto:{link}?subject=" in html
    assert the_incident(config).survey_sent_at is not None


def test_a_low_score_by_reply_is_kept_and_alerts_the_distributor(config: Config) -> None:
    notice_id = resolved_incident(config)
    later = NOW + timedelta(hours=3)

    handled = deliver(config, client_reply("2\nTardaron tres días.", notice_id), later)

    assert (handled.outcome, handled.reference) == ("survey", "MD-2026-000001")
    incident = the_incident(config)
    assert (incident.status, incident.reopened_count) == ("resolved", 0)  # not reopened
    with Database(config.database.url).session() as session:
        answer = session.scalars(select(SurveyAnswer)).one()
        assert (answer.score, answer.comment, answer.how) == (2, "Tardaron tres días.", "reply")
        events = [e.action for e in session.scalars(select(IncidentEvent))]
        assert "survey" in events
    [alert] = outbox(config, "alert")
    assert alert.recipients == BOSS
    message = email.message_from_bytes(alert.raw, policy=email.policy.default)
    assert message["Subject"].startswith("Valoració 2/5 [MD-2026-000001]")  # his language
    # his reply goes to his own secret address: "reobrir" sent back is obeyed
    secret_address = command_address(SUPPORT, "MD-2026-000001", BOSS, SECRET.encode())
    assert message["Reply-To"] == secret_address
    assert "Tardaron tres días." in message.get_body(("plain",)).get_content()
    # and 'incidents show' says it
    from maildesk.reports.incidents import incident_detail

    detail = incident_detail(Database(config.database.url), config, "MD-2026-000001")
    assert detail is not None and detail["satisfaction"]["score"] == 2
    assert detail["satisfaction"]["comment"] == "Tardaron tres días."


def test_a_good_score_alerts_nobody_and_a_later_one_replaces_it(config: Config) -> None:
    notice_id = resolved_incident(config)
    assert deliver(config, client_reply("4", notice_id), NOW + timedelta(hours=1)).outcome == (
        "survey"
    )
    assert outbox(config, "alert") == []
    # the same client through a link, with another mind: the latest answer counts
    link = survey_address(SUPPORT, "MD-2026-000001", 5, SECRET.encode())
    handled = deliver(config, client_reply("5", notice_id, to=link), NOW + timedelta(hours=2))
    assert handled.outcome == "survey" and "(link)" in handled.reason
    with Database(config.database.url).session() as session:
        [answer] = session.scalars(select(SurveyAnswer))
        assert (answer.score, answer.how) == (5, "link")


def test_a_link_answer_counts_from_any_sender_and_any_status(config: Config) -> None:
    notice_id = resolved_incident(config)
    link = survey_address(SUPPORT, "MD-2026-000001", 1, SECRET.encode())
    # from her phone, without the thread headers, weeks later; the body left empty
    raw = client_mail("ana.movil@correo.test", "Valoración", "").as_bytes()
    raw = raw.replace(f"To: {SUPPORT}".encode(), f"To: {link}".encode())
    handled = deliver(config, raw, NOW + timedelta(days=60))
    assert handled.outcome == "survey"
    with Database(config.database.url).session() as session:
        answer = session.scalars(select(SurveyAnswer)).one()
        assert (answer.score, answer.sender) == (1, "ana.movil@correo.test")
    assert notice_id


def test_a_reply_that_is_not_a_score_reopens_the_incident(config: Config) -> None:
    notice_id = resolved_incident(config)
    handled = deliver(
        config, client_reply("3 días después vuelve a fallar la línea.", notice_id),
        NOW + timedelta(hours=5),
    )  # fmt: skip
    assert handled.outcome == "followup"
    incident = the_incident(config)
    assert (incident.status, incident.reopened_count) == ("open", 1)
    with Database(config.database.url).session() as session:
        assert session.scalars(select(SurveyAnswer)).first() is None


def test_a_bare_digit_long_after_the_notice_is_not_taken_as_a_score(config: Config) -> None:
    notice_id = resolved_incident(config)
    late = NOW + timedelta(days=config.satisfaction.answer_days + 1)
    handled = deliver(config, client_reply("5", notice_id), late)
    assert handled.outcome != "survey"


def test_a_forged_survey_address_is_an_ordinary_mail(config: Config) -> None:
    resolved_incident(config)
    forged = survey_address(SUPPORT, "MD-2026-000001", 1, b"guessed")
    raw = client_mail("troll@otro.test", "hola", "1").as_bytes()
    raw = raw.replace(f"To: {SUPPORT}".encode(), f"To: {forged}".encode())
    handled = deliver(config, raw, NOW + timedelta(hours=1))
    assert handled.outcome == "new_incident"
    with Database(config.database.url).session() as session:
        assert session.scalars(select(SurveyAnswer)).first() is None


def test_without_a_survey_the_notice_only_tells(tmp_path: Path) -> None:
    path = write_offline_config(tmp_path)
    path.write_text(path.read_text().replace("\nsurvey = true", "\nsurvey = false"))
    config = load_config(path)
    raw = client_mail(CLIENT, "Sin ADSL", "No tenemos ADSL.", name="Ana").as_bytes()
    deliver(config, raw, NOW)
    parts = build_parts(config, FrozenClock(NOW))
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        apply_commands(
            session, config, build_calendar(config.schedule), incident,
            parse_commands("resolve done").commands, actor="cli", how="", now=NOW,
            renderer=parts.renderer,
        )  # fmt: skip
    row = notice(config)
    assert "del 1 (muy mal) al 5" not in row.raw.decode("utf-8", "replace")
    assert the_incident(config).survey_sent_at is None
    # and a "5" then is the client writing again
    handled = deliver(config, client_reply("5", row.message_id), NOW + timedelta(hours=1))
    assert handled.outcome == "followup"


def test_an_escalation_alert_gives_each_staff_member_his_own_reply_address(
    config: Config,
) -> None:
    from maildesk.reports.alerts import check_escalations

    config = config.model_copy(
        update={"escalation": config.escalation.model_copy(update={"enabled": True})}
    )
    raw = client_mail(CLIENT, "Sin ADSL", "No tenemos ADSL desde ayer.", name="Ana").as_bytes()
    deliver(config, raw, NOW)
    parts = build_parts(config, FrozenClock(NOW))
    later = NOW + timedelta(days=14)
    [alert] = check_escalations(parts.database, config, parts.calendar, parts.renderer, later)
    assert alert.recipients == (BOSS, config.routing.technical_service)
    mails = {
        row.recipients: email.message_from_bytes(row.raw, policy=email.policy.default)
        for row in outbox(config, "alert")
    }
    secret_address = command_address(SUPPORT, "MD-2026-000001", BOSS, SECRET.encode())
    assert mails[BOSS]["Reply-To"] == secret_address
    assert f"mailto:{secret_address}?subject=" in mails[BOSS].get_body(("html",)).get_content()
    assert mails[BOSS]["Subject"].startswith("VENÇUDA [MD-2026-000001]")  # his language
    team = mails[config.routing.technical_service]
    assert team["Reply-To"] is None  # not staff: no secret address leaves the business
    assert secret_address not in team.as_string()


def test_a_teams_short_answer_on_a_resolved_incident_is_no_score(tmp_path: Path) -> None:
    path = write_offline_config(tmp_path, handoff=True)
    config = load_config(path)
    raw = client_mail(CLIENT, "Sin ADSL", "No tenemos ADSL desde ayer.", name="Ana").as_bytes()
    deliver(config, raw, NOW)
    parts = build_parts(config, FrozenClock(NOW))
    from maildesk.outbound.handoff import handoff_pending

    handoff_pending(parts.database, config, parts.renderer, NOW)
    [forward] = outbox(config, "handoff")
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        apply_commands(
            session, config, build_calendar(config.schedule), incident,
            parse_commands("resolver listo").commands, actor="cli", how="", now=NOW,
            renderer=parts.renderer,
        )  # fmt: skip
    team = config.routing.technical_service
    answer = client_reply("5. Solucionado en central.", forward.message_id, sender=team)
    handled = deliver(config, answer, NOW + timedelta(hours=1))
    assert handled.outcome == "team_answer"
    with Database(config.database.url).session() as session:
        assert session.scalars(select(SurveyAnswer)).first() is None


def test_no_resolution_notice_goes_to_an_address_that_bounced_for_good(config: Config) -> None:
    from maildesk.db.store import mark_failing

    raw = client_mail(CLIENT, "Sin ADSL", "No tenemos ADSL desde ayer.", name="Ana").as_bytes()
    deliver(config, raw, NOW)
    parts = build_parts(config, FrozenClock(NOW))
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        mark_failing(session, CLIENT, "bounce", "550 5.1.1 no such user", incident, NOW,
                     NOW + timedelta(days=7))  # fmt: skip
    with Database(config.database.url).session() as session:
        incident = session.scalars(select(Incident)).one()
        [outcome] = apply_commands(
            session, config, build_calendar(config.schedule), incident,
            parse_commands("resolver cambiado").commands, actor=BOSS, how="token", now=NOW,
            renderer=parts.renderer,
        )  # fmt: skip
        assert outcome.applied and outcome.said.code == "status"  # resolved, not told
        notes = [e.detail for e in incident.events if e.action == "no-reply"]
        assert any("resolved not sent" in n and "failing (bounce)" in n for n in notes)
    assert outbox(config, "resolved") == []
    assert the_incident(config).survey_sent_at is None
