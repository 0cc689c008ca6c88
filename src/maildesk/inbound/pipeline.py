"""One inbound mail → a recorded outcome, committed with its reply in one transaction.

Steps: size check → parse → duplicate check → loop guard → thread match → triage →
store + outbox. Every outcome is a named ``Handled`` value with its reason, and is logged
with the Message-ID (and the reference when there is one).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from maildesk.businesstime import BusinessCalendar
from maildesk.clock import Clock
from maildesk.config import Config, StaffMember
from maildesk.db import store
from maildesk.db.lifecycle import DONE_STATUSES, change_status, record_event
from maildesk.db.tables import DuplicateMail, Handoff, Incident, Message, QuarantinedMail
from maildesk.desk.answer import commands_context
from maildesk.desk.apply import apply_commands
from maildesk.desk.authentication import authenticate
from maildesk.desk.commands import REFUSED_COMMAND, parse_commands
from maildesk.desk.commands import Outcome as CommandOutcome
from maildesk.desk.messages import Said
from maildesk.desk.satisfaction import record_answer
from maildesk.desk.survey import MAX_COMMENT, Score, read_score, read_survey_address
from maildesk.inbound.analysis import Analyser, Analysis
from maildesk.inbound.bounces import read_bounce
from maildesk.inbound.loopguard import (
    LOOP_HEADER,
    automatic_kind,
    automatic_reason,
    reply_suppressed_reason,
)
from maildesk.inbound.parse import ParsedMail, UnparseableMail, parse_mail
from maildesk.outbound.compose import (
    OutgoingMail,
    UnwritableAddress,
    compose_reply,
    queued_row,
)
from maildesk.outbound.handoff import forward_followup, queue_handoff, relay_answer
from maildesk.outbound.render import TemplateError, TemplateRenderer
from maildesk.outbound.replycontext import IncidentFacts, reply_context
from maildesk.triage.rules import Triage, Triager

log = logging.getLogger("maildesk.pipeline")

REFERENCE_IN_SUBJECT = re.compile(r"\[([A-Z]{1,6}-\d{4}-\d{6})\]")


@dataclass(frozen=True, slots=True)
class InboundMail:
    """A mail as read from the mailbox: where it is and its bytes (None when too large)."""

    mailbox: str
    uidvalidity: int
    uid: int
    size: int
    raw: bytes | None


class Outcome(StrEnum):
    NEW_INCIDENT = "new_incident"
    FOLLOWUP = "followup"
    TEAM_ANSWER = "team_answer"  # the team an incident was handed to answers
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    BOUNCE = "bounce"  # a bounce of our own mail, attached to its incident
    COMMAND = "command"  # a staff member's commands, authenticated and applied
    SURVEY = "survey"  # a client's score of a resolved incident


@dataclass(frozen=True, slots=True)
class Handled:
    outcome: Outcome
    reason: str
    message_id: str | None = None
    reference: str | None = None
    replies: int = 0
    uid: int | None = None  # set for quarantined mail, which has no message row


_OWN_COPY = re.compile(rb"^" + LOOP_HEADER.encode() + rb":", re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)


def own_copy_message_id(raw: bytes) -> str | None:
    """The Message-ID of one of our own replies coming back, read from the header block
    alone (a delivery copy needs no full parse); None for any other mail."""
    head = _header_block(raw)
    return _message_id_in(head) if _OWN_COPY.search(head) else None


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One mail ready for its transaction: parsed (or why not), maybe analysed."""

    inbound: InboundMail
    now: datetime
    copy_id: str | None = None
    mail: ParsedMail | None = None
    unparseable: UnparseableMail | None = None
    robot: str | None = None  # why the mail is automatic (loop guard); None for a person's
    analysis: Analysis | None = None


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID read from the header block alone, for logging mail that did not parse."""
    return _message_id_in(_header_block(raw))


def _header_block(raw: bytes) -> bytes:
    return re.split(rb"\r?\n\r?\n", raw[:16384], maxsplit=1)[0]


def _message_id_in(head: bytes) -> str | None:
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


def dedup_key(mail: ParsedMail) -> str:
    """The same mail seen twice has the same key: its Message-ID, else its content."""
    return f"mid:{mail.message_id}" if mail.message_id else f"sha:{mail.sha256}"


# What its author wrote, as opposed to what servers added on the way (Received, Delivered-To,
# Authentication-Results…): the same mail delivered twice agrees on these and on the body.
_AUTHOR_HEADERS = frozenset(
    {b"from", b"sender", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to",
     b"references", b"content-type", b"mime-version", b"content-transfer-encoding"}
)  # fmt: skip
_HEADER_BODY = re.compile(rb"\r?\n\r?\n")
_FOLDED = re.compile(rb"\r?\n(?=[ \t])")


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """What a mail is recorded under: its deduplication key and its content hash, computed
    once by the duplicate check and carried to the message row."""

    key: str
    content: str


def content_hash(raw: bytes) -> str:
    """A hash of the author's headers and the body: equal for one mail delivered twice
    (trace headers differ), different for another mail that reuses its Message-ID."""
    parts = _HEADER_BODY.split(raw, maxsplit=1)
    digest = hashlib.sha256()
    for line in _FOLDED.sub(b" ", parts[0]).splitlines():
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in _AUTHOR_HEADERS:
            digest.update(name.strip().lower() + b":" + b" ".join(value.split()) + b"\n")
    digest.update(b"\n")
    if len(parts) > 1:
        digest.update(parts[1].rstrip())
    return digest.hexdigest()


class Pipeline:
    """Turns inbound mail into incidents and queued replies; pure but for the database."""

    def __init__(
        self,
        config: Config,
        database: store.Database,
        triager: Triager,
        renderer: TemplateRenderer,
        clock: Clock,
        calendar: BusinessCalendar,
    ) -> None:
        self._config = config
        self._db = database
        self._renderer = renderer
        self._clock = clock
        self._calendar = calendar
        self._analyser = Analyser(config, triager, calendar)
        self._own = config.own_addresses
        # Addresses failing now (address → source, until): read once per batch transaction.
        self._failing: dict[str, tuple[str, datetime]] = {}

    def handle(self, inbound: InboundMail) -> Handled:
        """Process one mail in a transaction of its own (see ``handle_batch``)."""
        return self.handle_batch([inbound])[0]

    def handle_batch(self, batch: Sequence[InboundMail]) -> list[Handled]:
        """Process mails in one transaction; the checkpoint advances to the last of them in
        that same transaction, and each outcome is logged once it is committed.

        One commit for a batch instead of one per mail is what a backlog needs. Should one
        mail fail, the whole transaction is rolled back and every mail of the batch is
        handled again in a transaction of its own, so that a failure stays with its mail.
        """
        if not batch:
            return []
        try:
            handled = self._commit(batch)
        except Exception:
            if len(batch) == 1:
                return [self._handle_alone(batch[0])]
            log.warning(
                "batch rolled back; handling its mails one by one",
                extra={"count": len(batch), "first_uid": batch[0].uid},
                exc_info=True,
            )
            return [self._handle_alone(inbound) for inbound in batch]
        for one in handled:
            self._log(one)
        return handled

    def _commit(self, batch: Sequence[InboundMail]) -> list[Handled]:
        # The analysis needs no database: done before the transaction, so that on SQLite
        # the write lock (which the sender process needs too) is held only for the writes.
        prepared = [self._prepare(inbound) for inbound in batch]
        with self._db.session() as session:
            self._failing = store.failing_now(session, prepared[0].now)
            # Delivery copies of our own replies are confirmed together, in two statements.
            copies = [one.copy_id for one in prepared if one.copy_id is not None]
            confirmed = store.confirm_sent_many(session, copies, prepared[0].now)
            handled: list[Handled] = []
            # Rows are flushed once, at the commit: the store's duplicate check and reply
            # count see the batch's earlier mails among the session's pending rows.
            for one in prepared:
                if one.copy_id is not None:
                    handled.append(self._own_copy(one.copy_id, one.copy_id in confirmed))
                    continue
                handled.append(self._process(session, one))
            self._advance(session, batch[-1])
        return handled

    def _prepare(self, inbound: InboundMail) -> _Prepared:
        """Parse, and for a mail that will most likely open an incident, analyse it."""
        now = self._clock.now()
        if inbound.raw is None:
            return _Prepared(inbound, now)
        copy_id = own_copy_message_id(inbound.raw)
        if copy_id is not None:
            return _Prepared(inbound, now, copy_id=copy_id)
        try:
            mail = parse_mail(inbound.raw)
        except UnparseableMail as exc:
            return _Prepared(inbound, now, unparseable=exc)
        threaded = mail.in_reply_to or mail.references or REFERENCE_IN_SUBJECT.search(mail.subject)
        robot = automatic_reason(mail, self._own)
        analysis = None
        if not threaded and robot is None:
            analysis = self._analyse(mail, now)
        return _Prepared(inbound, now, mail=mail, robot=robot, analysis=analysis)

    def _analyse(self, mail: ParsedMail, now: datetime) -> Analysis:
        return self._analyser.analyse(mail.subject, mail.clean_text, mail.from_address, now)

    def _handle_alone(self, inbound: InboundMail) -> Handled:
        """One mail whose transaction failed: retry once (another worker may have recorded it
        meanwhile), then quarantine it, unless the database itself is unwell."""
        try:
            handled = self._commit([inbound])
        except SQLAlchemyError as exc:
            if not isinstance(exc, IntegrityError):
                raise  # the database is unwell: the runner backs off, nothing is marked
            handled = self._commit([inbound])  # the rival's row is visible now: a duplicate
        except Exception as exc:
            # A bug on one mail must not block the mailbox: keep the mail, say why.
            log.exception(
                "mail could not be handled",
                extra={"message_id": header_message_id(inbound.raw or b""), "uid": inbound.uid},
            )
            with self._db.session() as session:
                handled = [
                    self._quarantine(
                        session, inbound, "internal-error", f"{type(exc).__name__}: {exc}"
                    )
                ]
                self._advance(session, inbound)
        self._log(handled[0])
        return handled[0]

    def _process(self, session: Session, prepared: _Prepared) -> Handled:
        """The outcome of one mail, its rows added to ``session``; nothing committed."""
        inbound = prepared.inbound
        if prepared.unparseable is not None:
            exc = prepared.unparseable
            return self._quarantine(session, inbound, exc.reason, exc.detail)
        if prepared.mail is None:
            return self._quarantine(
                session,
                inbound,
                "too-large",
                f"{inbound.size} bytes > limit {self._config.imap.max_message_bytes}",
                sha256=f"size:{inbound.mailbox}:{inbound.uidvalidity}:{inbound.uid}",
            )
        return self._handle_parsed(session, prepared, prepared.mail)

    @staticmethod
    def _own_copy(message_id: str, confirmed: bool) -> Handled:
        """Our own reply came back (delivery copy), confirmed as sent; nothing else.

        No message row: confirming is idempotent, and a copy is no client mail to keep."""
        return Handled(
            Outcome.IGNORED, "own-copy:confirmed" if confirmed else "loop:own-reply", message_id
        )

    def _handle_parsed(self, session: Session, prepared: _Prepared, mail: ParsedMail) -> Handled:
        inbound, now = prepared.inbound, prepared.now
        key = dedup_key(mail)
        content = content_hash(inbound.raw or b"")
        seen = store.seen_message(session, key)
        reused: store.SeenMessage | None = None
        if seen is not None and seen.content_hash not in ("", content):
            # Another mail under a Message-ID already recorded: a mail of its own.
            reused, key = seen, f"{key}#{content[:16]}"
            seen = store.seen_message(session, key)
        if seen is not None:
            session.add(self._duplicate("same-mail", inbound, mail, content, seen, now))
            return Handled(Outcome.DUPLICATE, f"seen:{key.split(':', 1)[0]}", mail.message_id)
        if reused is not None:
            session.add(self._duplicate("reused-message-id", inbound, mail, content, reused, now))
            log.warning(
                "a different mail reuses a recorded Message-ID: handled as a new mail",
                extra={"message_id": mail.message_id, "uid": inbound.uid},
            )
        identity = MailIdentity(key, content)
        references = REFERENCE_IN_SUBJECT.findall(mail.subject)
        thread_ids = (*mail.in_reply_to, *mail.references)
        thread = None
        if references or thread_ids:
            session.flush()  # it may answer a mail of this same batch
            thread = store.find_thread_incident(session, references, thread_ids)
        robot = prepared.robot
        if (
            robot == "loop:own-reply"
            and mail.message_id
            and store.confirm_sent(session, mail.message_id, now)
        ):
            robot = "own-copy:confirmed"
        # The distributor's own address is "ours" to the loop guard (no automatic answers to
        # it), yet his replies are a person's: a staff member's commands are read even then.
        person = robot is None or robot == "loop:sender:own-address"
        member = self._config.desk.staff_member(mail.from_address) if person else None
        if member is not None:
            commanded = self._staff_commands(session, inbound, mail, identity, now, thread, member)
            if commanded is not None:
                return commanded
        if robot is not None and automatic_kind(robot) == "bounce":
            bounced = self._bounce(session, inbound, mail, identity, now, robot, thread)
            if bounced is not None:
                return bounced
        if (
            robot is not None
            and thread is None
            and automatic_kind(robot) in self._config.replies.open_incident_for
        ):
            # A person should read it: an incident, never an automatic answer.
            analysis = prepared.analysis or self._analyse(mail, now)
            return self._new_incident(
                session, inbound, mail, identity, now, analysis, acknowledge=False, automatic=robot
            )
        if robot is not None:
            session.add(self._message(mail, inbound, identity, now, "ignored", robot, thread))
            return Handled(
                Outcome.IGNORED, robot, mail.message_id, thread.reference if thread else None
            )
        answered = self._survey_answer(session, inbound, mail, identity, now, thread)
        if answered is not None:
            return answered
        if thread is not None and self._long_resolved(thread, now):
            analysis = prepared.analysis or self._analyse(mail, now)
            return self._new_incident(session, inbound, mail, identity, now, analysis, thread)
        if thread is not None:
            handoff = store.answered_handoff(session, thread, mail.from_address, thread_ids)
            if handoff is not None:
                return self._team_answer(session, inbound, mail, identity, now, thread, handoff)
            return self._followup(session, inbound, mail, identity, now, thread)
        analysis = prepared.analysis or self._analyse(mail, now)
        return self._new_incident(session, inbound, mail, identity, now, analysis)

    def _bounce(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        robot: str,
        thread: Incident | None,
    ) -> Handled | None:
        """A bounce of our own mail joins the incident it came from; a permanent failure
        marks the client address failing. None when it returns nothing of ours."""
        bounce = read_bounce(inbound.raw or b"")
        if bounce is None:
            return None
        ours = (
            store.outbox_row(session, bounce.original_message_id or "")
            if (bounce.original_message_id)
            else None
        )
        incident = ours.incident if ours is not None else thread
        if incident is None:
            return None
        failed = [r for r in bounce.recipients if r.action == "failed"]
        detail = "; ".join(
            f"{r.address} {r.status} {r.action}: {r.diagnostic[:160]}" for r in bounce.recipients
        )
        session.add(self._message(mail, inbound, identity, now, "bounce", robot, incident))
        record_event(session, incident, now, "maildesk", "bounce", detail[:2000])
        to_team = ours is not None and ours.purpose == "handoff"
        if to_team:
            # The team's address is the business's to fix: said loudly, never "failing".
            log.error(
                "a forward to a team bounced",
                extra={"reference": incident.reference, "detail": detail[:500]},
            )
        elif bounce.permanent and failed:
            until = now + timedelta(days=self._config.replies.failing_address_days)
            for recipient in failed:
                marked = store.mark_failing(
                    session, recipient.address, "bounce", detail, incident, now, until
                )
                self._failing[marked.address] = ("bounce", store.aware_utc(marked.until))
            log.warning(
                "client address failing: no automatic reply to it until "
                f"{until:%Y-%m-%d %H:%M} UTC",
                extra={
                    "reference": incident.reference,
                    "until": until.isoformat(),
                    "addresses": ",".join(r.address for r in failed),
                    "status": failed[0].status,
                },
            )
        return Handled(
            Outcome.BOUNCE,
            f"{robot}; {'permanent' if bounce.permanent else 'delayed'}; {detail[:120]}",
            mail.message_id,
            incident.reference,
        )

    def _staff_commands(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        thread: Incident | None,
        member: StaffMember,
    ) -> Handled | None:
        """A staff member's mail that starts with commands, about one incident (its thread,
        its reference, or its secret reply address): applied when authenticated; else kept
        as a message of the incident, and either way answered. None: not a command mail."""
        parsed = parse_commands(mail.body_text)
        if parsed.empty:
            return None
        desk = self._config.desk
        verdict = authenticate(
            sender=mail.from_address,
            recipients=[*mail.to, *mail.cc],
            results_headers=mail.header_all("Authentication-Results"),
            staff=[m.address for m in desk.staff],
            trusted=desk.trusted_authserv_ids,
            secret=desk.token_secret(),
        )
        incident = thread
        if incident is None and verdict.reference:  # its secret reply address names it
            incident = store.find_thread_incident(session, [verdict.reference], [])
        if incident is None:
            return None  # commands about no incident: an ordinary mail
        if not verdict.accepted:
            session.add(
                self._message(
                    mail, inbound, identity, now, "followup",
                    f"{REFUSED_COMMAND}: {verdict.reason}",
                    incident,
                )
            )  # fmt: skip
            record_event(session, incident, now, "maildesk", "command-refused", verdict.reason)
            log.warning(
                "command mail refused",
                extra={"message_id": mail.message_id, "reference": incident.reference,
                       "sender": mail.from_address, "reason": verdict.reason},
            )  # fmt: skip
            self._answer_commands(session, mail, incident, member, [], verdict.why_not, now)
            return Handled(
                Outcome.FOLLOWUP, f"{REFUSED_COMMAND}: {verdict.reason}", mail.message_id,
                incident.reference, 1,
            )  # fmt: skip
        outcomes = apply_commands(
            session, self._config, self._calendar, incident, parsed.commands,
            actor=mail.from_address, how=verdict.how, now=now, renderer=self._renderer,
            staff_name=member.name,
        )  # fmt: skip
        outcomes += [CommandOutcome(r.line, False, r.said) for r in parsed.refusals]
        session.add(self._message(mail, inbound, identity, now, "command", verdict.how, incident))
        self._answer_commands(session, mail, incident, member, outcomes, None, now)
        applied = sum(o.applied for o in outcomes)
        return Handled(
            Outcome.COMMAND,
            f"{applied} applied, {len(outcomes) - applied} refused ({verdict.how})",
            mail.message_id, incident.reference, 1,
        )  # fmt: skip

    def _survey_answer(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        thread: Incident | None,
    ) -> Handled | None:
        """A client's score: a mail to one of the resolution notice's survey links, or a
        reply to a resolved incident's notice that reads as a score ("4", "un 2: tardaron").
        None: not an answer (a longer reply is the client writing again, and reopens)."""
        secret = self._config.desk.token_secret()
        linked = read_survey_address([*mail.to, *mail.cc], secret) if secret else None
        if linked is None and (thread is None or thread.survey_sent_at is None):
            return None  # most mail: no survey asked, none answered
        reading = read_score(mail.clean_text)
        if linked is not None:
            incident = store.find_thread_incident(session, [linked[0]], [])
            if incident is None:
                return None
            comment = reading.comment if reading is not None else mail.clean_text.strip()
            answer, how = Score(linked[1], comment[:MAX_COMMENT]), "link"
        else:
            incident = thread
            window = timedelta(days=self._config.satisfaction.answer_days)
            if (
                incident is None
                or reading is None
                or incident.status not in DONE_STATUSES
                or incident.survey_sent_at is None
                or now - store.aware_utc(incident.survey_sent_at) > window
                or self._config.desk.staff_member(mail.from_address) is not None
            ):
                return None
            thread_ids = (*mail.in_reply_to, *mail.references)
            if store.answered_handoff(session, incident, mail.from_address, thread_ids):
                return None  # the team writing "5. Solucionado" is no client's score
            answer, how = reading, "reply"
        record_answer(
            session, self._config, self._renderer, incident, answer,
            sender=mail.from_address, how=how, message_id=mail.message_id, now=now,
        )  # fmt: skip
        reason = f"survey: score {answer.score}/5 ({how})"
        session.add(self._message(mail, inbound, identity, now, "survey", reason, incident))
        incident.updated_at = now
        return Handled(Outcome.SURVEY, reason, mail.message_id, incident.reference)

    def _answer_commands(
        self,
        session: Session,
        mail: ParsedMail,
        incident: Incident,
        member: StaffMember,
        outcomes: list[CommandOutcome],
        refused: Said | None,
        now: datetime,
    ) -> None:
        language = member.language
        context = commands_context(self._config, incident, outcomes, refused, language)
        try:
            outgoing = compose_reply(
                rendered=self._renderer.render("commands", language, context),
                sender_name=self._config.company.display_name,
                sender_address=self._config.company.support_address,
                to_address=mail.from_address, to_name=member.name or mail.from_name,
                reference=incident.reference, language=language,
                in_reply_to=mail.message_id, references=mail.references,
                now=now, zone=self._config.schedule.zone,
            )  # fmt: skip
        except (TemplateError, UnwritableAddress) as exc:
            record_event(session, incident, now, "maildesk", "no-reply", f"command answer: {exc}")
            return
        session.add(queued_row(outgoing, "command", now, incident))

    def _long_resolved(self, incident: Incident, now: datetime) -> bool:
        """Resolved (or closed) longer than ``replies.reopen_days`` ago: a reply to it is a
        new matter, opened as a new incident linked to this one."""
        done = incident.resolved_at
        return (
            incident.status in ("resolved", "closed")
            and done is not None
            and now - done > timedelta(days=self._config.replies.reopen_days)
        )

    def _new_incident(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        analysis: Analysis,
        previous: Incident | None = None,
        *,
        acknowledge: bool = True,
        automatic: str | None = None,
    ) -> Handled:
        language, clock_start, triage = analysis.language, analysis.clock_start, analysis.triage
        reference = store.next_reference(
            session,
            self._config.company.reference_prefix,
            now.astimezone(self._config.schedule.zone).year,
        )
        incident = self._incident(reference, mail, language, triage, now)
        incident.arrived_out_of_hours = clock_start != now
        incident.written_language = analysis.written_language
        if previous is not None:
            incident.previous = previous
        session.add(incident)
        message = self._message(
            mail, inbound, identity, now, "new_incident", automatic or "", incident
        )
        message.language = analysis.written_language or language  # as written
        message.raw = inbound.raw  # kept whole: its team gets it byte for byte, now or later
        session.add(message)
        record_event(
            session,
            incident,
            now,
            "maildesk",
            "created",
            (
                f"category={incident.category} ({incident.category_reason}); "
                f"kind={incident.kind}; priority={incident.priority} "
                f"({incident.priority_reason}); unsure={incident.unsure}"
            ),
        )
        if acknowledge:
            replies = self._maybe_reply(session, mail, incident, "ack", now)
        else:
            replies = 0
            record_event(session, incident, now, "maildesk", "no-reply", f"automatic: {automatic}")
        if inbound.raw is not None:  # (a mail too large to read is quarantined, not here)
            queue_handoff(
                session,
                self._config,
                self._renderer,
                incident,
                inbound.raw,
                mail.clean_text,
                now,
                "new incident",
            )
        return Handled(
            Outcome.NEW_INCIDENT, triage.classification.reason, mail.message_id, reference, replies
        )

    def _team_answer(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        incident: Incident,
        handoff: Handoff,
    ) -> Handled:
        """The team that was handed the incident answers: kept with it as the team's message,
        its first answer the incident's first response; nothing is sent back to the team."""
        session.add(
            self._message(mail, inbound, identity, now, "team_answer", handoff.team, incident)
        )
        first = handoff.answered_at is None
        if first:
            handoff.answered_at = now
        if incident.first_response_at is None:
            incident.first_response_at = now
        incident.updated_at = now
        record_event(
            session,
            incident,
            now,
            handoff.team,
            "team-answer",
            f"{mail.from_address}" + (" (first answer)" if first else ""),
        )
        relayed = relay_answer(
            session, self._config, self._renderer, incident, handoff.team, mail.clean_text, now
        )
        return Handled(
            Outcome.TEAM_ANSWER,
            f"team:{handoff.team}" + ("; relayed to the client" if relayed else ""),
            mail.message_id,
            incident.reference,
            relayed,
        )

    def _followup(
        self,
        session: Session,
        inbound: InboundMail,
        mail: ParsedMail,
        identity: MailIdentity,
        now: datetime,
        incident: Incident,
    ) -> Handled:
        session.add(self._message(mail, inbound, identity, now, "followup", "", incident))
        incident.last_client_message_at = now
        incident.updated_at = now
        reason = "thread-match"
        reopened = incident.status == "resolved"
        if incident.status in ("waiting", "resolved"):
            reason = f"thread-match; reopened from {incident.status}"
            change_status(
                session,
                incident,
                "open",
                now=now,
                calendar=self._calendar,
                actor="client",
                note="the client wrote again",
            )
        replies = 0
        if self._config.replies.acknowledge_followups:
            replies = self._maybe_reply(session, mail, incident, "followup", now)
        if inbound.raw is not None:
            forward_followup(
                session,
                self._config,
                self._renderer,
                incident,
                inbound.raw,
                mail.clean_text,
                now,
                reopened,
            )
        return Handled(Outcome.FOLLOWUP, reason, mail.message_id, incident.reference, replies)

    def _maybe_reply(
        self, session: Session, mail: ParsedMail, incident: Incident, purpose: str, now: datetime
    ) -> int:
        """Queue an automatic answer unless the loop guard says no (then log why)."""
        address = (mail.reply_to or mail.from_address).lower()
        window = timedelta(hours=self._config.replies.auto_reply_window_hours)
        limit = self._config.replies.max_auto_replies_per_sender
        recent = store.count_auto_replies(session, address, now - window, limit)
        suppressed = reply_suppressed_reason(mail, recent, limit)
        failing = self._failing.get(address) if suppressed is None else None
        if failing is not None and failing[1] > now:
            suppressed = f"failing-address:{failing[0]} until {failing[1]:%Y-%m-%d %H:%M} UTC"
        if suppressed is not None:
            record_event(session, incident, now, "maildesk", "no-reply", suppressed)
            log.info(
                "no automatic reply",
                extra={
                    "message_id": mail.message_id,
                    "reference": incident.reference,
                    "reason": suppressed,
                },
            )
            return 0
        # Whatever goes wrong here, the incident stands; only the automatic answer is
        # missing, with its reason on the incident and in the log.
        try:
            outgoing = self._compose(mail, incident, purpose, address, now)
        except (TemplateError, UnwritableAddress) as exc:
            what = "template error" if isinstance(exc, TemplateError) else "address not writable"
            return self._no_reply(session, mail, incident, now, f"{what}: {exc}")
        except Exception as exc:  # a bug must cost the reply, never the incident
            log.exception("reply composition failed", extra={"message_id": mail.message_id})
            return self._no_reply(
                session, mail, incident, now, f"composition failed: {type(exc).__name__}: {exc}"
            )
        session.add(queued_row(outgoing, purpose, now, incident))
        return 1

    @staticmethod
    def _no_reply(
        session: Session, mail: ParsedMail, incident: Incident, now: datetime, reason: str
    ) -> int:
        record_event(session, incident, now, "maildesk", "no-reply", reason)
        log.error(
            "reply not composed",
            extra={
                "message_id": mail.message_id,
                "reference": incident.reference,
                "reason": reason,
            },
        )
        return 0

    def _compose(
        self, mail: ParsedMail, incident: Incident, purpose: str, address: str, now: datetime
    ) -> OutgoingMail:
        company = self._config.company
        language = incident.language
        facts = IncidentFacts(
            reference=incident.reference,
            client_name=incident.client_name,
            subject=mail.subject,
            category=incident.category,
            kind=incident.kind,
            priority=incident.priority,
            first_response_due=incident.first_response_due,
            deadline=incident.resolution_due,
            status=incident.status,
            previous_reference=incident.previous.reference if incident.previous else None,
        )
        opens_at = self._calendar.next_opening(now)
        if incident.arrived_out_of_hours and opens_at == now:  # last call: after this closing
            opens_at = self._calendar.next_opening(self._calendar.next_closing(now))
        context = reply_context(
            self._config, facts, language, now, opens_at, self._calendar.is_open(now)
        )
        template = "ack_closed" if purpose == "ack" and incident.arrived_out_of_hours else purpose
        rendered = self._renderer.render(template, language, context)
        return compose_reply(
            rendered=rendered,
            sender_name=company.display_name,
            sender_address=company.support_address,
            to_address=address,
            to_name=mail.from_name,
            reference=incident.reference,
            language=language,
            in_reply_to=mail.message_id,
            references=mail.references,
            now=now,
            zone=self._config.schedule.zone,
        )

    def _incident(
        self, reference: str, mail: ParsedMail, language: str, triage: Triage, now: datetime
    ) -> Incident:
        c = triage.classification
        return Incident(
            reference=reference,
            status="open",
            category=c.category,
            category_confidence=c.confidence,
            category_reason=c.reason[:200],
            unsure=triage.unsure,
            kind=c.kind,
            kind_reason=c.reason[:200],
            priority=triage.priority.level,
            priority_reason=triage.priority.reason[:200],
            language=language,
            client_address=(mail.reply_to or mail.from_address).lower(),
            client_name=mail.from_name[:200],
            subject=mail.subject[:998],
            first_response_due=triage.deadline.first_response_due,
            resolution_due=triage.deadline.resolution_due,
            deadline_reason=triage.deadline.reason[:200],
            created_at=now,
            updated_at=now,
            last_client_message_at=now,
        )

    @staticmethod
    def _duplicate(
        kind: str,
        inbound: InboundMail,
        mail: ParsedMail,
        content: str,
        matched: store.SeenMessage,
        now: datetime,
    ) -> DuplicateMail:
        return DuplicateMail(
            kind=kind,
            mailbox=inbound.mailbox,
            uidvalidity=inbound.uidvalidity,
            uid=inbound.uid,
            message_id=mail.message_id[:998] if mail.message_id else None,
            content_hash=content,
            matched_message_id=matched.id,
            incident_id=matched.incident_id,
            created_at=now,
        )

    def _message(
        self,
        mail: ParsedMail,
        inbound: InboundMail,
        identity: MailIdentity,
        now: datetime,
        disposition: str,
        reason: str,
        incident: Incident | None,
    ) -> Message:
        return Message(
            incident=incident,
            direction="in",
            dedup_key=identity.key[:1000],
            message_id=mail.message_id,
            disposition=disposition,
            reason=reason[:200],
            from_address=mail.from_address[:320],
            from_name=mail.from_name[:200],
            to_addresses=", ".join(mail.to),
            subject=mail.subject[:998],
            body_text=mail.body_text,
            clean_text=mail.clean_text,
            attachments={
                "files": [
                    {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                    for a in mail.attachments
                ]
            },
            defects=", ".join(mail.defects),
            size=mail.raw_size,
            sha256=mail.sha256,
            content_hash=identity.content,
            mailbox=inbound.mailbox,
            uidvalidity=inbound.uidvalidity,
            uid=inbound.uid,
            sent_at=mail.date,
            received_at=now,
        )

    def _quarantine(
        self,
        session: Session,
        inbound: InboundMail,
        reason: str,
        detail: str,
        sha256: str | None = None,
    ) -> Handled:
        """Keep the whole mail in the quarantine table (once per content) and say why."""
        digest = sha256 or hashlib.sha256(inbound.raw or b"").hexdigest()
        # One row per mail on the server: byte-identical twins each keep theirs (and are
        # each left on the server); only this same mail seen again adds nothing.
        exists = (
            session.query(QuarantinedMail.id)
            .filter_by(mailbox=inbound.mailbox, uidvalidity=inbound.uidvalidity, uid=inbound.uid)
            .first()
        )
        if exists is None:
            session.add(
                QuarantinedMail(
                    sha256=digest,
                    reason=reason,
                    detail=detail[:2000],
                    mailbox=inbound.mailbox,
                    uidvalidity=inbound.uidvalidity,
                    uid=inbound.uid,
                    size=inbound.size,
                    raw=inbound.raw,
                    created_at=self._clock.now(),
                )
            )
        return Handled(
            Outcome.QUARANTINED,
            f"{reason}: {detail}" if detail else reason,
            header_message_id(inbound.raw or b""),
            uid=inbound.uid,
        )

    def _advance(self, session: Session, inbound: InboundMail) -> None:
        store.save_checkpoint(
            session, inbound.mailbox, inbound.uidvalidity, inbound.uid, self._clock.now()
        )

    @staticmethod
    def _log(handled: Handled) -> None:
        if handled.outcome is Outcome.QUARANTINED:
            log.warning(
                "mail quarantined",
                extra={
                    "message_id": handled.message_id,
                    "uid": handled.uid,
                    "reason": handled.reason,
                },
            )
            return
        log.info(
            f"mail handled: {handled.outcome}",
            extra={
                "message_id": handled.message_id,
                "reference": handled.reference,
                "outcome": str(handled.outcome),
                "reason": handled.reason,
                "replies": handled.replies,
            },
        )
