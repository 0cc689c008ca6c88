"""The answer to a command mail: what was applied, what was refused, the incident's state,
in the staff member's language."""

from __future__ import annotations

from typing import Any

from maildesk.config import Config
from maildesk.desk.commands import Outcome

STATUS_LABELS = {
    "es": {"open": "abierta", "waiting": "en espera del cliente", "resolved": "resuelta",
           "closed": "cerrada"},
    "ca": {"open": "oberta", "waiting": "en espera del client", "resolved": "resolta",
           "closed": "tancada"},
    "en": {"open": "open", "waiting": "waiting on the client", "resolved": "resolved",
           "closed": "closed"},
}  # fmt: skip
CATEGORY_LABELS = {
    "es": {"technical": "técnica", "billing": "facturación (CDF)", "other": "otra"},
    "ca": {"technical": "tècnica", "billing": "facturació (CDF)", "other": "altra"},
    "en": {"technical": "technical", "billing": "billing (CDF)", "other": "other"},
}


def commands_context(
    config: Config,
    incident: Any,
    outcomes: list[Outcome],
    refused: str,
    language: str,
) -> dict[str, Any]:
    """Template context of ``commands``: ``refused`` is why nothing was applied ("" when the
    commands were read)."""
    return {
        "reference": incident.reference,
        "client": incident.client_name or incident.client_address,
        "kind_label": config.kind_label(incident.kind, language),
        "outcomes": outcomes,
        "refused": refused,
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
        "text": text.strip(),
        "staff_name": staff_name,
        "company": {"name": config.company.name, "support_address": config.company.support_address},
    }
