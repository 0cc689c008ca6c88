"""What the desk says about a command, in the staff member's language.

A decision is kept as a ``Said`` (a message code and its values) and worded only when it is
shown: in English for the log, the incident's history and the CLI; in Spanish, Catalan or
English in the answer to a command mail.
"""

from __future__ import annotations

from dataclasses import dataclass

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
FIELD_LABELS = {
    "es": {"priority": "prioridad", "kind": "tipo", "category": "categoría"},
    "ca": {"priority": "prioritat", "kind": "tipus", "category": "categoria"},
    "en": {"priority": "priority", "kind": "kind", "category": "category"},
}
_LABELS = {"status": STATUS_LABELS, "category": CATEGORY_LABELS, "field": FIELD_LABELS}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "status": "status {status}",
        "status-already": "already {status}",
        "resolved-notice": "status {status}; the client was sent the resolution notice",
        "field": "{field} {value}",
        "field-already": "already {field} {value}",
        "note": "note added",
        "time": "{minutes} min logged",
        "visit": "visit of {cost} € logged",
        "reply-sent": "sent to the client",
        "reply-not-sent": "not sent: see the incident's history",
        "no-templates": "no templates here to write to the client with",
        "unknown-kind": "unknown kind '{value}'; known: {known}",
        "invalid": "{reason}",
        "unknown-command": "unknown command '{word}'",
        "unknown-command-hint": "unknown command '{word}'; did you mean '{suggestion}'?",
        "no-argument": "'{word}' takes no argument",
        "needs-text": "'{word}' needs a text after it",
        "needs-name": "'{word}' needs a name",
        "priority-values": "priority is P1, P2, P3 or P4",
        "category-values": "category is técnica, facturación or otra (technical, billing, other)",
        "team-values": "assign to técnico or cdf",
        "duration-values": "time is a duration such as 1h30, 45m or 1:15 (at most a day)",
        "cost-values": "visit needs its cost, such as 45 or 45,50 €",
        "not-staff": "{sender} is not on the staff list",
        "no-results": "no Authentication-Results header",
        "untrusted": "no Authentication-Results from a trusted server ({ids})",
        "not-authenticated": "{server} did not authenticate {sender} ({shown})",
        "wrong-address": "the reply address {address} is not {sender}'s",
    },
    "es": {
        "status": "estado: {status}",
        "status-already": "ya estaba {status}",
        "resolved-notice": "estado: {status}; el cliente ha recibido el aviso de resolución",
        "field": "{field}: {value}",
        "field-already": "ya tenía {field} {value}",
        "note": "nota añadida",
        "time": "{minutes} min anotados",
        "visit": "visita de {cost} € anotada",
        "reply-sent": "enviada al cliente",
        "reply-not-sent": "no enviada: vea el historial de la incidencia",
        "no-templates": "aquí no hay plantillas para escribir al cliente",
        "unknown-kind": "tipo '{value}' desconocido; los tipos son: {known}",
        "invalid": "{reason}",
        "unknown-command": "orden desconocida '{word}'",
        "unknown-command-hint": "orden desconocida '{word}'; ¿quería decir '{suggestion}'?",
        "no-argument": "'{word}' no lleva nada detrás",
        "needs-text": "'{word}' necesita un texto detrás",
        "needs-name": "'{word}' necesita un nombre",
        "priority-values": "la prioridad es P1, P2, P3 o P4",
        "category-values": "la categoría es técnica, facturación u otra",
        "team-values": "se asigna a técnico o a cdf",
        "duration-values": "el tiempo es una duración como 1h30, 45m o 1:15 (un día como máximo)",
        "cost-values": "la visita necesita su coste, como 45 o 45,50 €",
        "not-staff": "{sender} no está en la lista del personal",
        "no-results": "el correo no trae cabecera Authentication-Results",
        "untrusted": "ninguna cabecera Authentication-Results es de un servidor de confianza "
        "({ids})",
        "not-authenticated": "{server} no ha autenticado a {sender} ({shown})",
        "wrong-address": "la dirección de respuesta {address} no es la de {sender}",
    },
    "ca": {
        "status": "estat: {status}",
        "status-already": "ja estava {status}",
        "resolved-notice": "estat: {status}; el client ha rebut l'avís de resolució",
        "field": "{field}: {value}",
        "field-already": "ja tenia {field} {value}",
        "note": "nota afegida",
        "time": "{minutes} min anotats",
        "visit": "visita de {cost} € anotada",
        "reply-sent": "enviada al client",
        "reply-not-sent": "no enviada: vegeu l'historial de la incidència",
        "no-templates": "aquí no hi ha plantilles per escriure al client",
        "unknown-kind": "tipus '{value}' desconegut; els tipus són: {known}",
        "invalid": "{reason}",
        "unknown-command": "ordre desconeguda '{word}'",
        "unknown-command-hint": "ordre desconeguda '{word}'; volíeu dir '{suggestion}'?",
        "no-argument": "'{word}' no porta res al darrere",
        "needs-text": "'{word}' necessita un text al darrere",
        "needs-name": "'{word}' necessita un nom",
        "priority-values": "la prioritat és P1, P2, P3 o P4",
        "category-values": "la categoria és tècnica, facturació o altra",
        "team-values": "s'assigna a tècnic o a cdf",
        "duration-values": "el temps és una durada com 1h30, 45m o 1:15 (un dia com a màxim)",
        "cost-values": "la visita necessita el seu cost, com 45 o 45,50 €",
        "not-staff": "{sender} no és a la llista del personal",
        "no-results": "el correu no porta capçalera Authentication-Results",
        "untrusted": "cap capçalera Authentication-Results no és d'un servidor de confiança "
        "({ids})",
        "not-authenticated": "{server} no ha autenticat {sender} ({shown})",
        "wrong-address": "l'adreça de resposta {address} no és la de {sender}",
    },
}


@dataclass(frozen=True, slots=True)
class Said:
    """A message code and its values, worded in any of the desk's languages."""

    code: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, language: str = "en") -> str:
        catalogue = MESSAGES.get(language, MESSAGES["en"])
        raw = dict(self.values)
        values = {
            name: _LABELS[name][language].get(value, value) if name in _LABELS else value
            for name, value in raw.items()
        }
        if raw.get("field") == "category":  # "category technical": the category's label
            values["value"] = CATEGORY_LABELS[language].get(raw["value"], raw["value"])
        return catalogue.get(self.code, MESSAGES["en"][self.code]).format(**values)

    def __str__(self) -> str:
        return self.text("en")


def said(code: str, **values: object) -> Said:
    return Said(code, tuple((name, str(value)) for name, value in values.items()))
