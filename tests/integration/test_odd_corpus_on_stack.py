"""The team's odd-mail corpus fed byte for byte over IMAP APPEND to the real Dovecot, and
handled by ``run --once``: no acknowledgement to automatic mail, quarantine only for what is
truly unreadable (each twin its own entry, left on the server), every duplicate recorded,
nothing lost, and a second run reprocesses nothing."""

from __future__ import annotations

import logging
import re
import socket
import tomllib
from pathlib import Path
from typing import Any

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select

from maildesk.config import load_config
from maildesk.db.store import Database
from maildesk.db.tables import (
    DuplicateMail,
    Incident,
    IncidentEvent,
    Message,
    OutboxItem,
    QuarantinedMail,
)
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import SUPPORT, write_local_config
from maildesk.testing.support import run_once

pytestmark = pytest.mark.stack

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "odd"


def closed_port() -> int:
    """A port nothing listens on: replies stay queued in the outbox, where they are counted
    (the corpus's senders are not mailboxes of the stack)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_odd_mail_corpus_on_the_real_stack(
    mail: MailStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries: list[dict[str, Any]] = tomllib.loads(
        (CORPUS / "expected.toml").read_text(encoding="utf-8")
    )["mail"]
    path = write_local_config(tmp_path, mail.imap_port, closed_port())
    # The corpus gives several mails to one writer: lift the per-sender reply limit, so that
    # every person's mail is expected to be answered.
    path.write_text(
        path.read_text().replace(
            "max_auto_replies_per_sender = 5", "max_auto_replies_per_sender = 1000"
        )
    )
    config = load_config(path)
    client = mail.imap_client(SUPPORT)
    stored: dict[int, dict[str, Any]] = {}  # UID (from the server's APPENDUID) → entry
    try:
        for entry in entries:
            try:
                answer = client.append("INBOX", (CORPUS / entry["file"]).read_bytes())
            except IMAPClientError:  # Dovecot refuses what is no message at all (0 bytes)
                assert entry["outcome"] == "quarantine", entry["file"]
                continue
            found = re.search(rb"APPENDUID \d+ (\d+)", answer)
            assert found, answer
            stored[int(found.group(1))] = entry
    finally:
        client.logout()
    assert len(stored) >= len(entries) - 2

    caplog.set_level(logging.INFO, logger="maildesk")
    first = run_once(config)
    again = run_once(config)

    assert sum(first.outcomes.values()) == len(stored)
    assert sum(again.outcomes.values()) == 0  # nothing read twice
    crashes = [r for r in caplog.records if r.exc_info and r.name.startswith("maildesk")]
    assert crashes == [], [r.getMessage() for r in crashes]
    database = Database(config.database.url)
    with database.session() as session:
        messages = {m.uid: m for m in session.scalars(select(Message))}
        quarantined = {q.uid: q for q in session.scalars(select(QuarantinedMail))}
        duplicates = {(d.uid, d.kind) for d in session.scalars(select(DuplicateMail))}
        acked = {
            incident_id
            for incident_id, purpose in session.execute(
                select(OutboxItem.incident_id, OutboxItem.purpose)
            )
            if purpose == "ack"
        }
        incidents = {i.id for i in session.scalars(select(Incident))}
        # A person may ask for no automatic answer (X-Auto-Response-Suppress): kept silent.
        asked_silence = {
            e.incident_id
            for e in session.scalars(
                select(IncidentEvent).where(IncidentEvent.action == "no-reply")
            )
            if e.detail.startswith("x-auto-response-suppress")
        }
    database.dispose()

    wrong: list[str] = []
    for uid, entry in stored.items():
        name, outcome = entry["file"], entry["outcome"]
        message = messages.get(uid)
        if outcome == "quarantine":
            if uid not in quarantined:
                wrong.append(f"{name}: not quarantined")
        elif uid in quarantined:
            wrong.append(f"{name}: quarantined ({quarantined[uid].reason}), but readable")
        elif outcome == "automatic":
            if message is not None and message.incident_id in acked:
                wrong.append(f"{name}: automatic mail acknowledged")
        elif entry.get("duplicate_expect") == "twin" and Path(name).name[3] == "b":
            if (uid, "same-mail") not in duplicates:
                wrong.append(f"{name}: second twin not recorded as a duplicate")
        elif message is None or message.incident_id not in incidents:
            wrong.append(f"{name}: client mail without an incident")
        elif (
            message.disposition == "new_incident"
            and message.incident_id not in acked
            and message.incident_id not in asked_silence
        ):
            wrong.append(f"{name}: client mail not acknowledged ({message.reason})")
        reused = entry.get("duplicate_expect") == "reused-id" and Path(name).name[3] == "b"
        if reused and (uid, "reused-message-id") not in duplicates:
            wrong.append(f"{name}: reuse of a Message-ID not recorded")
    assert wrong == [], "\n".join(wrong)

    # The server agrees: quarantined mail stays in the INBOX, the rest went to Processed.
    client = mail.imap_client(SUPPORT)
    try:
        inbox = client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"]
        processed = client.folder_status("Processed", [b"MESSAGES"])[b"MESSAGES"]
    finally:
        client.logout()
    assert inbox == len(quarantined)
    assert inbox + processed == len(stored)
