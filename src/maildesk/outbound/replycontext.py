"""What the reply templates see: one builder for real incidents, samples and checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from maildesk.config import Config

REPLY_TEMPLATES = ("ack", "ack_closed", "followup")


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """The incident fields a reply talks about."""

    reference: str
    client_name: str
    subject: str
    category: str
    kind: str
    priority: str
    first_response_due: datetime
    deadline: datetime
    status: str
    previous_reference: str | None = None  # the resolved incident this one follows on from


def reply_context(
    config: Config,
    facts: IncidentFacts,
    language: str,
    now: datetime,
    opens_at: datetime,
    open_now: bool = True,
) -> dict[str, Any]:
    """What a reply template sees. ``opens_at``: when the incident will be picked up (the
    next opening); ``open_now``: the office is open at ``now`` (false out of hours; true
    at a "last call" just before a closing)."""
    company = config.company
    return {
        "reference": facts.reference,
        "client_name": facts.client_name,
        "subject": facts.subject,
        "category": facts.category,
        "kind_label": config.kind_label(facts.kind, language),
        "priority": facts.priority,
        "first_response_due": facts.first_response_due,
        "deadline": facts.deadline,
        "status": facts.status,
        "previous_reference": facts.previous_reference,
        "now": now,
        "opens_at": opens_at,
        "open_now": open_now,
        "company": {
            "name": company.name,
            "support_address": company.support_address,
            "phone": company.phone,
            "website": company.website,
        },
        "self_service": [
            {
                "label": link.label.get(language) or next(iter(link.label.values())),  # type: ignore[call-overload]
                "url": link.url,
            }
            for link in config.replies.self_service
        ],
        "urgent_line": company.urgent_line,
    }


def sample_facts(config: Config, now: datetime) -> IncidentFacts:
    """A realistic incident for previews and template checks."""
    return IncidentFacts(
        reference=f"{config.company.reference_prefix}-{now.year}-000123",
        client_name="Pepe Ruiz",
        subject="Sin internet y el datáfono no cobra",
        category="technical",
        kind=next((k.id for k in config.kinds if k.category == "technical"), config.kinds[0].id),
        priority="P1",
        first_response_due=now + timedelta(hours=1),
        deadline=now + timedelta(hours=8),
        status="open",
    )
