"""The answer to a command mail: what was applied, what was refused, the incident's state,
in the staff member's language."""

from __future__ import annotations

from typing import Any

from maildesk.config import Config
from maildesk.desk.commands import Outcome
from maildesk.desk.messages import CATEGORY_LABELS, STATUS_LABELS, Said


def commands_context(
    config: Config,
    incident: Any,
    outcomes: list[Outcome],
    refused: Said | None,
    language: str,
) -> dict[str, Any]:
    """Template context of ``commands``, every detail worded in ``language``: ``refused`` is
    why nothing was applied (None when the commands were read)."""
    return {
        "reference": incident.reference,
        "client": incident.client_name or incident.client_address,
        "kind_label": config.kind_label(incident.kind, language),
        "outcomes": [
            {"line": o.line, "applied": o.applied, "detail": o.said.text(language)}
            for o in outcomes
        ],
        "refused": refused.text(language) if refused is not None else "",
        "status_label": STATUS_LABELS[language].get(incident.status, incident.status),
        "priority": incident.priority,
        "category_label": CATEGORY_LABELS[language].get(incident.category, incident.category),
        "deadline": incident.resolution_due,
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }


def reply_context(config: Config, incident: Any, text: str, staff_name: str) -> dict[str, Any]:
    """What the ``reply`` templates (a staff member's words to the client) see."""
    return {
        "reference": incident.reference,
        "client_name": incident.client_name,
        "subject": incident.subject,
        "text": text.strip(),
        "staff_name": staff_name,
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }
