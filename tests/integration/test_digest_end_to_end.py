"""The digest and an alert reach the distributor's mailbox on the real stack; the commands."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.clock import FrozenClock
from maildesk.config import Config, load_config
from maildesk.runtime.daemon import Daemon, build_parts
from maildesk.testing.mailstack import MailStack
from maildesk.testing.stackconfig import DISTRIBUTOR, SUPPORT, TECHNICAL, write_local_config
from maildesk.testing.support import client_mail, daemon_running, run_once

pytestmark = pytest.mark.stack

# Tuesday 24 November 2026, 18:01 in Madrid: the digest is due (late: the business day still
# runs) and a mail that arrived at 10:00 with 8 business hours has used 75 % of them.
ARRIVAL = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 17, 1, tzinfo=UTC)


@pytest.fixture
def digest_config(tmp_path: Path, mail: MailStack) -> Config:
    path = write_local_config(tmp_path, mail.imap_port, mail.smtp_port, digest=True)
    return load_config(path)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_the_distributor_receives_the_digest_and_the_alert(
    mail: MailStack, digest_config: Config
) -> None:
    sent = client_mail(
        "bar.pepe@clientes.test", "Sin internet", "No tenemos internet desde esta mañana."
    )
    mail.deliver(sent.as_bytes(), to=SUPPORT, mail_from="bar.pepe@clientes.test")
    mail.wait_for_messages(SUPPORT, 1)
    # At 10:00 the mail becomes an incident, and the digest (due since 8:45, missed) goes
    # out with it due today.
    first = run_once(digest_config, FrozenClock(ARRIVAL))
    assert first.outcomes == {"new_incident": 1}
    [morning] = mail.wait_for_messages(DISTRIBUTOR, 1)
    # Later the same day: no second digest, but the 75 % alert, to the technical service too.
    run_once(digest_config, FrozenClock(LATER))
    inbox = mail.wait_for_messages(DISTRIBUTOR, 2)
    alert = email.message_from_bytes(inbox[1], policy=email.policy.default)
    assert alert["Subject"].startswith("Aviso 75 % [MD-2026-000001]")
    assert alert["Auto-Submitted"] == "auto-generated"
    # one mail each (a staff member's can carry his own reply address), the same words
    [copy] = mail.wait_for_messages(TECHNICAL, 1)
    team_copy = email.message_from_bytes(copy, policy=email.policy.default)
    assert team_copy["To"] == TECHNICAL and alert["To"] == DISTRIBUTOR
    assert team_copy["Subject"] == alert["Subject"]

    digest = email.message_from_bytes(morning, policy=email.policy.default)
    assert digest["Subject"] == "Resumen 24/11/2026: 0 nuevas, 0 vencidas, 1 vencen hoy"
    text = digest.get_body(("plain",)).get_content()
    due = next(s for s in text.split("\n== ") if s.startswith("Vencen hoy"))
    assert "[MD-2026-000001] P1 Pepe Martínez: Sin internet" in due
    html = digest.get_body(("html",)).get_content()
    parser = Tags()
    parser.feed(html)
    assert parser.tags.count("table") >= 4 and "meta" in parser.tags
    assert 'name="viewport"' in html  # readable on a phone


def test_digest_preview_and_send_commands(
    mail: MailStack, digest_config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = str(tmp_path / "maildesk.toml")
    html = tmp_path / "digest.html"
    assert main(["--config", config_path, "db", "upgrade"]) == 0  # as the daemon's start does
    capsys.readouterr()
    assert main(["--config", config_path, "digest", "--preview", "--at",
                 "2026-11-24T08:45:00+01:00", "--html", str(html)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("Subject: Resumen 24/11/2026: 0 nuevas")
    assert "Niveles de servicio" in out and html.read_text().startswith("<!DOCTYPE html>")
    assert mail.message_count(DISTRIBUTOR) == 0  # a preview sends nothing

    assert main(["--config", config_path, "digest", "--send"]) == 0
    assert "digest queued for distribuidor@maildesk.test; sent 1" in capsys.readouterr().out
    mail.wait_for_messages(DISTRIBUTOR, 1)
    assert main(["--config", config_path, "digest", "--send"]) == 0
    assert "already sent today" in capsys.readouterr().out


def test_report_and_template_commands(
    digest_config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = str(tmp_path / "maildesk.toml")
    assert main(["--config", config_path, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", config_path, "report", "levels", "--days", "7", "--json"]) == 0
    levels = json.loads(capsys.readouterr().out)
    assert levels["opened"] == 0
    assert levels["acknowledged_within_1_min"] == {"count": 0, "total": 0, "ratio": None}

    assert main(["--config", config_path, "templates", "check"]) == 0
    names = (
        "ack, ack_closed, followup, digest, alert, handoff, reassigned, relay, commands, reply, "
        "resolved, low_score"
    )
    assert f"12 templates ({names})" in capsys.readouterr().out
    assert main(["--config", config_path, "templates", "preview", "alert", "--lang", "en"]) == 0
    assert capsys.readouterr().out.startswith("Subject: Warning 75 % [MD-")

    broken = tmp_path / "templates"
    shutil.copytree(digest_config.templates_dir, broken)
    (broken / "ca" / "digest.txt.j2").write_text("{{ now|date_short }} {{ no_such_thing }}\n")
    text = Path(config_path).read_text()
    Path(config_path).write_text(
        text.replace(
            f'templates_dir = "{digest_config.templates_dir}"', f'templates_dir = "{broken}"'
        )
    )
    assert main(["--config", config_path, "templates", "check"]) == 1
    out = capsys.readouterr().out
    assert "ca/digest.txt.j2" in out and "no_such_thing" in out


def test_the_running_daemon_schedules_the_jobs_and_catches_up_the_digest(
    mail: MailStack, digest_config: Config
) -> None:
    with daemon_running(Daemon(build_parts(digest_config, FrozenClock(ARRIVAL)))) as daemon:
        # Started at 10:00 on a Tuesday, the digest of 8:45 was missed: it goes out now.
        [raw] = mail.wait_for_messages(DISTRIBUTOR, 1, timeout=20)
        assert email.message_from_bytes(raw)["Subject"].startswith("Resumen 24/11/2026")
        assert daemon.jobs is not None
        scheduled = daemon.jobs.scheduled()
        assert scheduled["digest"] == "cron[hour='8', minute='45']"  # Europe/Madrid
        assert "interval[0:05:00]" in scheduled["escalation"]
