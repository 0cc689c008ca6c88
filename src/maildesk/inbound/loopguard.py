"""Mail-loop care in one place: is a mail automatic, and may we answer it automatically?

Follows RFC 3834 and the habits of real autoresponders (Mailman's replybot): a mail that
is itself automatic never gets an automatic answer and never opens an incident.

``automatic_reason`` returns ``"<kind>:<rule>"`` (kinds in ``AUTOMATIC_KINDS``). Families
are tried from the most specific to the weakest sign, so a Postfix bounce (which also
says ``Auto-Submitted: auto-replied``) is a ``bounce`` and a mail with nothing but a null
Return-Path comes last. Subjects only count when the marker opens the subject and is
followed by a separator (":", " - ", "(", "[" or the end): auto-responders write
"Automatic reply: <subject>", while a person writes "Re: Automatic reply: …" (answering
an auto-reply) or "Respuesta automática de la centralita no funciona" (a complaint).

A delivery or read-receipt subject is still a weak sign on its own: people write "Read: the
router manual says…" or "Undeliverable: the engineer could not find us". Those two families
count only with a corroborating sign (``_corroboration``): the notice's own wording in the
first ``BODY_SCAN`` characters of the body ("Delivery has failed to these recipients", "was
read on", "fue leído el"…), ``Auto-Submitted``, a null Return-Path, a robot sender, an
attached ``message/rfc822`` or, for receipts, an Outlook TNEF body. The reason then names
both: ``"read-receipt:subject:body"``. Auto-reply subjects need no second sign.

``X-Auto-Response-Suppress`` is deliberately *not* a sign of automatic mail: Outlook
puts it on ordinary human mail to mean "do not auto-reply to me", which
``reply_suppressed_reason`` honours; Microsoft auto-replies always carry other signs
(``Auto-Submitted``, an "Automatic reply:" subject). ``Disposition-Notification-To`` is
a *request* for a read receipt, made by people, so it is no sign either.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from maildesk.inbound.parse import ParsedMail

LOOP_HEADER = "X-Maildesk-Loop"
_OWN_REPLY_HEADER = LOOP_HEADER.lower()

AUTOMATIC_KINDS = (
    "loop",  # our own mail coming back
    "bounce",  # delivery status notifications
    "read-receipt",  # message disposition notifications
    "auto-reply",  # vacation / out-of-office / autoresponders
    "list",  # mailing lists and their managers
    "bulk",  # newsletters and campaigns
    "robot",  # other machine mail: no-reply senders, notifications, abuse reports
    "no-sender",  # no readable From address
)

_NOT_SET = frozenset({"", "no", "false", "0"})
_MAX_LOCALPART = 64  # RFC 5321; longer ones are not worth a regex run
_TOKEN = re.compile(r"\s*([A-Za-z0-9_-]*)")  # the keyword before parameters and comments

# --- headers --------------------------------------------------------------------------------
_BOUNCE_HEADERS = (
    ("x-failed-recipients", "bounce:x-failed-recipients"),  # Exim
    ("x-ms-exchange-message-is-ndr", "bounce:x-ms-exchange-message-is-ndr"),
)
_AUTO_REPLY_HEADERS = (
    ("x-autoreply", "auto-reply:x-autoreply"),
    ("x-autorespond", "auto-reply:x-autorespond"),
    ("x-auto-reply-from", "auto-reply:x-auto-reply-from"),
    ("x-autoreply-from", "auto-reply:x-autoreply-from"),
    ("x-mail-autoreply", "auto-reply:x-mail-autoreply"),
    ("x-fc-machinegenerated", "auto-reply:x-fc-machinegenerated"),  # FirstClass
)
_LIST_HEADERS = (
    ("list-id", "list:list-id"),
    ("list-unsubscribe", "list:list-unsubscribe"),
    ("list-subscribe", "list:list-subscribe"),
    ("list-post", "list:list-post"),
    ("list-help", "list:list-help"),
    ("list-owner", "list:list-owner"),
    ("list-archive", "list:list-archive"),
    ("x-mailman-version", "list:x-mailman-version"),
    ("x-beenthere", "list:x-beenthere"),  # Mailman
    ("x-ml-name", "list:x-ml-name"),  # fml and other Japanese list managers
    ("x-ml-count", "list:x-ml-count"),
    ("x-list", "list:x-list"),
    ("mailing-list", "list:mailing-list"),  # ezmlm
    ("x-mailing-list", "list:x-mailing-list"),
    ("x-listserver", "list:x-listserver"),
    ("x-ecartis-version", "list:x-ecartis-version"),
)
_CAMPAIGN = "\nx-campaign"  # a header name starting so: X-Campaign, X-CampaignID…
_MAILER = re.compile(  # on the lower-cased value; \b lets the scan skip most positions
    r"\b(?:(?P<list>list[ -]?(?:manager|server|serv|processor)|majordomo|mailman|sympa|ezmlm|"
    r"smartlist|ecartis|lyris)"
    r"|(?P<bulk>phplist|mailchimp|sendinblue|brevo|mailjet|mailpoet|mailerlite|acumbamail|"
    r"mailrelay|sendy|mass[ -]?mail|newsletter))",
)
_BOUNCE_NAMES = frozenset(name for name, _ in _BOUNCE_HEADERS)
_AUTO_REPLY_NAMES = frozenset(name for name, _ in _AUTO_REPLY_HEADERS)
_PRECEDENCE_HEADERS = ("precedence", "x-precedence")
_LIST_NAMES = frozenset(name for name, _ in _LIST_HEADERS)
_SIGNAL_HEADERS = frozenset(
    {
        "x-loop",
        "auto-submitted",
        *_PRECEDENCE_HEADERS,
        "x-autogenerated",
        "x-mailer",
        "feedback-type",
        *_BOUNCE_NAMES,
        *_LIST_NAMES,
        *_AUTO_REPLY_NAMES,
    }
)
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([A-Za-z0-9._-]+)", re.IGNORECASE)
_REPORT_KINDS = {
    "delivery-status": "bounce:report:delivery-status",
    "global-delivery-status": "bounce:report:delivery-status",
    "disposition-notification": "read-receipt:report",
    "global-disposition-notification": "read-receipt:report",
    "feedback-report": "robot:report:feedback-report",
}
_AUTO_SUBMITTED = {
    "auto-replied": "auto-reply:auto-submitted:auto-replied",
    "auto-generated": "robot:auto-submitted:auto-generated",
    "auto-notified": "robot:auto-submitted:auto-notified",
}
_PRECEDENCE = {
    "bulk": "bulk:{header}:bulk",
    "junk": "bulk:{header}:junk",
    "list": "list:{header}:list",
    "auto_reply": "auto-reply:{header}:auto-reply",
    "auto-reply": "auto-reply:{header}:auto-reply",
}

# --- senders --------------------------------------------------------------------------------
_SEP = r"[-_.]?"
# Local part of the From address; a "+tag", "=tag", "-tag" or "_tag" suffix is allowed
# (VERP, sub-addressing), a ".name" one is not ("noreply.fan" is a person).
_LOCALPART = re.compile(
    rf"(?:(?P<mailer_daemon>mailer{_SEP}daemon|mail{_SEP}daemon)"
    rf"|(?P<postmaster>post{_SEP}master)"
    r"|(?P<bounces>bounces?)"
    r"|(?P<list_manager>listserv|majordomo|mailman|sympa|owner-[^@]+|[^@]+-(?:owner|bounces))"
    rf"|(?P<noreply>no{_SEP}reply|do{_SEP}not{_SEP}reply|dont{_SEP}reply|no{_SEP}responder"
    rf"|no{_SEP}contestar|nao{_SEP}responda|ne{_SEP}pas{_SEP}repondre|non{_SEP}rispondere"
    rf"|keine{_SEP}antwort|niet{_SEP}beantwoorden)"
    r"|(?P<notifications>notifications?|notificaciones|notificacions)"
    r"|(?P<microsoft_exchange>microsoftexchange[0-9a-f]{32}))"
    r"(?:[+=_-].*)?",
)
_LOCALPART_REASONS = {
    "mailer_daemon": "bounce:sender:mailer-daemon",
    "postmaster": "bounce:sender:postmaster",
    "bounces": "bounce:sender:bounces",
    "list_manager": "list:sender:list-manager",
    "noreply": "robot:sender:noreply",
    "notifications": "robot:sender:notifications",
    "microsoft_exchange": "robot:sender:microsoft-exchange",
}
_BOUNCE_SENDERS = frozenset({"mailer_daemon", "postmaster", "bounces"})
_SENDER_NAME = re.compile(
    r"\s*(?:(?P<mail_delivery>mail delivery (?:subsystem|system|service)|mail delivery"
    r"|mail administrator|servicio de entrega de correo|sistema de entrega de correo)"
    r"|(?P<postmaster>post ?master|mailer-daemon)"
    r"|(?P<microsoft_outlook>microsoft outlook))\s*",
    re.IGNORECASE,
)

# --- subjects -------------------------------------------------------------------------------
_END = r"\s*(?::|[-–—]\s|[(\[]|$)"  # what follows a marker in a machine-written subject
_SUBJECT = re.compile(
    r"\s*(?:"
    r"(?P<bounce>(?:undelivered mail returned to sender|undelivered mail|undeliverable(?: mail)?"
    r"|undelivered|delivery status notification|delivery (?:failure|failed|delayed)"
    r"|mail delivery (?:failed|failure|delayed)|message not delivered|returned mail|"
    r"failure notice|non remis|non distribuable|unzustellbar|nicht zustellbar"
    r"|no se puede entregar|no se pudo entregar|error (?:de|en la) entrega(?: del mensaje)?"
    r"|[ée]chec de (?:la )?(?:distribution|remise)(?: du message)?|delayed mail"
    r"|mensaje no entregado|no entregado|non recapitabile|impossibile recapitare"
    r"|n[ãa]o (?:foi )?entregue|onbestelbaar|niet bezorgd"
    r"|notificaci[óo]n de estado de (?:la )?entrega)"
    + _END
    + r"|warning: could not send message for past)"
    r"|(?P<receipt>(?:read|not read|le[íi]do|no le[íi]do|llegit|no llegit|lu|non lu|gelesen"
    r"|nicht gelesen|letto|non letto|lido|n[ãa]o lido|gelezen|niet gelezen)\s*:"
    r"|(?:return receipt|read receipt|read-receipt|lesebest[äa]tigung"
    r"|confirmaci[óo]n de lectura|accus[ée] de lecture)" + _END + r")"
    r"|(?P<auto_reply>auto\s?:|(?:auto(?:matic)?[ _-]?(?:reply|response|answer)"
    r"|out[ -]of[ -](?:the[ -])?office(?:[ -]?auto[ -]?reply)?"
    r"|respuesta autom[áa]tica|fuera de (?:la )?oficina(?: por vacaciones)?|ausencia"
    r"|ausente(?: por vacaciones| de (?:la )?oficina| do escrit[óo]rio)?"
    r"|resposta autom[àáa]tica|fora de l['’]oficina|fora do escrit[óo]rio"
    r"|r[ée]ponse automatique|absence(?: du bureau)?|absente?|message d['’]absence"
    r"|automatische antwort|abwesenheitsnotiz|abwesenheit|abwesend"
    r"|risposta automatica|fuori (?:sede|ufficio)|assente"
    r"|automatisch antwoord|afwezig(?:heid)?)" + _END + r")"
    r")",
    re.IGNORECASE,
)

# --- corroborating signs for delivery and receipt subjects ---------------------------------
BODY_SCAN = 4096  # characters of body_text searched for a notice's wording
_NDR_WORDS = re.compile(  # a space stands for any white space: notices wrap their lines
    (
        r"delivery has failed to these recipients"  # Exchange
        r"|delivery is delayed to these recipients"
        r"|delivery to the following recipients? (?:failed|has been delayed)"
        r"|your message (?:to \S+ )?(?:couldn't|could not|can't|cannot|wasn't|was not|did not"
        r"|didn't) (?:be delivered|reach)"
        r"|(?:was not|wasn't|could not be|couldn't be) delivered to"  # Domino, Postfix, Gmail
        r"|unable to deliver (?:your|the|this) message"  # Yahoo
        r"|permanent fatal errors|the following addresses had permanent"  # sendmail
        r"|this is the mail system at host|created automatically by mail delivery software"
        r"|this is the qmail-send program|remote server returned '"
        r"|diagnostic information for administrators"
        r"|automatically generated delivery status notification"  # Gmail
        r"|no se (?:ha )?(?:pudo|podido) entregar|no ha podido ser entregad|error al entregar a"
        r"|no (?:ha sido|fue) posible entregar"
        r"|informaci[óo]n de diagn[óo]stico para administradores"
        r"|n'a pas pu [êe]tre (?:distribu|remis|d[ée]livr)|konnte nicht zugestellt werden"
        r"|non [èe] stato possibile recapitare|n[ãa]o (?:foi|p[ôo]de ser) entregue"
        r"|kon niet (?:worden )?(?:bezorgd|afgeleverd)"
    ).replace(" ", r"\s+"),
    re.IGNORECASE,
)
_RECEIPT_WORDS = re.compile(
    # Outlook's plain receipt opens with "Your message" alone on its line, then To/Subject/Sent
    r"^[ \t]*(?:your message|su mensaje|el (?:seu|vostre|teu) missatge|a sua mensagem"
    r"|ihre nachricht|votre message|il (?:suo |tuo )?messaggio|uw bericht)[ \t]*:?[ \t]*$"
    r"|\bwas read (?:on|at)\b|\bwas deleted without being read\b"
    r"|\b(?:fue|ha sido) le[íi]d[oa] el\b|\bse ley[óo] el\b|\bfue eliminad[oa] sin (?:ser )?le[íi]d"
    r"|\bs'ha llegit\b|\bva ser llegit\b|\bha estat llegit\b"
    r"|\bfoi lid[ao] em\b|\bsem ser lid[ao]\b"
    r"|\bwurde am\b[^\n]{0,60}\bgelesen\b|\ba [ée]t[ée] lu le\b|\bsans avoir [ée]t[ée] lu\b"
    r"|\b[èe] stato letto il\b|\bsenza essere letto\b|\b(?:is|werd) gelezen op\b",
    re.IGNORECASE | re.MULTILINE,
)
_ATTACHED_MESSAGE = frozenset(
    {"message/rfc822", "message/global", "text/rfc822-headers", "message/delivery-status"}
)
_TNEF = "application/ms-tnef"  # Outlook/Exchange send some receipts as winmail.dat only
# senders no person writes from (a bounce sender is a bounce on its own already)
_ROBOT_SENDERS = frozenset(
    {"mailer_daemon", "postmaster", "bounces", "noreply", "microsoft_exchange"}
)


def automatic_kind(reason: str) -> str:
    """The kind of an ``automatic_reason`` result: ``"bounce:sender:postmaster"`` → ``bounce``."""
    return reason.split(":", 1)[0]


def automatic_reason(mail: ParsedMail, own_addresses: Collection[str]) -> str | None:
    """Why this mail is machine-generated (so no incident and no reply), or None."""
    # One dict of first values (reversed: the first occurrence wins), and the few header
    # names any rule looks at: for ordinary mail that set is empty and most rules are skipped.
    headers = {name.lower(): value for name, value in reversed(mail.headers)}
    if _OWN_REPLY_HEADER in headers:  # first: our own copies are told apart by it
        return "loop:own-reply"
    signals = headers.keys() & _SIGNAL_HEADERS
    seen = _Seen(
        headers=headers,
        signals=signals,
        subject=_subject_kind(mail.subject),
        sender=_localpart_kind(mail.from_address),
        mailer=_mailer_kind(headers, signals),
        auto_submitted=_auto_submitted(headers, signals),
        precedence=_precedence_reason(headers, signals),
    )
    return (
        _loop_reason(mail, seen, own_addresses)
        or _report_reason(mail, seen)
        or _bounce_reason(mail, seen)
        or _receipt_reason(mail, seen)
        or _auto_reply_reason(seen)
        or _list_reason(seen)
        or _bulk_reason(seen)
        or _robot_reason(seen)
        or ("bounce:return-path:null" if mail.return_path == "" else None)
        or (None if mail.from_address else "no-sender:missing")
    )


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a µs on this hot path
class _Seen:
    """What the rules share, computed once per mail."""

    headers: dict[str, str]  # lower-cased name → first value
    signals: set[str]  # the names in _SIGNAL_HEADERS this mail has
    subject: str | None  # group of _SUBJECT that matched
    sender: str | None  # group of _LOCALPART that matched
    mailer: str | None  # group of _MAILER that matched X-Mailer
    auto_submitted: str  # its keyword, "" when absent
    precedence: str | None  # the reason Precedence or X-Precedence gives

    def value(self, name: str) -> str:
        """Lower-cased, stripped value of a signal header; "" when absent."""
        return self.headers[name].strip().lower() if name in self.signals else ""

    def first_rule(self, rules: tuple[tuple[str, str], ...], names: frozenset[str]) -> str | None:
        if names.isdisjoint(self.signals):
            return None
        return next((reason for name, reason in rules if name in self.signals), None)


def _auto_submitted(headers: dict[str, str], signals: set[str]) -> str:
    """The Auto-Submitted keyword, lower-cased, without parameters or (comments)."""
    match = _TOKEN.match(headers["auto-submitted"]) if "auto-submitted" in signals else None
    return match.group(1).lower() if match else ""


def _precedence_reason(headers: dict[str, str], signals: set[str]) -> str | None:
    for header in _PRECEDENCE_HEADERS:
        if header in signals:
            template = _PRECEDENCE.get(headers[header].strip().lower())
            if template is not None:
                return template.format(header=header)
    return None


def _mailer_kind(headers: dict[str, str], signals: set[str]) -> str | None:
    match = _MAILER.search(headers["x-mailer"].lower()) if "x-mailer" in signals else None
    return match.lastgroup if match else None


def _subject_kind(subject: str) -> str | None:
    match = _SUBJECT.match(subject)
    return match.lastgroup if match else None


def _localpart_kind(address: str) -> str | None:
    local = address.partition("@")[0]
    if not local or len(local) > _MAX_LOCALPART:
        return None
    match = _LOCALPART.fullmatch(local)
    return match.lastgroup if match else None


def _loop_reason(mail: ParsedMail, seen: _Seen, own_addresses: Collection[str]) -> str | None:
    if "x-loop" in seen.signals:
        for loop in mail.header_all("X-Loop"):
            if loop.strip().lower() in own_addresses:
                return "loop:x-loop"
    if mail.from_address and mail.from_address in own_addresses:
        return "loop:sender:own-address"
    return None


def _report_reason(mail: ParsedMail, seen: _Seen) -> str | None:
    """A multipart/report (RFC 6522) says what it reports in its report-type parameter."""
    if mail.content_type != "multipart/report":
        return None
    match = _REPORT_TYPE.search(seen.headers.get("content-type", ""))
    report_type = match.group(1).lower() if match else ""
    return _REPORT_KINDS.get(report_type, "bounce:report:other")


def _bounce_reason(mail: ParsedMail, seen: _Seen) -> str | None:
    header = seen.first_rule(_BOUNCE_HEADERS, _BOUNCE_NAMES)
    if header is not None:
        return header
    if seen.sender in _BOUNCE_SENDERS:
        return _LOCALPART_REASONS[seen.sender]
    named = _SENDER_NAME.fullmatch(mail.from_name) if mail.from_name else None
    # "Microsoft Outlook" is also the name of Outlook's own test message: only with a
    # delivery subject is it a non-delivery report.
    if named and (named.lastgroup != "microsoft_outlook" or seen.subject == "bounce"):
        return f"bounce:sender-name:{(named.lastgroup or '').replace('_', '-')}"
    if seen.subject != "bounce":
        return None
    sign = _corroboration(mail, seen, _NDR_WORDS)
    return f"bounce:subject:{sign}" if sign else None


def _receipt_reason(mail: ParsedMail, seen: _Seen) -> str | None:
    if seen.subject != "receipt":
        return None
    sign = _corroboration(mail, seen, _RECEIPT_WORDS)
    if sign is None and _TNEF in (mail.content_type, *(a.content_type for a in mail.attachments)):
        sign = "tnef"
    return f"read-receipt:subject:{sign}" if sign else None


def _corroboration(mail: ParsedMail, seen: _Seen, words: re.Pattern[str]) -> str | None:
    """The sign that backs a delivery or receipt subject, or None (then it is a person's)."""
    if seen.auto_submitted not in _NOT_SET:
        return "auto-submitted"
    if mail.return_path == "":
        return "return-path-null"
    if seen.sender in _ROBOT_SENDERS:
        return "robot-sender"
    if words.search(mail.body_text, 0, BODY_SCAN):
        return "body"
    if any(a.content_type in _ATTACHED_MESSAGE for a in mail.attachments):
        return "attached-message"
    return None


def _auto_reply_reason(seen: _Seen) -> str | None:
    if seen.auto_submitted == "auto-replied":
        return "auto-reply:auto-submitted:auto-replied"
    if not _AUTO_REPLY_NAMES.isdisjoint(seen.signals):
        for name, reason in _AUTO_REPLY_HEADERS:
            if seen.value(name) not in _NOT_SET:
                return reason
    if seen.value("x-autogenerated").startswith("reply"):  # Hotmail; others "Forward"…
        return "auto-reply:x-autogenerated"
    if seen.precedence is not None and seen.precedence.startswith("auto-reply:"):
        return seen.precedence
    return "auto-reply:subject" if seen.subject == "auto_reply" else None


def _list_reason(seen: _Seen) -> str | None:
    header = seen.first_rule(_LIST_HEADERS, _LIST_NAMES)
    if header is not None:
        return header
    if seen.precedence is not None and seen.precedence.startswith("list:"):
        return seen.precedence
    return "list:x-mailer" if seen.mailer == "list" else None


def _bulk_reason(seen: _Seen) -> str | None:
    if seen.precedence is not None and seen.precedence.startswith("bulk:"):
        return seen.precedence
    if _CAMPAIGN in "\n" + "\n".join(seen.headers):  # a C-speed prefix test on every name
        return "bulk:x-campaign"
    return "bulk:x-mailer" if seen.mailer == "bulk" else None


def _robot_reason(seen: _Seen) -> str | None:
    if seen.auto_submitted not in _NOT_SET:
        return _AUTO_SUBMITTED.get(seen.auto_submitted, "robot:auto-submitted:other")
    if seen.value("x-autogenerated") not in _NOT_SET:
        return "robot:x-autogenerated"
    if "feedback-type" in seen.signals:  # an ARF abuse report without its multipart/report
        return "robot:feedback-type"
    return _LOCALPART_REASONS[seen.sender] if seen.sender is not None else None


def reply_suppressed_reason(
    mail: ParsedMail, replies_recently: int, max_replies: int
) -> str | None:
    """Why a human mail still gets no automatic answer, or None when we may answer."""
    suppress = (mail.header("X-Auto-Response-Suppress") or "").lower()
    if any(token in suppress for token in ("all", "autoreply", "oof")):
        return f"x-auto-response-suppress:{suppress.strip()}"
    if replies_recently >= max_replies:
        return f"rate-limit:{replies_recently}>={max_replies}"
    return None
