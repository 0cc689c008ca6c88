"""detect_language: es / ca / en on short support-mail texts."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from maildesk.inbound.language import LanguageGuess, detect_language

CATALAN = [
    "No tinc connexió a internet des d'ahir a la tarda.",
    "La factura d'aquest mes està duplicada.",
    "El datàfon no funciona i no podem cobrar amb targeta.",
    "Bon dia, el router té el llum vermell i no hi ha línia.",
    "Us escric perquè m'han cobrat dues vegades la quota.",
    "Gràcies per la resposta, però el problema continua.",
    "Necessito canviar l'adreça de facturació de l'empresa.",
    "El telèfon fix de la botiga no té to des de dilluns.",
    "Quan vindrà el tècnic a revisar la instal·lació?",
    "La fibra va molt lenta a les tardes, sobretot a partir de les sis.",
    "Voldria donar de baixa la línia mòbil del meu pare.",
    "No puc accedir a l'àrea de clients, em diu que la contrasenya és incorrecta.",
    "Hem rebut un terminal nou però no sabem com configurar-lo.",
    "Si us plau, envieu-me una còpia de la factura de novembre.",
    "Aquesta setmana s'ha tallat la connexió tres vegades.",
    "El senyal del wifi no arriba a l'oficina del fons.",
    "Tenim un error a la impressora de tiquets del datàfon.",
    "Podeu trucar-me al mòbil quan sigui possible?",
    "Encara no he rebut el reemborsament que em vau prometre.",
    "La centraleta no desvia les trucades a les extensions.",
    "M'heu cobrat un servei que no he contractat mai.",
    "Quin és l'horari del servei tècnic els dissabtes?",
    "Avui la línia funciona, però ahir no anava.",
    "He canviat el router de lloc i ara no connecta.",
    "Vull saber per què ha pujat el preu de la tarifa.",
]

SPANISH = [
    "No tengo conexión a internet desde ayer por la tarde.",
    "La factura de este mes está duplicada.",
    "El datáfono no funciona y no podemos cobrar con tarjeta.",
    "Buenos días, el router tiene la luz roja y no hay línea.",
    "Les escribo porque me han cobrado dos veces la cuota.",
    "Gracias por la respuesta, pero el problema sigue.",
    "Necesito cambiar la dirección de facturación de la empresa.",
    "El teléfono fijo de la tienda no tiene tono desde el lunes.",
    "¿Cuándo vendrá el técnico a revisar la instalación?",
    "La fibra va muy lenta por las tardes, sobre todo a partir de las seis.",
    "Quisiera dar de baja la línea móvil de mi padre.",
    "No puedo acceder al área de clientes, me dice que la contraseña es incorrecta.",
    "Hemos recibido un terminal nuevo pero no sabemos cómo configurarlo.",
    "Por favor, envíenme una copia de la factura de noviembre.",
    "Esta semana se ha cortado la conexión tres veces.",
    "La señal del wifi no llega a la oficina del fondo.",
    "Tenemos un error en la impresora de tickets del datáfono.",
    "¿Pueden llamarme al móvil cuando sea posible?",
    "Todavía no he recibido el reembolso que me prometieron.",
    "La centralita no desvía las llamadas a las extensiones.",
    "Me han cobrado un servicio que nunca he contratado.",
    "¿Cuál es el horario del servicio técnico los sábados?",
    "Hoy la línea funciona, pero ayer no iba.",
    "He cambiado el router de sitio y ahora no conecta.",
    "Quiero saber por qué ha subido el precio de la tarifa.",
]

ENGLISH = [
    "I have had no internet connection since yesterday afternoon.",
    "This month's invoice has been charged twice.",
    "The card terminal is not working and we cannot take payments.",
    "Good morning, the router shows a red light and there is no dial tone.",
    "Could you please send me a copy of the November invoice?",
    "The fibre is very slow in the evenings.",
    "We would like to cancel the mobile line.",
    "When will the technician come to check the installation?",
    "I cannot log in to the customer area.",
    "The switchboard does not forward calls to the extensions.",
    "Thanks for your reply, but the problem persists.",
    "Please call me back on my mobile as soon as possible.",
]

# Very short, unaccented, typed-on-a-phone texts: where py3langid alone confuses ca and es.
CATALAN_TERSE = [
    "Bon dia, no va internet",
    "el datafon no funciona",
    "No tinc linia",
    "Hola, la factura esta malament",
    "tinc un problema amb el router",
    "gracies per tot",
    "Necessito ajuda amb la factura",
    "Que passa amb la meva linia?",
    "el mobil no te cobertura",
    "hola bon dia, el telefon no va",
    "avui no funciona res",
    "Ens podeu trucar?",
    "Moltes gracies pel servei",
    "no hi ha connexio a la botiga",
    "el wifi va molt lent",
    "la centraleta esta penjada",
    "la quota es incorrecta",
    "Hola. El router fa pampallugues",
    "Ja funciona, gracies",
    "La fibra no va",
]
SPANISH_TERSE = [
    "Buenos dias, no va internet",
    "el datafono no funciona",
    "No tengo linea",
    "Hola, la factura esta mal",
    "tengo un problema con el router",
    "gracias por todo",
    "Necesito ayuda con la factura",
    "Que pasa con mi linea?",
    "el movil no tiene cobertura",
    "hola buenos dias, el telefono no va",
    "hoy no funciona nada",
    "Nos pueden llamar?",
    "Muchas gracias por el servicio",
    "no hay conexion en la tienda",
    "el wifi va muy lento",
    "la centralita esta colgada",
    "la cuota es incorrecta",
    "Hola. El router parpadea",
    "Ya funciona, gracias",
    "La fibra no va",
]


@pytest.mark.parametrize("text", CATALAN)
def test_catalan_support_sentences(text: str) -> None:
    guess = detect_language(text)

    assert guess.language == "ca"
    assert guess.confidence >= 0.6


@pytest.mark.parametrize("text", SPANISH)
def test_spanish_support_sentences(text: str) -> None:
    assert detect_language(text).language == "es"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_support_sentences(text: str) -> None:
    guess = detect_language(text)

    assert guess.language == "en"
    assert guess.reason == "model"


def test_terse_unaccented_texts_mostly_right_and_never_confidently_wrong() -> None:
    catalan = [detect_language(text) for text in CATALAN_TERSE]
    spanish = [detect_language(text) for text in SPANISH_TERSE]

    assert sum(g.language == "ca" for g in catalan) >= 19
    assert all(g.language == "es" for g in spanish)
    wrong = [g for g in catalan if g.language != "ca"] + [g for g in spanish if g.language != "es"]
    assert all(g.reason == "low-confidence" for g in wrong)


def test_markers_overrule_the_model_on_short_catalan() -> None:
    guess = detect_language("el datafon no funciona")

    assert guess == LanguageGuess("ca", guess.confidence, "markers", "ca")
    assert guess.confidence > 0.6


@pytest.mark.parametrize(
    "text", ["", "   ", "Hola", "Gracias!", "Error 404 :-(", "https://x.es/a/b"]
)
def test_too_short_text_gives_the_default(text: str) -> None:
    assert detect_language(text, default="ca") == LanguageGuess("ca", 0.0, "too-short")


def test_ambiguous_text_gives_the_default_with_low_confidence() -> None:
    spanish_default = detect_language("La fibra no va")
    catalan_default = detect_language("La fibra no va", default="ca")

    assert (spanish_default.language, spanish_default.reason) == ("es", "low-confidence")
    assert (catalan_default.language, catalan_default.reason) == ("ca", "low-confidence")
    assert spanish_default.confidence + catalan_default.confidence == pytest.approx(1.0, abs=0.05)


def test_supported_languages_restrict_the_answer() -> None:
    text = "The card terminal is not working and we cannot take payments."

    assert detect_language(text, supported=("es", "ca")).language in {"es", "ca"}
    assert detect_language(CATALAN[0], supported=("ca", "en")).language == "ca"


def test_unknown_language_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="xx"):
        detect_language("No tengo conexión desde ayer", supported=("es", "xx"))


def test_a_whole_mail_with_links_and_addresses() -> None:
    text = (
        "Bon dia,\n\nUs escric perquè des de dilluns no tenim connexió a la botiga de "
        "Sabadell. Ja he reiniciat el router dues vegades, tal com diu a "
        "https://www.telecom.example/ajuda/router, però continua igual.\n"
        "Podeu contactar amb en Jordi a jordi.vila@botiga.example o al 600 000 000.\n\n"
        "Moltes gràcies,\nMarta"
    )

    guess = detect_language(text)

    assert guess == LanguageGuess("ca", guess.confidence, "model", "ca")
    assert guess.confidence > 0.9


def test_guess_is_frozen() -> None:
    guess = detect_language(SPANISH[0])

    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.language = "ca"  # type: ignore[misc]


def test_concurrent_calls_with_different_language_sets_do_not_interfere() -> None:
    jobs = [
        (text, supported)
        for text in (CATALAN[0], SPANISH[0], ENGLISH[0])
        for supported in (("es", "ca", "en"), ("en", "es"), ("ca", "en"))
    ] * 20

    def guess(job: tuple[str, tuple[str, ...]]) -> LanguageGuess:
        return detect_language(job[0], supported=job[1], default=job[1][0])

    expected = {job: guess(job) for job in set(jobs)}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(guess, jobs))

    assert results == [expected[job] for job in jobs]
    assert expected[(ENGLISH[0], ("ca", "en"))].language == "en"
    # Spanish is recognised, and answered in the default when we do not answer in Spanish
    assert expected[(SPANISH[0], ("ca", "en"))] == LanguageGuess(
        "ca", expected[(SPANISH[0], ("ca", "en"))].confidence, "unsupported", "es"
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Sehr geehrte Damen und Herren, seit gestern funktioniert unser Internet nicht.", "de"),
        ("Bonjour, notre connexion internet ne fonctionne plus depuis hier soir.", "fr"),
        ("Bom dia, a internet da loja não funciona desde ontem à noite.", "pt"),
        ("Buongiorno, la connessione internet non funziona da ieri sera, grazie.", "it"),
        ("Olá, a fatura deste mês veio com um valor cobrado duas vezes.", "pt"),
        ("Guten Tag, die Rechnung für November wurde doppelt abgebucht.", "de"),
        ("您好，我们店里的网络从昨天开始就不能用了，请尽快处理。", "zh"),
        ("こんにちは、昨日からインターネットが使えません。", "ja"),
    ],
)
def test_other_languages_are_recorded_and_answered_in_the_default(text: str, language: str) -> None:
    guess = detect_language(text, default="en")

    assert (guess.detected, guess.language, guess.reason) == (language, "en", "unsupported")


def test_a_language_we_answer_in_is_answered_in_itself() -> None:
    guess = detect_language(
        "Bonjour, notre connexion internet ne fonctionne plus.", supported=("es", "fr")
    )
    assert (guess.language, guess.detected) == ("fr", "fr")
    chinese = detect_language("您好，我们店里的网络从昨天开始就不能用了。", supported=("es", "zh"))
    assert (chinese.language, chinese.reason) == ("zh", "script")


def test_the_compact_language_model_is_cached_and_remade_when_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maildesk.inbound import language

    monkeypatch.setenv("MAILDESK_CACHE_DIR", str(tmp_path))
    first = language._compact_arrays(("de", "en", "es"))
    [folder] = tmp_path.glob("langid-*")
    assert sorted(first["classes"].tolist()) == ["de", "en", "es"]
    assert first["ptc"].shape[1] == 3
    mapped = language._compact_arrays(("de", "en", "es"))
    assert isinstance(mapped["nextmove"], np.memmap)  # mapped, not read whole
    assert np.array_equal(mapped["nextmove"][:1000], first["nextmove"][:1000])
    (folder / "ptc.npy").write_bytes(b"garbage")
    again = language._compact_arrays(("de", "en", "es"))
    assert np.array_equal(np.asarray(again["ptc"]), np.asarray(first["ptc"]))
    assert (folder / "ptc.npy").stat().st_size > 100


def test_the_restricted_ranking_is_the_wide_one_renormalised() -> None:
    """One walk over the text serves both rankings: the softmax of per-language scores,
    restricted, equals the renormalised wide probabilities (checked against the model
    restricted for real, on mails of every kind in the corpora)."""
    from pathlib import Path

    from maildesk.inbound.language import RECOGNISED, _identifier, _restricted

    supported = ("ca", "en", "es")
    wide_model = _identifier(tuple(sorted(set(supported) | set(RECOGNISED))))
    narrow_model = _identifier(supported)
    root = Path(__file__).resolve().parents[2]
    samples = [
        p.read_text("utf-8", "replace")[:2000]
        for p in sorted((root / "tests" / "corpus" / "odd").rglob("*.eml"))[:60]
    ]
    samples += ["Bon dia, la factura d'aquest mes no és correcta.", "Guten Tag, die Rechnung"]
    compared = 0
    for sample in samples:
        wide = dict(wide_model.rank(sample))
        derived = _restricted(wide, supported)
        if derived is None:
            continue
        real = dict(narrow_model.rank(sample))
        assert set(derived) == set(real)
        for language in supported:
            assert abs(derived[language] - real[language]) < 1e-4, (sample[:80], language)
        compared += 1
    assert compared >= 40
