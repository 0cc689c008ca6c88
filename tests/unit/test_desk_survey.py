"""The survey of the resolution notice: what reads as a score in a client's reply, and the
survey addresses that carry a score under a MAC."""

from __future__ import annotations

import pytest

from maildesk.desk.survey import read_score, read_survey_address, survey_address

SECRET = b"s3cret-for-tests"


@pytest.mark.parametrize(
    ("text", "score", "comment"),
    [
        ("5", 5, ""),
        ("4/5", 4, ""),
        ("Un 4", 4, ""),
        ("Nota: 3", 3, ""),
        ("4 de 5", 4, ""),
        ("3 estrellas", 3, ""),
        ("My rating: 2", 2, ""),
        ("Quatre", 4, ""),
        ("cinco", 5, ""),
        ("★★★★", 4, ""),
        ("4 - muy bien atendido", 4, "muy bien atendido"),
        ("5. ¡Gracias!", 5, "¡Gracias!"),
        ("5 Gràcies!", 5, "Gràcies!"),
        ("1 mal servicio", 1, "mal servicio"),
        ("Hola Marta,\n\n2\nLa línea sigue fallando", 2, "La línea sigue fallando"),
        ("3\n\n> El 2 dic. 2026, Soporte escribió:\n> ¿Cómo valora…? 1 2 3 4 5", 3, ""),
        ("Le doy un 3", 3, ""),
        ("Te pongo un 5!", 5, ""),
        ("Us poso un 4", 4, ""),
        ("Li dono un 2: lent", 2, "lent"),
        ("I'd give it a 2, slow", 2, "slow"),
        ("4 ⭐", 4, ""),
        ("⭐⭐⭐⭐⭐", 5, ""),
        ("5\n\nEnviado desde mi iPhone", 5, ""),  # the phone's line is no comment
        ("4\nSent from my Android", 4, ""),
    ],
)
def test_what_reads_as_a_score(text: str, score: int, comment: str) -> None:
    found = read_score(text)
    assert found is not None and (found.score, found.comment) == (score, comment)


@pytest.mark.parametrize(
    "text",
    [
        "3 días sin línea, sigue igual",  # counting, not scoring
        "2 líneas no funcionan desde ayer",
        "10",
        "0",
        "6/10",
        "Buenos días, el router sigue sin ir",
        "La fibra vuelve a caerse. 5 cortes hoy.",
        "Le doy las gracias, 5 minutos después volvió a caer",
        "",
        "> 5",  # only in the quoted notice
        "4\n" + "la avería ha vuelto y el técnico no vino " * 10,  # a long complaint reopens
    ],
)
def test_what_is_not_a_score(text: str) -> None:
    assert read_score(text) is None


def test_a_survey_address_carries_its_score_and_reference_under_a_mac() -> None:
    address = survey_address("soporte@telefonia-ruiz.es", "MD-2026-000012", 4, SECRET)
    assert address.startswith("soporte+s4-md-2026-000012-")
    assert address.endswith("@telefonia-ruiz.es")
    assert read_survey_address(["otro@x.es", address.upper()], SECRET) == ("MD-2026-000012", 4)


def test_a_forged_or_edited_survey_address_is_not_an_answer() -> None:
    address = survey_address("soporte@telefonia-ruiz.es", "MD-2026-000012", 4, SECRET)
    other = address.replace("000012", "000013")  # another incident under the same MAC
    assert read_survey_address([other], SECRET) is None
    assert read_survey_address([address], b"another-secret") is None
    # the score is not under the MAC on purpose: one link per score, any of them counts
    assert read_survey_address([address.replace("+s4-", "+s1-")], SECRET) == ("MD-2026-000012", 1)
