"""Stress checks: what must hold whatever the mail's style, printed by ``maildesk evaluate``.

- *courtesy*: the same mail with a formal opening and closing keeps its category;
- *content-free*: empty and near-empty mail ("hello", "thanks", a bare subject) is unsure;
- *padding*: the same mail padded to three times its length with courtesy, a signature
  and a legal footer keeps its category;
- *other trades*: technical and billing mail from other industries (gyms, insurers,
  utilities, airlines…: ``data/heldout/stress/``) still sorts technical vs billing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from maildesk.triage.learned.corpus import Example
from maildesk.triage.learned.model import TrainedModel

KEEP_SHARE = 0.95  # of the mails, at least, whose category must survive a change of style
TRADES_F1 = 0.90
TRADES_LOST = 0.10

COURTESY: dict[str, tuple[str, str]] = {
    "es": (
        "Estimado equipo de atención al cliente:\n\nEspero que se encuentren bien. Les "
        "escribo con relación al siguiente asunto.",
        "Les agradezco de antemano su atención y quedo a la espera de su respuesta.\n\n"
        "Atentamente,\nMaría Fernández",
    ),
    "ca": (
        "Benvolgut equip d'atenció al client,\n\nEspero que estigueu bé. Us escric en "
        "relació amb el que segueix.",
        "Us agraeixo per endavant l'atenció i resto a l'espera de la vostra resposta.\n\n"
        "Atentament,\nJordi Puig",
    ),
    "en": (
        "Dear Customer Support Team,\n\nI hope this message finds you well. I am writing "
        "to you regarding the following matter.",
        "Thank you in advance for your prompt attention to this matter. I look forward to "
        "hearing from you.\n\nKind regards,\nJohn Smith",
    ),
    "de": (
        "Sehr geehrte Damen und Herren,\n\nich hoffe, es geht Ihnen gut. Ich wende mich "
        "mit folgendem Anliegen an Sie.",
        "Vielen Dank im Voraus für Ihre Unterstützung. Ich freue mich auf Ihre Antwort.\n\n"
        "Mit freundlichen Grüßen\nAnna Müller",
    ),
    "fr": (
        "Madame, Monsieur,\n\nJ'espère que vous allez bien. Je me permets de vous contacter "
        "au sujet de ce qui suit.",
        "Je vous remercie par avance de votre attention et reste dans l'attente de votre "
        "réponse.\n\nCordialement,\nClaire Martin",
    ),
    "pt": (
        "Prezados senhores,\n\nEspero que esta mensagem os encontre bem. Venho por meio "
        "deste contactá-los sobre o seguinte assunto.",
        "Agradeço desde já a vossa atenção e fico a aguardar a vossa resposta.\n\n"
        "Atenciosamente,\nAna Souza",
    ),
    "it": (
        "Gentile Servizio Clienti,\n\nspero che stiate bene. Vi scrivo in merito alla "
        "seguente questione.",
        "Vi ringrazio anticipatamente per l'attenzione e resto in attesa di un vostro "
        "riscontro.\n\nCordiali saluti,\nMarco Rossi",
    ),
}

FOOTER = (
    "Este mensaje y sus anexos son confidenciales y se dirigen exclusivamente a su "
    "destinatario. This message and its attachments are confidential and intended solely "
    "for the addressee. Tel. 912 345 678 · www.example.com"
)

CONTENT_FREE: tuple[tuple[str, str], ...] = (
    ("", ""),
    ("", " "),
    ("hello", ""),
    ("Hola", ""),
    ("", "Hola"),
    ("Hola", "Buenos días"),
    ("Consulta", ""),
    ("", "gracias"),
    ("Re:", "Gracias!"),
    ("Bon dia", "Moltes gràcies"),
    ("Hi", "Thanks"),
    ("Hello", "Hello, hope you are well. Regards"),
    ("Question", "Hi team, quick question. Thanks"),
    ("Hallo", "Vielen Dank"),
    ("Bonjour", "Merci beaucoup"),
    ("Olá", "Obrigado"),
    ("Ciao", "Grazie mille"),
    ("", "?"),
    ("test", "test"),
    ("Fwd:", ""),
)


@dataclass(frozen=True, slots=True)
class StressResult:
    name: str
    passed: bool
    figure: str  # what was measured, in words


def run_stress(
    model: TrainedModel,
    examples: Sequence[Example],
    threshold: float,
    trades: Sequence[Example] = (),
) -> list[StressResult]:
    """Every stress check on ``examples`` (the held-out mail) and ``trades``."""
    tech_billing = [e for e in examples if e.category in ("technical", "billing")]
    results = [
        _keeps(model, tech_billing, threshold, "courtesy", _with_courtesy),
        _content_free(model, threshold),
        _keeps(model, tech_billing, threshold, "padding", _padded),
    ]
    if trades:
        results.append(_trades(model, trades, threshold))
    return results


def _with_courtesy(example: Example) -> str:
    opening, closing = COURTESY.get(example.language or "es", COURTESY["es"])
    return f"{opening}\n\n{example.text}\n\n{closing}"


def _padded(example: Example) -> str:
    opening, closing = COURTESY.get(example.language or "es", COURTESY["es"])
    filler = f"{opening}\n\n{closing}\n\n{FOOTER}"
    text = example.text
    target = 3 * max(len(example.subject) + len(example.text), 1)
    padding: list[str] = []
    while len(text) + sum(len(p) for p in padding) < target:
        padding.append(filler)
    return text + "\n\n" + "\n\n".join(padding)


def _keeps(
    model: TrainedModel,
    examples: Sequence[Example],
    threshold: float,
    name: str,
    change: object,
) -> StressResult:
    if not examples:
        return StressResult(name, False, "no technical or billing mail to change")
    kept = 0
    for example in examples:
        before = model.predict(example.subject, example.text, threshold).category
        after = model.predict(example.subject, change(example), threshold).category  # type: ignore[operator]
        kept += before == after
    share = kept / len(examples)
    return StressResult(
        name,
        share >= KEEP_SHARE,
        f"category kept on {kept}/{len(examples)} ({100 * share:.1f}%, needs "
        f"{100 * KEEP_SHARE:.0f}%)",
    )


def _content_free(model: TrainedModel, threshold: float) -> StressResult:
    predictions = [model.predict(s, b, threshold) for s, b in CONTENT_FREE]
    missed = [
        f"{s or b!r}→{p.category}"
        for (s, b), p in zip(CONTENT_FREE, predictions, strict=True)
        if not p.unsure
    ]
    return StressResult(
        "content-free",
        not missed,
        f"unsure on {len(CONTENT_FREE) - len(missed)}/{len(CONTENT_FREE)}"
        + (f"; decided: {', '.join(missed)}" if missed else ""),
    )


def _trades(model: TrainedModel, trades: Sequence[Example], threshold: float) -> StressResult:
    from maildesk.triage.learned.evaluation import evaluate

    result = evaluate(model, trades, threshold)
    passed = result.tech_billing_macro_f1 >= TRADES_F1 and result.tech_billing_lost <= TRADES_LOST
    return StressResult(
        "other trades",
        passed,
        f"{result.count} mails: technical vs billing macro-F1 {result.tech_billing_macro_f1:.3f} "
        f"(needs {TRADES_F1:.2f}), other or unsure {100 * result.tech_billing_lost:.1f}% "
        f"(at most {100 * TRADES_LOST:.0f}%)",
    )


def format_stress(results: Sequence[StressResult]) -> str:
    lines = ["stress checks:"]
    for result in results:
        lines.append(f"  {'PASS' if result.passed else 'FAIL'}  {result.name:<13} {result.figure}")
    return "\n".join(lines)


def trades_path(data: Path) -> Path | None:
    """The other-trades set beside a held-out directory (``<data>/stress``), if any."""
    folder = data / "stress" if data.is_dir() else data.parent / "stress"
    return folder if folder.is_dir() and any(folder.glob("*.jsonl")) else None
