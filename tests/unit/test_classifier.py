"""The trained classifier: the shipped model, its file safety, the command line, corrections."""

from __future__ import annotations

import io
import json
import shutil
import sys
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pytest

from maildesk.cli import main
from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.daemon import build_parts
from maildesk.learn.corpus import CorpusError, load_examples
from maildesk.learn.evaluation import evaluate
from maildesk.learn.features import model_text
from maildesk.learn.model import (
    META_FILE,
    MODEL_FILE,
    LinearCalibrated,
    ModelError,
    load,
)
from maildesk.pipeline import InboundMail, Outcome
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import write_offline_config
from maildesk.triage import TriageInput, default_triager

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
CONFIG = load_config(REPO / "config.example.toml")
KINDS = {kind.id: kind.category for kind in CONFIG.kinds}
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    return load(MODELS)


def test_the_shipped_model_loads_and_its_metrics_match_its_metadata(shipped) -> None:  # type: ignore[no-untyped-def]
    meta = shipped.metadata
    test = meta["data"]["test"]
    examples = load_examples(REPO / test["path"], KINDS)
    assert len(examples) == test["count"] >= 400
    measured = evaluate(shipped, examples, CONFIG.triage.confidence_threshold).summary()
    assert measured == meta["metrics"]["test"]
    assert measured["tech_billing_macro_f1"] >= 0.93
    assert meta["data"]["train"]["count"] >= 1500
    assert set(meta["labels"]["kind"]) == set(KINDS)
    assert (MODELS / MODEL_FILE).stat().st_size <= 10 * 1024 * 1024


def test_the_shipped_model_is_reproduced_from_the_corpus(shipped) -> None:  # type: ignore[no-untyped-def]
    from maildesk.learn.model import train

    meta = shipped.metadata
    examples = load_examples(REPO / meta["data"]["train"]["path"], KINDS)
    from maildesk.learn.corpus import corpus_digest

    assert corpus_digest(examples) == meta["data"]["train"]["sha256"]
    again = train(examples, KINDS)
    test = load_examples(REPO / meta["data"]["test"]["path"], KINDS)
    threshold = CONFIG.triage.confidence_threshold
    assert evaluate(again, test, threshold).summary() == meta["metrics"]["test"]


def test_the_model_classifies_each_language_and_flags_unsure_mail() -> None:
    triager = default_triager(CONFIG, build_calendar(CONFIG.schedule))
    cases = [
        ("El datáfono no pasa tarjetas", "Desde esta mañana sale error de comunicación.", "es"),
        ("Factura", "Ens heu cobrat dues vegades la quota de novembre.", "ca"),
        ("Internet down", "Our fibre has been dead since 8am, the router shows a red light.", "en"),
        ("Fatura duplicada", "Cobraram-nos duas vezes a fatura de outubro. Podem devolver?", "pt"),
    ]
    got = [
        triager.triage(TriageInput(s, b, lang, "c@x.es"), NOW).classification
        for s, b, lang in cases
    ]
    assert [(c.category, c.kind) for c in got] == [
        ("technical", "card_terminal"),
        ("billing", "invoice_error"),
        ("technical", "outage"),
        ("billing", "invoice_error"),
    ]
    assert all(c.reason.startswith("model ") and c.confidence > 0.6 for c in got)
    strict = CONFIG.model_copy(
        update={"triage": CONFIG.triage.model_copy(update={"confidence_threshold": 0.999})}
    )
    vague = default_triager(strict, build_calendar(CONFIG.schedule)).triage(
        TriageInput("Hola", "Tengo una duda, ¿me podéis llamar?", "es", "c@x.es"), NOW
    )
    assert vague.unsure


def test_features_replace_numbers_that_identify_nothing_general() -> None:
    text = model_text(
        "Factura FAC-2026-004512",
        "Cobrado 49,90 € dos veces; IBAN ES91 2100 0418 4502 0005 1332, tel. 612 345 678.",
    )
    assert "zinvoicez" in text and "zamountz" in text and "zibanz" in text
    assert "zphonez" in text and not any(ch.isdigit() for ch in text)


