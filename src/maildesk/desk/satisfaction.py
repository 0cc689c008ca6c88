"""Resolution and satisfaction: the notice a client gets when their incident is resolved
(with the one-question survey), the answers, and the alert a low score raises.

The notice goes out in the client's language and thread, from ``resolve`` by mail or by
``maildesk incidents resolve``. A score is kept once per incident (the latest answer
counts); every answer is also an incident event. A score at or below
``satisfaction.alert_at_or_below`` sends each person of ``satisfaction.notify`` an alert
whose reply goes to that incident's secret reply address when they are staff, so that
"reabrir" sent back from a phone is obeyed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.db.lifecycle import record_event
from maildesk.db.store import aware_utc
from maildesk.db.tables import FailingAddress, Incident, SurveyAnswer
from maildesk.desk.links import mailto
from maildesk.desk.messages import STATUS_LABELS
from maildesk.desk.survey import Score, survey_address
from maildesk.outbound.compose import queued_row
from maildesk.outbound.handoff import send_to_client
from maildesk.outbound.render import TemplateError, TemplateRenderer
from maildesk.reports.alerts import named_addresses, personal_notice

log = logging.getLogger("maildesk.satisfaction")

SCORES = (1, 2, 3, 4, 5)


def resolution_context(
    config: Config, incident: Any, text: str, staff_name: str, survey: bool
) -> dict[str, Any]:
    """What the ``resolved`` templates see; ``scores`` holds the five survey links."""
    subject = f"Re: [{incident.reference}] {incident.subject}".strip()
    support = str(config.company.support_address)
    secret = config.desk.token_secret()
    scores = [
        {
            "score": score,
            # with a secret, the address itself carries the score (kept whatever the
            # client's mail program does to the body); else the body does
            "link": mailto(survey_address(support, incident.reference, score, secret), subject,
                           str(score))
            if secret
            else mailto(support, subject, str(score)),
        }
        for score in SCORES
    ] if survey else []  # fmt: skip
    return {
        "reference": incident.reference,
        "client_name": incident.client_name,
        "subject": incident.subject,
        "kind_label": config.kind_label(incident.kind, incident.language),
        "text": text.strip(),
        "staff_name": staff_name,
        "survey": survey,
        "scores": scores,
        "reopen_days": config.replies.reopen_days,
        "company": {"name": config.company.name, "support_address": support},
    }


def send_resolution_notice(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    text: str,
    staff_name: str,
    now: datetime,
) -> bool:
    """Queue the resolution notice (and survey, when configured) to the client; False when
    notices are off, the client's address is failing (bounced for good) or cannot carry it
    (the reason is on the incident)."""
    settings = config.satisfaction
    if not settings.resolution_notice:
        return False
    failing = session.get(FailingAddress, incident.client_address.lower())
    if failing is not None and aware_utc(failing.until) > now:
        # It bounced for good: the notice would only bounce again.
        record_event(
            session, incident, now, "maildesk", "no-reply",
            f"resolved not sent: {incident.client_address} failing ({failing.source}) until "
            f"{aware_utc(failing.until):%Y-%m-%d %H:%M} UTC",
        )  # fmt: skip
        return False
    context = resolution_context(config, incident, text, staff_name, settings.survey)
    if not send_to_client(session, config, renderer, incident, "resolved", context, now):
        return False
    if settings.survey:
        incident.survey_sent_at = now
    return True


def record_answer(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    answer: Score,
    *,
    sender: str,
    how: str,
    message_id: str | None,
    now: datetime,
) -> SurveyAnswer:
    """Keep the client's score (replacing an earlier one) and alert on a low one."""
    row = session.scalar(select(SurveyAnswer).where(SurveyAnswer.incident_id == incident.id))
    if row is None:
        row = SurveyAnswer(incident=incident, score=answer.score)
        session.add(row)
    row.score, row.comment = answer.score, answer.comment
    row.sender, row.how, row.message_id, row.answered_at = sender[:320], how, message_id, now
    comment = f": {answer.comment[:400]}" if answer.comment else ""
    record_event(session, incident, now, "client", "survey", f"score {answer.score}/5{comment}")
    log.info(
        "survey answered",
        extra={"reference": incident.reference, "score": answer.score, "how": how},
    )
    if answer.score <= config.satisfaction.alert_at_or_below:
        queue_low_score_alert(session, config, renderer, incident, answer, now)
    return row


def low_score_context(
    config: Config, incident: Any, answer: Score, language: str, reply_address: str
) -> dict[str, Any]:
    """What the ``low_score`` templates see."""
    subject = f"Re: [{incident.reference}] {incident.subject}".strip()
    return {
        "reference": incident.reference,
        "client": incident.client_name or incident.client_address,
        "client_address": incident.client_address,
        "subject": incident.subject,
        "kind_label": config.kind_label(incident.kind, language),
        "score": answer.score,
        "comment": answer.comment,
        "resolved_at": incident.resolved_at,
        "status": STATUS_LABELS[language].get(incident.status, incident.status),
        "reopen_link": mailto(reply_address, subject, _REOPEN[language]),
        "reply_link": mailto(reply_address, subject),
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }


_REOPEN = {"es": "reabrir", "ca": "reobrir", "en": "reopen"}


def queue_low_score_alert(
    session: Session,
    config: Config,
    renderer: TemplateRenderer,
    incident: Incident,
    answer: Score,
    now: datetime,
) -> list[str]:
    """One alert to each person of ``satisfaction.notify``, in their language, with their
    own reply address; returns who it was queued for."""

    def context(language: str, reply: str) -> dict[str, Any]:
        return low_score_context(config, incident, answer, language, reply)

    queued = []
    for recipient in named_addresses(config, config.satisfaction.notify):
        try:
            outgoing = personal_notice(
                config, renderer, incident, recipient, "low_score", context,
                f"score-{incident.reference.lower()}", now,
            )  # fmt: skip
        except TemplateError as exc:
            record_event(session, incident, now, "maildesk", "no-alert", f"low score: {exc}")
            log.error(
                "low-score alert not composed",
                extra={"reference": incident.reference, "error": str(exc)},
            )
            continue
        session.add(queued_row(outgoing, "alert", now, incident))
        queued.append(recipient)
    if queued:
        log.warning(
            "low satisfaction score: alert queued",
            extra={"reference": incident.reference, "score": answer.score,
                   "to": ",".join(queued)},
        )  # fmt: skip
    return queued
