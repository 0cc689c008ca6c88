"""Realistic sample data for every template: ``templates preview`` and ``templates check``
render with it, and the daemon renders all templates with it at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from maildesk.businesstime import BusinessCalendar
from maildesk.config import Config
from maildesk.outbound.handoff import handoff_context, reassigned_context, relay_context
from maildesk.outbound.render import TemplateError, TemplateRenderer
from maildesk.outbound.replycontext import IncidentFacts, reply_context, sample_facts
from maildesk.reports.alerts import alert_context
from maildesk.reports.digest import (
    DigestData,
    FailingLine,
    digest_context,
    period_levels,
    sample_lines,
)
from maildesk.reports.levels import IncidentRecord
from maildesk.schedule import build_calendar


def sample_arrival(calendar: BusinessCalendar, now: datetime, *, closed: bool = False) -> datetime:
    """When the sample client mail arrived: ``now`` when the office is open, else its next
    opening (a preview at 22:52 must not promise an answer "by 23:55"); with ``closed``, an
    hour after the next closing, for the out-of-hours acknowledgement."""
    open_at = now if calendar.is_open(now) else calendar.next_opening(now)
    return calendar.next_closing(open_at) + timedelta(hours=1) if closed else open_at


def _sample_incident(
    config: Config, calendar: BusinessCalendar, arrived: datetime
) -> tuple[IncidentFacts, datetime]:
    """The sample incident arrived at ``arrived``, its deadlines counted by the calendar from
    when its clock starts (then, when open; else the next opening), and that start."""
    starts = calendar.next_opening(arrived)  # the instant itself when open
    facts = sample_facts(config, arrived)
    first, resolution = config.targets(config.kind(facts.kind), facts.priority)
    due = replace(
        facts,
        first_response_due=calendar.add(starts, timedelta(minutes=first)),
        deadline=calendar.add(starts, timedelta(minutes=resolution)),
    )
    return due, starts


def _reply(name: str) -> Callable[[Config, str, datetime], dict[str, Any]]:
    def build(config: Config, language: str, now: datetime) -> dict[str, Any]:
        calendar = build_calendar(config.schedule)
        closed = name == "ack_closed"
        arrived = sample_arrival(calendar, now, closed=closed)
        facts, starts = _sample_incident(config, calendar, arrived)
        return reply_context(config, facts, language, arrived, starts, not closed)

    return build


def _digest(config: Config, language: str, now: datetime) -> dict[str, Any]:
    calendar = build_calendar(config.schedule)
    lines = list(sample_lines(config, now, calendar))
    records = [
        IncidentRecord(
            reference=line.reference,
            category=line.category,
            kind=line.kind,
            status=status,
            created_at=now - timedelta(days=days, hours=3),
            resolution_due=now - timedelta(days=days) + timedelta(hours=due),
            acknowledged_at=now - timedelta(days=days, hours=3) + timedelta(seconds=20),
            first_response_at=now - timedelta(days=days, hours=1),
            resolved_at=(now - timedelta(days=days - 1)) if status == "resolved" else None,
            reopened=int(days % 7 == 3),
            survey_sent_at=(now - timedelta(days=days - 1)) if status == "resolved" else None,
            score=(5, 4, 2)[days % 3] if status == "resolved" and days % 2 else None,
            answered_at=now - timedelta(days=days - 1, hours=-2)
            if status == "resolved" and days % 2
            else None,
        )
        for line, (days, due, status) in zip(
            lines * 4,
            [(d, 8 + 6 * (d % 3), "resolved" if d % 4 else "open") for d in range(1, 21)],
            strict=False,
        )
    ]
    levels = period_levels(records, now.astimezone(calendar.zone).date(), calendar)
    chart_days = config.digest.chart_days
    chart = [
        (
            (now - timedelta(days=chart_days - 1 - i)).astimezone(calendar.zone).date(),
            {"technical": 3 + i % 5, "billing": 1 + i % 3, "other": i % 2},
        )
        for i in range(chart_days)
    ]
    data = DigestData(
        at=now,
        since=now - timedelta(days=1),
        new=lines,
        due_today=[lines[0]],
        overdue=[lines[2]],
        waiting=[lines[3]],
        unsure=[lines[1], lines[4]],
        levels=levels,
        chart=chart,
        open_count=17,
        first_incident_at=now - timedelta(days=400),
        with_teams=[
            replace(
                lines[0], team="technical_service", handed_at=now - timedelta(hours=5), late=True
            ),
        ],
        failing=[
            FailingLine(
                "info@ferreteria-ruiz.example",
                "bounce",
                now - timedelta(days=1),
                now + timedelta(days=6),
                lines[0].reference,
                "550 5.1.1 <info@ferreteria-ruiz.example>: Recipient address rejected",
            )
        ],
    )
    return digest_context(config, data, language)


def _alert(config: Config, language: str, now: datetime) -> dict[str, Any]:
    calendar = build_calendar(config.schedule)
    arrived = sample_arrival(calendar, now)
    line = sample_lines(config, now, calendar)[0]
    incident = SimpleNamespace(
        reference=line.reference,
        kind=line.kind,
        client_name=line.client,
        client_address="bar.pepe@example.com",
        subject=line.subject,
        category=line.category,
        priority=line.priority,
        resolution_due=calendar.add(arrived, timedelta(hours=2)),
        created_at=arrived - timedelta(hours=6),
    )
    return alert_context(config, incident, 75, now, language)


def _handoff(config: Config, language: str, now: datetime) -> dict[str, Any]:
    calendar = build_calendar(config.schedule)
    facts, _ = _sample_incident(config, calendar, sample_arrival(calendar, now))
    incident = SimpleNamespace(
        reference=facts.reference,
        subject=facts.subject,
        client_name=facts.client_name,
        client_address="bar.pepe@example.com",
        kind=facts.kind,
        category=facts.category,
        priority=facts.priority,
        first_response_due=facts.first_response_due,
        resolution_due=facts.deadline,
        language="es",
        written_language="es",
        category_reason="model: technical-vs-billing: technical 0.97 (other 0.02, 9 telling words)",
    )
    text = (
        "Buenos días, desde esta mañana no tenemos internet en el bar y el datáfono no cobra. "
        "El router tiene la luz roja. Llamadme al 612 345 678. Pepe, Calle Mayor 3, Zaragoza"
    )
    return handoff_context(config, incident, text, language)


def _reassigned(config: Config, language: str, now: datetime) -> dict[str, Any]:
    calendar = build_calendar(config.schedule)
    arrived = sample_arrival(calendar, now)
    facts = sample_facts(config, arrived)
    incident = SimpleNamespace(
        reference=facts.reference,
        client_name=facts.client_name,
        client_address="bar.pepe@example.com",
        kind=facts.kind,
    )
    old = SimpleNamespace(created_at=arrived)
    new_team = f"billing_centre <{config.routing.billing_centre}>"
    return reassigned_context(config, incident, old, new_team, language)  # type: ignore[arg-type]


def _relay(config: Config, language: str, now: datetime) -> dict[str, Any]:
    facts = sample_facts(config, now)
    incident = SimpleNamespace(
        reference=facts.reference, client_name=facts.client_name, subject=facts.subject
    )
    answer = (
        "Hemos localizado una avería en la central de la zona. Un técnico pasa mañana a "
        "primera hora; no hace falta que haya nadie en el local."
    )
    return relay_context(config, incident, "technical_service", answer, language)


def _commands(config: Config, language: str, now: datetime) -> dict[str, Any]:
    from maildesk.desk.answer import commands_context
    from maildesk.desk.commands import Outcome
    from maildesk.desk.messages import said

    facts = sample_facts(config, now)
    incident = SimpleNamespace(
        reference=facts.reference, client_name=facts.client_name, client_address="",
        kind=facts.kind, status="resolved", priority="P2", category="technical",
        resolution_due=facts.deadline,
    )  # fmt: skip
    known = ", ".join(k.id for k in config.kinds)
    outcomes = [
        Outcome("prioridad P2", True, said("field", field="priority", value="P2")),
        Outcome("tipo averia", False, said("unknown-kind", value="averia", known=known)),
        Outcome("resolver router cambiado", True, said("resolved-notice", status="resolved")),
        Outcome("tiempo 1h30", True, said("time", minutes=90)),
    ]
    return commands_context(config, incident, outcomes, None, language)


def _staff_reply(config: Config, language: str, now: datetime) -> dict[str, Any]:
    from maildesk.desk.answer import reply_context

    facts = sample_facts(config, now)
    incident = SimpleNamespace(
        reference=facts.reference, client_name=facts.client_name, subject=facts.subject
    )
    text = "Mañana a las 10 pasa el técnico a cambiar el router. No hace falta que llame."
    return reply_context(config, incident, text, "Joan")


def _sample_resolved_incident(config: Config, now: datetime) -> SimpleNamespace:
    facts = sample_facts(config, now)
    return SimpleNamespace(
        reference=facts.reference, client_name=facts.client_name, subject=facts.subject,
        client_address="bar.pepe@example.com", kind=facts.kind, language="es",
        status="resolved", resolved_at=now,
    )  # fmt: skip


def _resolved(config: Config, language: str, now: datetime) -> dict[str, Any]:
    from maildesk.desk.satisfaction import resolution_context

    incident = _sample_resolved_incident(config, now)
    incident.language = language
    text = "Hemos cambiado el router; la línea vuelve a tener sincronismo a 600 Mb."
    return resolution_context(config, incident, text, "Joan", config.satisfaction.survey)


def _low_score(config: Config, language: str, now: datetime) -> dict[str, Any]:
    from maildesk.desk.satisfaction import low_score_context
    from maildesk.desk.survey import Score

    incident = _sample_resolved_incident(config, now)
    answer = Score(2, "Tardaron tres días y nadie me llamó.")
    support = str(config.company.support_address)
    return low_score_context(config, incident, answer, language, support)


SAMPLES: dict[str, Callable[[Config, str, datetime], dict[str, Any]]] = {
    "ack": _reply("ack"),
    "ack_closed": _reply("ack_closed"),
    "followup": _reply("followup"),
    "digest": _digest,
    "alert": _alert,
    "handoff": _handoff,
    "reassigned": _reassigned,
    "relay": _relay,
    "commands": _commands,
    "reply": _staff_reply,
    "resolved": _resolved,
    "low_score": _low_score,
}


def sample_context(config: Config, name: str, language: str, now: datetime) -> dict[str, Any]:
    try:
        build = SAMPLES[name]
    except KeyError:
        known = ", ".join(sorted(SAMPLES))
        raise TemplateError(name, f"no sample data for this template; known: {known}") from None
    return build(config, language, now)


def check_templates(config: Config, renderer: TemplateRenderer, now: datetime) -> list[str]:
    """Render every known template in every language with sample data, and report template
    files that no sample covers (their variables cannot be checked); the problems found."""
    problems: list[str] = []
    for language in config.replies.languages:
        for name in SAMPLES:
            try:
                renderer.render(name, language, sample_context(config, name, language, now))
            except TemplateError as exc:
                problems.append(str(exc))
    unknown = sorted({name for name, _ in renderer.available()} - set(SAMPLES))
    problems += [f"{name}: a template maildesk does not use (no sample data)" for name in unknown]
    return problems


def templates_summary(config: Config) -> str:
    """What ``templates check`` and ``check`` both say when every template renders."""
    names = ", ".join(SAMPLES)
    languages = ", ".join(config.replies.languages)
    return f"{len(SAMPLES)} templates ({names}) render in {languages} ({config.templates_dir})"
