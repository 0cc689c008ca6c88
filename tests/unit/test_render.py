"""Rendering of client mails: languages, date phrases, escaping, strictness, sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maildesk.outbound.render import RenderedMail, TemplateError, TemplateRenderer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MADRID = ZoneInfo("Europe/Madrid")
LANGUAGES = ("es", "ca", "en")


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer(TEMPLATES)


def ack_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "reference": "MD-2026-000123",
        "previous_reference": None,
        "client_name": "Pepe Martínez",
        "subject": "Sin internet en el bar",
        "category": "technical",
        "kind_label": "Avería de ADSL/fibra",
        "priority": "P2",
        "first_response_due": datetime(2026, 11, 27, 13, 30, tzinfo=MADRID),
        "deadline": datetime(2026, 11, 30, 9, 0, tzinfo=MADRID),
        "now": datetime(2026, 11, 27, 11, 0, tzinfo=MADRID),
        "company": {
            "name": "Telecom Levante",
            "support_address": "support@maildesk.test",
            "phone": "900 123 456",
            "website": "www.telecomlevante.test",
        },
        "self_service": [{"label": "Estado de la red", "url": "https://estado.test/red?a=1&b=2"}],
        "urgent_line": "900 000 111",
    }
    context.update(overrides)
    return context


def followup_context(**overrides: Any) -> dict[str, Any]:
    base = ack_context()
    context = {key: base[key] for key in ("reference", "client_name", "now", "company")}
    context.update(subject="Re: [MD-2026-000123] Recibido: Sin internet en el bar", status="open")
    context.update(overrides)
    return context


def when(tmp_path: Path, lang: str, value: Any, **extra: Any) -> str:
    """``value|when`` rendered in ``lang`` through a one-line probe template."""
    return filter_probe(tmp_path, lang, "{{ v|when }}", v=value, **extra)


def filter_probe(tmp_path: Path, lang: str, source: str, **values: Any) -> str:
    """Render ``source`` as the subject of a throw-away template in ``lang``."""
    folder = tmp_path / lang
    folder.mkdir(parents=True, exist_ok=True)
    for part in ("subject", "txt", "html"):
        (folder / f"probe.{part}.j2").write_text(source, encoding="utf-8")
    return TemplateRenderer(tmp_path).render("probe", lang, values).subject


# -- the real templates ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ["ack", "followup"])
def test_reference_is_in_subject_text_and_html(
    renderer: TemplateRenderer, name: str, lang: str
) -> None:
    context = ack_context() if name == "ack" else followup_context()
    mail = renderer.render(name, lang, context)
    assert isinstance(mail, RenderedMail)
    assert mail.subject.startswith("[MD-2026-000123] ")
    assert "\n" not in mail.subject
    assert "MD-2026-000123" in mail.text
    assert "MD-2026-000123" in mail.html
    assert f'<html lang="{lang}">' in mail.html
    assert "Pepe Martínez" in mail.text
    assert "Telecom Levante" in mail.text and "Telecom Levante" in mail.html
    assert mail.text.endswith("\n") and not mail.text.endswith("\n\n")


@pytest.mark.parametrize(
    ("lang", "subject", "deadline", "routed"),
    [
        (
            "es",
            "[MD-2026-000123] Recibido: Sin internet en el bar",
            "el lunes 30 de noviembre a las 9:00",
            "servicio técnico del operador",
        ),
        (
            "ca",
            "[MD-2026-000123] Rebut: Sin internet en el bar",
            "el dilluns 30 de novembre a les 9:00",
            "servei tècnic de l'operador",
        ),
        (
            "en",
            "[MD-2026-000123] Received: Sin internet en el bar",
            "Monday 30 November at 9:00",
            "operator's technical service",
        ),
    ],
)
def test_ack_content_per_language(
    renderer: TemplateRenderer, lang: str, subject: str, deadline: str, routed: str
) -> None:
    mail = renderer.render("ack", lang, ack_context())
    assert mail.subject == subject
    assert deadline in mail.text
    assert deadline in mail.html
    assert routed in mail.text
    assert "900 000 111" in mail.text  # urgent line for a technical incident
    assert "https://estado.test/red?a=1&b=2" in mail.text
    assert 'href="https://estado.test/red?a=1&amp;b=2"' in mail.html


@pytest.mark.parametrize(
    ("lang", "billing", "other"),
    [
        ("es", "centro de facturación del operador (CDF)", "Nuestro equipo la revisará"),
        ("ca", "centre de facturació de l'operador (CDF)", "El nostre equip la revisarà"),
        ("en", "operator's billing centre (CDF)", "Our team will review it"),
    ],
)
def test_ack_explains_where_the_incident_went(
    renderer: TemplateRenderer, lang: str, billing: str, other: str
) -> None:
    as_billing = renderer.render("ack", lang, ack_context(category="billing"))
    assert billing in as_billing.text
    assert "900 000 111" not in as_billing.text  # no outage line for an invoice question
    as_other = renderer.render("ack", lang, ack_context(category="other"))
    assert other in as_other.text
    assert "CDF" not in as_other.text


@pytest.mark.parametrize(
    ("lang", "greeting", "fallback_subject"),
    [
        ("es", "Hola:", "[MD-2026-000123] Recibido: su mensaje"),
        ("ca", "Hola:", "[MD-2026-000123] Rebut: el seu missatge"),
        ("en", "Hello,", "[MD-2026-000123] Received: your message"),
    ],
)
def test_ack_without_name_links_or_subject(
    renderer: TemplateRenderer, lang: str, greeting: str, fallback_subject: str
) -> None:
    context = ack_context(client_name="", subject="", self_service=[], urgent_line="")
    context["company"] = {**context["company"], "phone": "", "website": ""}
    mail = renderer.render("ack", lang, context)
    assert mail.subject == fallback_subject
    assert mail.text.startswith(greeting + "\n")
    assert "http" not in mail.text
    assert "<ul" not in mail.html


def test_ack_subject_drops_reply_markers_and_is_one_line(renderer: TemplateRenderer) -> None:
    mail = renderer.render("ack", "es", ack_context(subject="RV: Fwd:  factura\n duplicada\r\n"))
    assert mail.subject == "[MD-2026-000123] Recibido: factura duplicada"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "[MD-2026-000123] Añadido a su incidencia: Sin internet en el bar"),
        ("ca", "[MD-2026-000123] Afegit a la seva incidència: Sin internet en el bar"),
        ("en", "[MD-2026-000123] Added to your incident: Sin internet en el bar"),
    ],
)
def test_followup_subject_strips_our_own_prefixes(
    renderer: TemplateRenderer, lang: str, expected: str
) -> None:
    mail = renderer.render("followup", lang, followup_context())
    assert mail.subject == expected


@pytest.mark.parametrize(
    ("lang", "status_word"), [("es", "en curso"), ("ca", "en curs"), ("en", "in progress")]
)
def test_followup_localizes_status(renderer: TemplateRenderer, lang: str, status_word: str) -> None:
    mail = renderer.render("followup", lang, followup_context(status="in_progress"))
    assert status_word in mail.text
    assert "in_progress" not in mail.text


def test_html_escapes_client_subject_but_subject_line_stays_raw(
    renderer: TemplateRenderer,
) -> None:
    hostile = "<script>alert('x')</script> & co"
    mail = renderer.render("ack", "es", ack_context(client_name=hostile, subject=hostile))
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert hostile in mail.text  # plain text is not HTML: no entities there
    assert mail.subject.endswith(hostile)


def test_unsupported_language_falls_back_to_spanish(renderer: TemplateRenderer) -> None:
    mail = renderer.render("ack", "fr", ack_context())
    assert mail.subject.startswith("[MD-2026-000123] Recibido:")
    assert "el lunes 30 de noviembre a las 9:00" in mail.text
    assert '<html lang="es">' in mail.html


def test_regional_language_tags_are_accepted(renderer: TemplateRenderer) -> None:
    assert renderer.render("ack", "ca-ES", ack_context()).subject.startswith(
        "[MD-2026-000123] Rebut:"
    )
    assert renderer.language_for("EN_gb") == "en"
    assert renderer.language_for("") == "es"


def test_missing_context_variable_is_an_error(renderer: TemplateRenderer) -> None:
    context = ack_context()
    del context["deadline"]
    with pytest.raises(TemplateError) as caught:
        renderer.render("ack", "ca", context)
    assert caught.value.variable == "deadline"
    assert caught.value.template.startswith("ca/ack.")
    assert "'deadline'" in str(caught.value)


def test_available_lists_complete_templates(renderer: TemplateRenderer) -> None:
    found = renderer.available()
    for lang in LANGUAGES:
        assert ("ack", lang) in found
        assert ("followup", lang) in found
    assert all(not name.startswith("_") for name, _ in found)


# -- strictness and sandbox on templates written for the test ---------------------------


def write_templates(root: Path, lang: str, name: str, subject: str, text: str, html: str) -> None:
    folder = root / lang
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.subject.j2").write_text(subject, encoding="utf-8")
    (folder / f"{name}.txt.j2").write_text(text, encoding="utf-8")
    (folder / f"{name}.html.j2").write_text(html, encoding="utf-8")


def test_unknown_variable_names_template_line_and_variable(tmp_path: Path) -> None:
    write_templates(tmp_path, "es", "probe", "Hola", "uno\ndos\n{{ mystery_value }}\n", "<p></p>")
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {})
    error = caught.value
    assert error.template == "es/probe.txt.j2"
    assert error.line == 3
    assert error.variable == "mystery_value"
    assert str(error).startswith("es/probe.txt.j2:3:")


def test_unknown_attribute_of_a_mapping_is_an_error(tmp_path: Path) -> None:
    write_templates(tmp_path, "es", "probe", "{{ company.fax }}", "x", "<p></p>")
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {"company": {"name": "ACME"}})
    assert caught.value.variable == "fax"
    assert caught.value.template == "es/probe.subject.j2"


def test_error_in_shared_layout_names_the_layout(tmp_path: Path) -> None:
    (tmp_path / "_layout.html.j2").write_text("<p>\n{{ footer_note }}</p>", encoding="utf-8")
    write_templates(tmp_path, "es", "probe", "s", "t", '{% extends "_layout.html.j2" %}')
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {})
    assert (caught.value.template, caught.value.line) == ("_layout.html.j2", 2)
    assert caught.value.variable == "footer_note"


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_forbids_dunder_access(tmp_path: Path, expression: str) -> None:
    write_templates(tmp_path, "es", "probe", "ok", expression, "<p></p>")
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {})
    assert caught.value.message.startswith("forbidden by the sandbox")
    assert caught.value.line == 1
    assert "<class" not in str(caught.value)


def test_sandbox_forbids_mutating_the_context(tmp_path: Path) -> None:
    write_templates(tmp_path, "es", "probe", "{{ items.append(4) }}", "x", "<p></p>")
    items = [1, 2, 3]
    with pytest.raises(TemplateError, match="sandbox"):
        TemplateRenderer(tmp_path).render("probe", "es", {"items": items})
    assert items == [1, 2, 3]


def test_missing_template_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "probe.subject.j2").write_text("s", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {})
    assert str(tmp_path / "es" / "probe.txt.j2") in str(caught.value)


def test_supported_language_without_the_template_is_an_error_not_a_fallback(
    tmp_path: Path,
) -> None:
    write_templates(tmp_path, "es", "probe", "es", "es", "es")
    with pytest.raises(TemplateError, match=r"en/probe\.subject\.j2"):
        TemplateRenderer(tmp_path).render("probe", "en", {})


def test_syntax_error_names_line(tmp_path: Path) -> None:
    write_templates(tmp_path, "es", "probe", "s", "ok\n{% if %}\n", "<p></p>")
    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(tmp_path).render("probe", "es", {})
    assert (caught.value.template, caught.value.line) == ("es/probe.txt.j2", 2)


def test_autoescape_only_for_html_and_text_is_tidied(tmp_path: Path) -> None:
    write_templates(
        tmp_path,
        "es",
        "probe",
        "  {{ v }}\n\n  más\t texto \n",
        "{{ v }}   \n\n\n\nfin",
        "<p>{{ v }}</p>",
    )
    mail = TemplateRenderer(tmp_path).render("probe", "es", {"v": "a < b"})
    assert mail.subject == "a < b más texto"
    assert mail.text == "a < b\n\nfin\n"
    assert mail.html == "<p>a &lt; b</p>"


def test_invalid_template_name_is_rejected(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError, match="invalid template name"):
        renderer.render("../ack", "es", ack_context())


def test_constructor_validates_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="default language"):
        TemplateRenderer(tmp_path, languages=("ca", "en"), default_language="es")
    with pytest.raises(ValueError, match="timezone"):
        TemplateRenderer(tmp_path, timezone="Europe/Atlantis")
    with pytest.raises(ValueError, match="does not exist"):
        TemplateRenderer(tmp_path / "nowhere")


# -- filters -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 1, 10, 0, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("lang", "value", "expected"),
    [
        ("es", datetime(2026, 11, 30, 9, 0, tzinfo=MADRID), "el lunes 30 de noviembre a las 9:00"),
        ("ca", datetime(2026, 11, 30, 9, 0, tzinfo=MADRID), "el dilluns 30 de novembre a les 9:00"),
        ("en", datetime(2026, 11, 30, 9, 0, tzinfo=MADRID), "Monday 30 November at 9:00"),
        # 1 o'clock is singular, 13 o'clock plural
        ("es", datetime(2026, 11, 30, 1, 15, tzinfo=MADRID), "el lunes 30 de noviembre a la 1:15"),
        ("ca", datetime(2026, 11, 30, 1, 0, tzinfo=MADRID), "el dilluns 30 de novembre a la 1:00"),
        (
            "es",
            datetime(2026, 11, 30, 13, 0, tzinfo=MADRID),
            "el lunes 30 de noviembre a las 13:00",
        ),
        (
            "ca",
            datetime(2026, 11, 30, 13, 0, tzinfo=MADRID),
            "el dilluns 30 de novembre a les 13:00",
        ),
        # Catalan elides "de" before a vowel
        ("ca", datetime(2026, 10, 5, 10, 30, tzinfo=MADRID), "el dilluns 5 d'octubre a les 10:30"),
        ("ca", datetime(2026, 4, 1, 18, 0, tzinfo=MADRID), "el dimecres 1 d'abril a les 18:00"),
        ("ca", datetime(2026, 8, 3, 8, 0, tzinfo=MADRID), "el dilluns 3 d'agost a les 8:00"),
        ("es", datetime(2026, 10, 5, 10, 30, tzinfo=MADRID), "el lunes 5 de octubre a las 10:30"),
    ],
)
def test_when_phrases(tmp_path: Path, lang: str, value: datetime, expected: str) -> None:
    assert when(tmp_path, lang, value, now=NOW) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # 2026-07-15 07:00 UTC is 9:00 in Madrid (CEST, +2); in winter (CET, +1) it is 8:00.
        (datetime(2026, 7, 15, 7, 0, tzinfo=UTC), "el miércoles 15 de julio a las 9:00"),
        (datetime(2026, 1, 14, 7, 0, tzinfo=UTC), "el miércoles 14 de enero a las 8:00"),
        # 23:30 UTC on the 30th is already 1:30 on the 31st in Madrid (singular "la")
        (datetime(2026, 3, 30, 23, 30, tzinfo=UTC), "el martes 31 de marzo a la 1:30"),
    ],
)
def test_when_converts_to_local_time(tmp_path: Path, instant: datetime, expected: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert when(tmp_path, "es", instant, now=now) == expected


def test_when_uses_the_renderers_timezone(tmp_path: Path) -> None:
    (tmp_path / "es").mkdir()
    for part in ("subject", "txt", "html"):
        (tmp_path / "es" / f"probe.{part}.j2").write_text("{{ v|when }}", encoding="utf-8")
    canary = TemplateRenderer(tmp_path, timezone="Atlantic/Canary")
    instant = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)
    phrase = canary.render("probe", "es", {"v": instant, "now": instant}).subject
    assert phrase == "el miércoles 15 de julio a las 8:00"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "el lunes 4 de enero de 2027 a las 9:00"),
        ("ca", "el dilluns 4 de gener de 2027 a les 9:00"),
        ("en", "Monday 4 January 2027 at 9:00"),
    ],
)
def test_when_adds_the_year_only_when_it_differs_from_now(
    tmp_path: Path, lang: str, expected: str
) -> None:
    value = datetime(2027, 1, 4, 9, 0, tzinfo=MADRID)
    assert when(tmp_path, lang, value, now=datetime(2026, 12, 30, tzinfo=MADRID)) == (expected)
    same_year = when(tmp_path, lang, value, now=datetime(2027, 1, 1, 12, tzinfo=MADRID))
    assert "2027" not in same_year
    assert "2027" in when(tmp_path, lang, value)  # no ``now``: be explicit


def test_year_is_compared_in_local_time(tmp_path: Path) -> None:
    # 2026-12-31 23:30 UTC is already 2027 in Madrid: same local year as the deadline.
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    value = datetime(2027, 1, 4, 9, 0, tzinfo=MADRID)
    assert when(tmp_path, "es", value, now=now) == ("el lunes 4 de enero a las 9:00")


def test_naive_datetime_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="naive datetime"):
        when(tmp_path, "es", datetime(2026, 11, 30, 9, 0))


def test_date_and_time_short(tmp_path: Path) -> None:
    instant = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)  # 9:05 in Madrid
    assert filter_probe(tmp_path, "es", "{{ v|date_short }} {{ v|time_short }}", v=instant) == (
        "30/11/2026 9:05"
    )
    early = datetime(2026, 3, 4, 22, 0, tzinfo=UTC)  # 23:00 on the 4th in Madrid
    assert filter_probe(tmp_path, "en", "{{ v|date_short }} {{ v|time_short }}", v=early) == (
        "04/03/2026 23:00"
    )


@pytest.mark.parametrize(
    ("lang", "value", "expected"),
    [
        ("es", timedelta(hours=2, minutes=30), "2 h 30 min"),
        ("es", 45, "45 min"),
        ("es", timedelta(hours=4), "4 h"),
        ("es", timedelta(days=3), "3 días"),
        ("es", timedelta(days=1), "1 día"),
        ("ca", timedelta(days=3), "3 dies"),
        ("ca", timedelta(days=1, hours=4), "1 dia 4 h"),
        ("en", timedelta(days=2), "2 days"),
        ("en", 90, "1 h 30 min"),
        ("es", 0, "0 min"),
    ],
)
def test_duration(tmp_path: Path, lang: str, value: Any, expected: str) -> None:
    assert filter_probe(tmp_path, lang, "{{ v|duration }}", v=value) == expected


def test_negative_duration_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="negative duration"):
        filter_probe(tmp_path, "es", "{{ v|duration }}", v=timedelta(minutes=-5))


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: RV: Factura", "Factura"),
        ("Re: [MD-2026-000123] Recibido: Sin línea", "Sin línea"),
        ("Fwd: [MD-2026-000123] Rebut: Centraleta", "Centraleta"),
        ("Recibido el presupuesto", "Recibido el presupuesto"),
        ("Re:", ""),
    ],
)
def test_topic_filter(tmp_path: Path, subject: str, expected: str) -> None:
    source = '{{ s|topic(["Recibido:", "Rebut:"]) }}'
    assert filter_probe(tmp_path, "es", source, s=subject) == expected


def test_language_without_phrasing_uses_babel_wording(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    for part in ("subject", "txt", "html"):
        (tmp_path / "fr" / f"probe.{part}.j2").write_text("{{ v|when }}", encoding="utf-8")
    renderer = TemplateRenderer(tmp_path, languages=("es", "fr"))
    value = datetime(2026, 11, 30, 9, 0, tzinfo=MADRID)
    assert renderer.render("probe", "fr", {"v": value, "now": value}).subject == (
        "lundi 30 novembre, 9:00"
    )


def test_previews_promise_only_what_the_calendar_allows() -> None:
    from maildesk.config import Config, load_config
    from maildesk.outbound.samples import sample_context
    from maildesk.schedule import build_calendar

    config: Config = load_config(TEMPLATES.parent / "config.example.toml")
    calendar = build_calendar(config.schedule)
    late = datetime(2026, 12, 2, 22, 52, tzinfo=MADRID)  # a Wednesday night
    ack = sample_context(config, "ack", "es", late)
    assert ack["now"] == datetime(2026, 12, 3, 9, 0, tzinfo=MADRID)  # arrived at the opening
    technical = next(k for k in config.kinds if k.category == "technical")
    first_minutes = config.targets(technical, "P1")[0]
    assert calendar.elapsed(ack["now"], ack["first_response_due"]) == timedelta(
        minutes=first_minutes
    )
    closed = sample_context(config, "ack_closed", "es", late)
    assert not closed["open_now"] and not calendar.is_open(closed["now"])
    assert closed["opens_at"] == calendar.next_opening(closed["now"])
    assert closed["first_response_due"] > closed["opens_at"]


@pytest.mark.parametrize("name", ["ack", "ack_closed"])
@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("es", "Continúa la incidencia MD-2026-000077"),
        ("ca", "Continua la incidència MD-2026-000077"),
        ("en", "It follows on from incident MD-2026-000077"),
    ],
)
def test_an_acknowledgement_names_the_resolved_incident_it_follows_on_from(
    renderer: TemplateRenderer, name: str, lang: str, says: str
) -> None:
    opens = datetime(2026, 12, 1, 9, 0, tzinfo=MADRID)
    extra = {"open_now": name == "ack", "opens_at": opens}
    rendered = renderer.render(
        name, lang, ack_context(previous_reference="MD-2026-000077", **extra)
    )
    assert says in rendered.text and says in rendered.html
    plain = renderer.render(name, lang, ack_context(**extra))
    assert "MD-2026-000077" not in plain.text