def test_fast_transforms_equal_scikit_learn(shipped) -> None:  # type: ignore[no-untyped-def]
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    texts = [model_text("Sin internet", "No va la fibra desde ayer"), model_text("", "hola")]
    for fast in shipped.vectorizers:
        theirs = fast.vectorizer.transform(texts).toarray()
        for text, expected in zip(texts, theirs, strict=True):
            columns, values = fast.row(text)
            ours = np.zeros(fast.width)
            ours[columns] = values
            assert np.allclose(ours, expected, atol=1e-6)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 5))
    for labels in (np.array(["a", "b"] * 30), np.array(["a", "b", "c"] * 20)):
        fitted = CalibratedClassifierCV(
            LinearSVC(random_state=0), method="sigmoid", cv=3, ensemble=False
        ).fit(features, labels)
        linear = LinearCalibrated.from_sklearn(fitted)
        ours = [linear.proba_row(np.arange(5), row.astype(np.float32)) for row in features]
        assert np.allclose(ours, fitted.predict_proba(features), atol=1e-4)


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(MODELS, copy)
    data = bytearray((copy / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the metadata"):
        load(copy)


def test_a_model_file_with_untrusted_types_is_refused_even_with_a_matching_hash(
    tmp_path: Path,
) -> None:
    import hashlib

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    copy = tmp_path / "models"
    shutil.copytree(MODELS, copy)
    sio.dump({"category_model": LogisticRegression()}, copy / MODEL_FILE)
    meta = json.loads((copy / META_FILE).read_text())
    meta["model_sha256"] = hashlib.sha256((copy / MODEL_FILE).read_bytes()).hexdigest()
    (copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"untrusted types: .*LogisticRegression"):
        load(copy)
    assert zipfile.is_zipfile(copy / MODEL_FILE)


def test_corpus_files_in_every_accepted_shape(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "subject,body,category,kind\nFactura,Cobrado dos veces,billing,invoice_error\n"
    )
    assert [(e.category, e.kind) for e in load_examples(tmp_path / "a.csv", KINDS)] == [
        ("billing", "invoice_error")
    ]
    folder = tmp_path / "eml" / "outage"
    folder.mkdir(parents=True)
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "a@b.es", "Sin internet"
    msg.set_content("No va internet.\n\n-- \nPepe\nBar Pepe")
    (folder / "1.eml").write_bytes(msg.as_bytes())
    [example] = load_examples(tmp_path / "eml", KINDS)
    assert (example.category, example.kind, example.text) == (
        "technical",
        "outage",
        "No va internet.",
    )
    (tmp_path / "bad.jsonl").write_text('{"subject": "x", "body": "y", "kind": "teleport"}\n')
    with pytest.raises(CorpusError, match=r"bad.jsonl:1: unknown kind 'teleport'"):
        load_examples(tmp_path / "bad.jsonl", KINDS)


def test_classify_jsonl_keeps_order_and_count_and_answers_bad_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"subject": "Sin internet", "body": "La fibra no funciona desde ayer."},
        "not json",
        {"subject": "Factura duplicada", "body": "Nos habéis cobrado dos veces."},
        ["a", "list"],
        {"subject": "Baixa", "body": "Volem donar de baixa totes les línies."},
        {"subject": 3, "body": "x"},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["--config", str(REPO / "config.example.toml"), "classify", "--jsonl"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == len(lines)
    assert [o.get("category") for o in out] == ["technical", None, "billing", None, "other", None]
    assert [o.get("line") for o in out] == [None, 2, None, 4, None, 6]
    assert out[4]["language"] == "ca" and out[4]["kind"] == "cancellation"
    for good in (out[0], out[2], out[4]):
        assert set(good) >= {"category", "confidence", "kind", "priority", "language"}


def unsure_references(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["--config", str(path), "incidents", "list", "--unsure", "--json"]) == 0
    return [json.loads(line)["reference"] for line in capsys.readouterr().out.splitlines()]


def test_a_correction_is_learnt_by_retraining(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    path = write_offline_config(tmp_path)
    text = path.read_text().replace(f'models_dir = "{MODELS}"', f'models_dir = "{models}"')
    # A demanding threshold: this vague mail is left for a person to sort.
    text = text.replace("confidence_threshold = 0.6 ", "confidence_threshold = 0.95 ")
    path.write_text(text)
    config: Config = load_config(path)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = (
        "pepe@clientes.test",
        "soporte@maildesk.test",
        "Lo del otro día",
    )
    msg["Message-ID"] = "<otro-dia@clientes.test>"
    msg.set_content(
        "Buenas, quería comentar lo del otro día con el chico que vino. Llamadme cuando podáis."
    )
    raw = msg.as_bytes()
    handled = build_parts(config, FrozenClock(NOW)).pipeline.handle(
        InboundMail("INBOX", 1, 1, len(raw), raw)
    )
    assert handled.outcome is Outcome.NEW_INCIDENT
    assert config.triage.confidence_threshold == 0.95
    before = load(models).predict("Lo del otro día", msg.get_content())
    assert before.kind != "sales"
    assert before.category_confidence < config.triage.confidence_threshold
    assert unsure_references(path, capsys) == [handled.reference]  # flagged, not routed blindly

    assert main(["--config", str(path), "incidents", "set", str(handled.reference),
                 "--kind", "sales"]) == 0  # fmt: skip
    assert unsure_references(path, capsys) == []  # a person decided
    assert main(["--config", str(path), "train", "--with-corrections",
                 "--data", str(REPO / "data/corpus/train"),
                 "--test", str(REPO / "data/corpus/test")]) == 0  # fmt: skip

    after = load(models)
    assert after.metadata["data"]["corrections"]["count"] == 1
    assert after.predict("Lo del otro día", msg.get_content()).kind == "sales"
