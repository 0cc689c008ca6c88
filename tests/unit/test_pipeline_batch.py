"""Several mails in one transaction: what one mail does is seen by the next, a failure stays
with its own mail, and every outcome is logged once, after its commit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.db.store import Database
from maildesk.db.tables import (
    Checkpoint,
    Incident,
    IncidentEvent,
    Message,
    OutboxItem,
    QuarantinedMail,
)
from maildesk.inbound.pipeline import InboundMail, Outcome, Pipeline
from maildesk.runtime.daemon import build_parts
from maildesk.runtime.wiring import default_triager
from maildesk.schedule import build_calendar
from maildesk.testing.stackconfig import write_offline_config
from maildesk.testing.support import client_mail
from maildesk.triage.rules import Triage, TriageInput, Triager

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Madrid: open


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_offline_config(tmp_path))


def inbound(uid: int, msg: EmailMessage) -> InboundMail:
    raw = msg.as_bytes()
    return InboundMail("INBOX", 7, uid, len(raw), raw)


def pipeline(config: Config, triager: Triager | None = None) -> Pipeline:
    return build_parts(config, FrozenClock(NOW), triager=triager).pipeline


def count(config: Config, model: type) -> int:
    with Database(config.database.url).session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_batch_sees_its_own_mails_duplicates_and_threads(config: Config) -> None:
    first = client_mail("cliente1@clientes.test", "Sin internet", "No tenemos ADSL desde ayer.")
    again = client_mail("cliente1@clientes.test", "Sin internet", "No tenemos ADSL desde ayer.")
    again.replace_header("Message-ID", first["Message-ID"])
    answer = client_mail(
        "cliente1@clientes.test",
        "Re: Sin internet",
        "Sigue igual, el router parpadea en rojo.",
        headers={"In-Reply-To": first["Message-ID"], "References": first["Message-ID"]},
    )
    other = client_mail("cliente2@clientes.test", "Factura duplicada", "Nos cobran dos veces.")

    handled = pipeline(config).handle_batch(
        [inbound(1, first), inbound(2, again), inbound(3, answer), inbound(4, other)]
    )

    assert [h.outcome for h in handled] == [
        Outcome.NEW_INCIDENT,
        Outcome.DUPLICATE,
        Outcome.FOLLOWUP,
        Outcome.NEW_INCIDENT,
    ]
    assert handled[2].reference == handled[0].reference
    assert handled[3].reference != handled[0].reference
    assert count(config, Incident) == 2
    assert count(config, Message) == 3  # the duplicate adds no row
    assert count(config, OutboxItem) == 3  # two acknowledgements and one follow-up reply
    with Database(config.database.url).session() as session:
        checkpoint = session.get(Checkpoint, "INBOX")
        assert checkpoint is not None
        assert (checkpoint.uidvalidity, checkpoint.last_uid) == (7, 4)


class ExplodingTriager:
    """The real triage, except for subjects saying "boom": a bug on one mail."""

    def __init__(self, real: Triager) -> None:
        self._real = real

    def triage(self, mail: TriageInput, received_at: datetime) -> Triage:
        if "boom" in mail.subject:
            raise RuntimeError("classifier exploded")
        return self._real.triage(mail, received_at)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_failing_mail_is_quarantined_and_the_rest_of_its_batch_commits(
    config: Config,
) -> None:
    triager = ExplodingTriager(default_triager(config, build_calendar(config.schedule)))
    mails = [
        client_mail("cliente1@clientes.test", "Sin línea", "No hay tono en la línea fija."),
        client_mail("cliente2@clientes.test", "boom", "Este correo rompe el clasificador."),
        client_mail("cliente3@clientes.test", "Datáfono", "El datáfono no está configurado."),
    ]
    # Its own handler: other tests reconfigure the "maildesk" logger's propagation.
    logger = logging.getLogger("maildesk.pipeline")
    caught, level = Records(), logger.level
    logger.addHandler(caught)
    logger.setLevel(logging.INFO)
    try:
        handled = pipeline(config, triager).handle_batch(  # type: ignore[arg-type]
            [inbound(uid, msg) for uid, msg in enumerate(mails, 1)]
        )
    finally:
        logger.removeHandler(caught)
        logger.setLevel(level)

    assert [h.outcome for h in handled] == [
        Outcome.NEW_INCIDENT,
        Outcome.QUARANTINED,
        Outcome.NEW_INCIDENT,
    ]
    assert "internal-error: RuntimeError: classifier exploded" in handled[1].reason
    assert handled[1].message_id == mails[1]["Message-ID"].strip("<>")
    assert [h.reference for h in handled if h.reference] == ["MD-2026-000001", "MD-2026-000002"]
    with Database(config.database.url).session() as session:
        kept = session.scalars(select(QuarantinedMail)).one()
        assert kept.uid == 2 and kept.raw == mails[1].as_bytes()
        checkpoint = session.get(Checkpoint, "INBOX")
        assert checkpoint is not None and checkpoint.last_uid == 3
    # The rolled-back attempt logged nothing: each mail has exactly one outcome line.
    outcomes = [r for r in caught.records if r.getMessage().startswith("mail handled")]
    quarantined = [r for r in caught.records if r.getMessage() == "mail quarantined"]
    assert len(outcomes) == 2 and len(quarantined) == 1
    assert any(r.getMessage().startswith("batch rolled back") for r in caught.records)


def test_a_chatty_sender_gets_at_most_the_limit_of_automatic_replies_per_window(
    config: Config,
) -> None:
    """Counted in the database, across batches, within this batch, per window."""
    clock = FrozenClock(NOW)
    handler = build_parts(config, clock).pipeline
    mails = [
        client_mail("cliente1@clientes.test", f"Avería {n}", f"Sin línea en la sede {n}.")
        for n in range(7)
    ]
    handled = handler.handle_batch([inbound(1, mails[0]), inbound(2, mails[1])])
    handled += handler.handle_batch([inbound(n + 1, m) for n, m in enumerate(mails[2:], 2)])

    assert [h.replies for h in handled] == [1, 1, 1, 1, 1, 0, 0]  # limit 5 per 24 h
    assert all(h.outcome is Outcome.NEW_INCIDENT for h in handled)  # incidents all the same
    with Database(config.database.url).session() as session:
        reasons = session.scalars(
            select(IncidentEvent.detail).where(IncidentEvent.action == "no-reply")
        ).all()
    assert reasons == ["rate-limit:5>=5", "rate-limit:5>=5"]

    clock.advance(timedelta(hours=24, minutes=1))  # the window has moved past them
    late = client_mail("cliente1@clientes.test", "Avería 8", "Sigue sin línea.")
    assert handler.handle(inbound(8, late)).replies == 1


def test_the_reply_limit_counts_each_reply_once_when_a_batch_flushes_midway(
    config: Config,
) -> None:
    """A mail answering an earlier one of its batch makes the session flush: the replies
    queued before it must then be counted from the database alone, not twice."""
    first = client_mail("cliente1@clientes.test", "Sin línea", "No tenemos línea fija.")
    answer = client_mail(
        "cliente1@clientes.test",
        "Re: Sin línea",
        "Sigue sin línea esta mañana.",
        headers={"In-Reply-To": first["Message-ID"], "References": first["Message-ID"]},
    )
    others = [
        client_mail("cliente1@clientes.test", f"Avería {n}", f"Sin ADSL en la sede {n}.")
        for n in range(4)
    ]
    batch = [first, others[0], answer, *others[1:]]

    handled = pipeline(config).handle_batch([inbound(n, m) for n, m in enumerate(batch, 1)])

    assert handled[2].outcome is Outcome.FOLLOWUP
    # limit 5 per 24 h, follow-ups acknowledged: the first five mails get one reply each
    assert [h.replies for h in handled] == [1, 1, 1, 1, 1, 0]
    assert count(config, OutboxItem) == 5
