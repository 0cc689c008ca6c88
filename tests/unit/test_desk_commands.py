"""The staff's commands at the top of a mail, in Spanish, Catalan and English: aliases,
accents, arguments, unknown words with a suggestion, and nothing read below the commands."""

from __future__ import annotations

import pytest

from maildesk.desk.commands import parse_commands, parse_duration


@pytest.mark.parametrize(
    ("line", "verb", "value"),
    [
        ("resolver Router cambiado, ya navega", "resolve", "Router cambiado, ya navega"),
        ("Resuelto", "resolve", ""),
        ("resoldre: ja funciona", "resolve", "ja funciona"),
        ("resolve", "resolve", ""),
        ("REABRIR", "reopen", ""),
        ("reobrir", "reopen", ""),
        ("esperar falta el número de contrato", "wait", "falta el número de contrato"),
        ("wait", "wait", ""),
        ("prioridad P1", "priority", "P1"),
        ("prioritat 2", "priority", "P2"),
        ("priority: p4", "priority", "P4"),
        ("categoría facturación", "category", "billing"),
        ("Categoria tècnica", "category", "technical"),
        ("category other", "category", "other"),
        ("tipo portabilidad", "kind", "portabilidad"),
        ("kind invoice_error", "kind", "invoice_error"),
        ("nota: llamar por la tarde", "note", "llamar por la tarde"),
        ("tiempo 1h30", "time", "90"),
        ("temps 45m", "time", "45"),
        ("time 1:15", "time", "75"),
        ("responder Mañana a las 10 pasa el técnico.", "reply", "Mañana a las 10 pasa el técnico."),
        ("asignar técnico", "assign", "technical_service"),
        ("assign cdf", "assign", "billing_centre"),
        ("visita 45,50 €", "visit", "45.50"),
    ],
)  # fmt: skip
def test_each_command_in_each_language(line: str, verb: str, value: str) -> None:
    parsed = parse_commands(line)
    assert parsed.refusals == ()
    [command] = parsed.commands
    assert (command.verb, command.value) == (verb, value)


def test_commands_end_at_the_first_line_of_prose_and_quotes_are_never_read() -> None:
    text = (
        "prioridad p2\n"
        "nota cliente muy enfadado\n"
        "\n"
        "resolver esto no es un comando, es el texto\n"
        "> resolver\n"
        "El 3 dic. 2026, soporte escribió:\n"
        "> reabrir\n"
    )
    parsed = parse_commands(text)
    assert [(c.verb, c.value) for c in parsed.commands] == [
        ("priority", "P2"),
        ("note", "cliente muy enfadado"),
    ]


def test_a_mail_of_prose_has_no_commands() -> None:
    for text in ("Hola Juan,\nresolver luego\n", "> resolver\n", "", "Gracias por todo.\n"):
        assert parse_commands(text).empty


def test_quoted_history_right_below_the_commands_is_not_read() -> None:
    parsed = parse_commands("resuelto\n> reabrir\n> prioridad P1\n")
    assert [c.verb for c in parsed.commands] == ["resolve"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("resolver\nprioritdad P1", "unknown command 'prioritdad'; did you mean 'prioridad'?"),
        ("resolv listo", "unknown command 'resolv'; did you mean 'resolve'?"),
        ("prioridad P7", "priority is P1, P2, P3 or P4"),
        ("categoria ventas", "category is técnica, facturación or otra"),
        ("tiempo mucho", "time is a duration"),
        ("reabrir ya", "'reabrir' takes no argument"),
        ("nota", "'nota' needs a text after it"),
        ("asignar ventas", "assign to técnico or cdf"),
        ("visita gratis", "visit needs its cost"),
    ],
)
def test_wrong_commands_are_refused_with_what_they_expect(text: str, reason: str) -> None:
    parsed = parse_commands(text)
    assert len(parsed.refusals) == 1
    assert parsed.refusals[0].reason.startswith(reason)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("1h30", 90), ("1,5h", 90), ("2 horas", 120), ("45", 45), ("45 min", 45), ("0:20", 20),
     ("1h", 60), ("25h", None), ("0", None), ("", None), ("abc", None)],
)  # fmt: skip
def test_durations(text: str, minutes: int | None) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "orden desconocida 'prioritdad'; ¿quería decir 'prioridad'?"),
        ("ca", "ordre desconeguda 'prioritdad'; volíeu dir 'prioridad'?"),
        ("en", "unknown command 'prioritdad'; did you mean 'prioridad'?"),
    ],
)
def test_a_refusal_is_worded_in_the_staff_members_language(language: str, expected: str) -> None:
    [refusal] = parse_commands("resolver\nprioritdad P1").refusals
    assert refusal.said.text(language) == expected


def test_every_message_exists_in_every_language_with_the_same_values() -> None:
    import string

    from maildesk.desk.messages import MESSAGES

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for language in ("es", "ca"):
        assert set(MESSAGES[language]) == set(MESSAGES["en"]), language
        for code, text in MESSAGES["en"].items():
            assert fields(MESSAGES[language][code]) == fields(text), (language, code)
