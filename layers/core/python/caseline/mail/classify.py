"""What kind of message arrived: a person writing, an auto-reply, a bounce, a read receipt or an abuse report.

Structured reports (RFC 3464 DSNs, RFC 8098 MDNs, RFC 5965 ARF) are read from their machine-readable part.
Plain-text bounces (mail systems that send no DSN, or a DSN so broken its MIME cannot be trusted) are
recognised by sender, subject and body phrases together, never by one weak signal alone, so a customer who
writes "my mail was undeliverable" is still a customer. Auto-replies follow RFC 3834 headers first and the
subject lines that Exchange, Gmail and others use in many languages second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import Field

from .models import HeaderField, MailModel, ParsedMessage
from .parse import read_headers
from .threading import OurMessageId, read_message_id


class MessageKind(StrEnum):
    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    READ_RECEIPT = "read_receipt"
    ABUSE_REPORT = "abuse_report"


class Recipient(MailModel):
    """One recipient of a delivery report, with what the reporting system said about it."""

    address: str
    action: str | None = None  # failed, delayed, delivered, relayed, expanded (RFC 3464)
    status: str | None = None  # enhanced status code, e.g. 5.1.1
    diagnostic: str | None = None

    @property
    def failed(self) -> bool:
        if self.action:
            return self.action == "failed"
        return bool(self.status and self.status.startswith("5"))


class BounceDetails(MailModel):
    from_dsn: bool
    recipients: list[Recipient] = Field(default_factory=list)
    reporting_mta: str | None = None
    original_message_id: str | None = None
    our_message: OurMessageId | None = None

    @property
    def failed_addresses(self) -> list[str]:
        return [r.address for r in self.recipients if r.failed]

    @property
    def permanent(self) -> bool:
        return any(r.failed for r in self.recipients)


class ReceiptDetails(MailModel):
    disposition: str | None = None  # e.g. "manual-action/MDN-sent-manually; displayed"
    final_recipient: str | None = None
    original_message_id: str | None = None
    our_message: OurMessageId | None = None


class AbuseDetails(MailModel):
    feedback_type: str | None = None  # abuse, fraud, virus, other, not-spam (RFC 5965)
    user_agent: str | None = None
    original_mail_from: str | None = None
    original_rcpt_to: list[str] = Field(default_factory=list)
    reported_domain: str | None = None
    original_message_id: str | None = None
    our_message: OurMessageId | None = None


class Classification(MailModel):
    kind: MessageKind
    reasons: list[str] = Field(default_factory=list)
    from_us: bool = False
    # True for anything a machine sent or a list distributed: never answer it automatically (RFC 3834).
    automated: bool = False
    bounce: BounceDetails | None = None
    receipt: ReceiptDetails | None = None
    abuse: AbuseDetails | None = None


_DAEMON_LOCAL = re.compile(
    r"^(mailer-daemon|mailer_daemon|mailerdaemon|mail-daemon|postmaster|microsoftexchange[0-9a-f]{32}|"
    r"mail-?delivery-?(system|subsystem)?|bounces?|no-?reply-?bounce)$",
    re.IGNORECASE,
)
_DAEMON_NAME = re.compile(r"\b(mail delivery (subsystem|system)|mailer-daemon|postmaster|mail administrator)\b", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(ed|able)|undelivered mail returned to sender|mail delivery failed|"
    r"delivery status notification \((failure|delay)\)|returned mail|failure notice|delivery failure|"
    r"message not delivered|mail delivery failure|non-?deliver|nondeliverable|unzustellbar|nicht zustellbar|"
    r"returned to sender|delivery notification|mail system error|could not send message|"
    r"no se puede entregar|non remis|notificación de estado de entrega)",
    re.IGNORECASE,
)
_BOUNCE_PHRASES = re.compile(
    r"(this is the mail system at host|could not be delivered to one or more|message could not be delivered|"
    r"delivery to the following recipients? failed|delivery has failed to these recipients|"
    r"your message (to \S+ )?(wasn't|was not|couldn't be|could not be) delivered|address not found|"
    r"the following address(es)? failed|a message that you sent could not be delivered|"
    r"an error occurred while trying to deliver the mail|permanent fatal errors|"
    r"the email account that you tried to reach does not exist|recipient address rejected|"
    r"user unknown|no such user|mailbox unavailable|delivery to this recipient has failed|"
    r"ihre nachricht (hat|konnte).{0,40}nicht zugestellt|unable to deliver your message)",
    re.IGNORECASE,
)
_COPY_MARKERS = re.compile(
    r"^.*(this is a copy of the message|below this line is a copy of the message|original message headers|"
    r"original message follows|-{3,}\s*original message\s*-{3,}|message headers follow|"
    r"-{3,}\s*the original message\b).*$",
    re.IGNORECASE | re.MULTILINE,
)
_ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
_FAILED_LINES = [
    re.compile(p, re.IGNORECASE | re.MULTILINE)
    for p in (
        rf"^\s*<({_ADDRESS})>:?\s*$|^\s*<({_ADDRESS})>:",  # Postfix, sendmail
        rf"^\s{{2,}}({_ADDRESS})\s*$",  # Exim's indented list, SES
        rf"wasn'?t delivered to ({_ADDRESS})",  # Gmail
        rf"^\s*({_ADDRESS})\s*(\([^)]*\))?\s*$",  # Exchange: "Name (address)" or the address alone
        rf"\(({_ADDRESS})\)\s*$",  # Exchange with a display name first
        rf"message to ({_ADDRESS}) (couldn't|could not)",
        rf"delivery to ({_ADDRESS}) (has )?failed",
    )
]
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b([45]\d\d)[ -][^\n]{0,200}")

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|auto[- ]response|auto:|out of (the )?office|"
    r"abwesenheitsnotiz|automatische antwort|respuesta autom[áa]tica|fuera de la oficina|"
    r"r[ée]ponse automatique|absence du bureau|risposta automatica|fuori sede|automatisch antwoord|"
    r"afwezig|resposta autom[áa]tica|ausente|automatisk svar|automaattinen vastaus|odpowied[źz] automatyczna)",
    re.IGNORECASE,
)
_OFFICE_WORDS = re.compile(
    r"(out of (the )?office|\booof?\b|abwesen|vacation|holiday|urlaub|vacaciones|cong[ée]s|ferie|absent|"
    r"away from|not in the office|automatic|autom[áa]tica|automatische)",
    re.IGNORECASE,
)
_READ_SUBJECT = re.compile(r"^\s*(read|gelesen|le[íi]do|lu|letto|gelezen)\s*:", re.IGNORECASE)
_READ_BODY = re.compile(r"(was read on|wurde am .{0,40} gelesen|fue le[íi]do el|a été lu le)", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"^\s*message-id:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
_OUR_ID_ANYWHERE = re.compile(r"<(case-[0-9A-Za-z]+\.[0-9A-Za-z]+@[^<>\s]+)>")


def classify(
    parsed: ParsedMessage, our_domains: Iterable[str] = (), our_addresses: Iterable[str] = ()
) -> Classification:
    domains = {d.lower() for d in our_domains}
    from_us = _from_us(parsed, domains, {a.lower() for a in our_addresses})
    report_type = parsed.report.report_type if parsed.report else ""
    if report_type == "feedback-report":
        return Classification(
            kind=MessageKind.ABUSE_REPORT,
            reasons=["ARF feedback report"],
            from_us=from_us,
            automated=True,
            abuse=_abuse(parsed, domains),
        )
    if report_type == "disposition-notification":
        return Classification(
            kind=MessageKind.READ_RECEIPT,
            reasons=["MDN disposition notification"],
            from_us=from_us,
            automated=True,
            receipt=_receipt(parsed, domains),
        )
    if report_type == "delivery-status":
        return Classification(
            kind=MessageKind.BOUNCE,
            reasons=["DSN delivery-status report"],
            from_us=from_us,
            automated=True,
            bounce=_dsn(parsed, domains),
        )
    bounce_reasons = _bounce_signals(parsed)
    if bounce_reasons:
        return Classification(
            kind=MessageKind.BOUNCE,
            reasons=bounce_reasons,
            from_us=from_us,
            automated=True,
            bounce=_text_bounce(parsed, domains),
        )
    if _READ_SUBJECT.match(parsed.subject) and _READ_BODY.search(parsed.text[:2000]):
        return Classification(
            kind=MessageKind.READ_RECEIPT,
            reasons=["read-receipt subject and wording"],
            from_us=from_us,
            automated=True,
            receipt=ReceiptDetails(
                original_message_id=parsed.in_reply_to, our_message=_ours(parsed.in_reply_to, domains)
            ),
        )
    auto_reasons = _auto_reply_signals(parsed)
    if auto_reasons:
        return Classification(kind=MessageKind.AUTO_REPLY, reasons=auto_reasons, from_us=from_us, automated=True)
    list_reasons = _list_signals(parsed)
    return Classification(kind=MessageKind.NORMAL, reasons=list_reasons, from_us=from_us, automated=bool(list_reasons))


def _from_us(parsed: ParsedMessage, domains: set[str], addresses: set[str]) -> bool:
    if parsed.sender is None:
        return False
    address = parsed.sender.address.lower()
    local, _, domain = address.rpartition("@")
    plain = f"{local.split('+', 1)[0]}@{domain}"
    return address in addresses or plain in addresses or domain in domains


def _ours(message_id: str | None, domains: set[str]) -> OurMessageId | None:
    return read_message_id(message_id, domains) if message_id and domains else None


def _header(fields: Iterable[HeaderField], name: str) -> str | None:
    wanted = name.lower()
    return next((f.value for f in fields if f.name.lower() == wanted), None)


def _typed_value(value: str | None) -> str | None:
    """`rfc822; user@example.com` → `user@example.com` (the address type of DSN/ARF fields dropped)."""
    if value is None:
        return None
    _, semicolon, rest = value.partition(";")
    return (rest if semicolon else value).strip().strip("<>").strip() or None


def _one_line(value: str | None) -> str | None:
    return re.sub(r"\s+", " ", value).strip() if value else value


def _strip_id(value: str | None) -> str | None:
    if not value:
        return None
    match = re.search(r"<([^<>\s]+)>", value)
    return match.group(1) if match else value.strip() or None


def _returned_headers(parsed: ParsedMessage) -> list[HeaderField]:
    if parsed.report and parsed.report.returned_headers:
        return parsed.report.returned_headers
    for attachment in parsed.attached_messages:
        headers = read_headers(attachment.data)
        if headers:
            return headers
    return []


def _original_id(
    parsed: ParsedMessage, domains: set[str], extra: str | None = None
) -> tuple[str | None, OurMessageId | None]:
    """The Message-ID of the message a report is about, and our ids if it is one of our notifications."""
    candidates: list[str] = []
    if extra:
        candidates.append(extra)
    returned = _returned_headers(parsed)
    found = _strip_id(_header(returned, "message-id"))
    if found:
        candidates.append(found)
    candidates += _MESSAGE_ID_LINE.findall(_returned_text(parsed.text))
    candidates += [*filter(None, [parsed.in_reply_to]), *reversed(parsed.references)]
    for candidate in candidates:
        ours = _ours(candidate, domains)
        if ours:
            return candidate, ours
    # Last resort: one of our ids anywhere in the returned headers or text (a References line, a quoted copy).
    haystack = " ".join(f.value for f in returned) + "\n" + parsed.text
    for candidate in _OUR_ID_ANYWHERE.findall(haystack):
        ours = _ours(candidate, domains)
        if ours:
            return candidate, ours
    return (candidates[0] if candidates else None), None


def _returned_text(text: str) -> str:
    marker = _COPY_MARKERS.search(text)
    return text[marker.start() :] if marker else text


def _report_text(text: str) -> str:
    marker = _COPY_MARKERS.search(text)
    return text[: marker.start()] if marker else text


def _dsn(parsed: ParsedMessage, domains: set[str]) -> BounceDetails:
    assert parsed.report is not None
    fields = [field for block in parsed.report.fields for field in block]
    reporting = _typed_value(_header(fields, "reporting-mta"))
    recipients = [item for block in parsed.report.fields for item in _recipient_blocks(block)]
    result: list[Recipient] = []
    for item in recipients:
        address = item.get("final") or item.get("original")
        if not address or "@" not in address:
            continue
        status_match = _STATUS.search(item.get("status") or "")
        result.append(
            Recipient(
                address=address.lower() if address.isascii() else address,
                action=(item.get("action") or "").lower().split()[0] if item.get("action") else None,
                status=status_match.group(1) if status_match else None,
                diagnostic=_one_line(_typed_value(item.get("diagnostic-code"))),
            )
        )
    if not result:  # a DSN whose per-recipient part is missing or mangled: read the text instead
        result = _text_recipients(parsed)
    original, ours = _original_id(parsed, domains)
    return BounceDetails(
        from_dsn=True, recipients=result, reporting_mta=reporting, original_message_id=original, our_message=ours
    )


def _recipient_blocks(block: list[HeaderField]) -> list[dict[str, str | None]]:
    """Per-recipient fields of one DSN block; a block holding several recipients (no blank lines between
    them, as broken DSNs have) is split where a recipient field repeats."""
    recipients: list[dict[str, str | None]] = []
    current: dict[str, str | None] = {}
    for field in block:
        name = field.name.lower()
        key = {"final-recipient": "final", "original-recipient": "original"}.get(name, name)
        if key not in ("final", "original", "action", "status", "diagnostic-code"):
            continue
        if key in current and any(k in current for k in ("final", "original")):
            recipients.append(current)
            current = {}
        current[key] = _typed_value(field.value) if key in ("final", "original") else field.value.strip()
    if "final" in current or "original" in current:
        recipients.append(current)
    return recipients


def _bounce_signals(parsed: ParsedMessage) -> list[str]:
    reasons: list[str] = []
    sender = parsed.sender
    daemon = bool(sender and (_DAEMON_LOCAL.match(sender.local_part) or _DAEMON_NAME.search(sender.name)))
    return_path = parsed.header("return-path")
    null_path = return_path is not None and return_path.strip() in ("<>", "")
    subject = bool(_BOUNCE_SUBJECT.match(parsed.subject))
    phrase = _BOUNCE_PHRASES.search(_report_text(parsed.text)[:20_000])
    if daemon:
        reasons.append(f"sender {sender.address if sender else ''} is a mail system")
    if null_path:
        reasons.append("null Return-Path")
    if subject:
        reasons.append(f"bounce subject {parsed.subject[:60]!r}")
    if phrase:
        reasons.append(f"bounce wording {phrase.group(0)[:60]!r}")
    strong = (daemon or null_path) and (subject or phrase)
    return reasons if strong or (subject and phrase) else []


def _text_recipients(parsed: ParsedMessage) -> list[Recipient]:
    text = _report_text(parsed.text)
    ignore = {parsed.sender.address.lower()} if parsed.sender else set()
    found: dict[str, Recipient] = {}
    for pattern in _FAILED_LINES:
        for match in pattern.finditer(text):
            address = next(group for group in match.groups() if group and "@" in group).lower()
            if address in ignore or _DAEMON_LOCAL.match(address.rpartition("@")[0]) or address in found:
                continue
            paragraph = _paragraph_after(text, match.start())
            status = _STATUS.search(paragraph)
            reply = _SMTP_REPLY.search(paragraph)
            found[address] = Recipient(
                address=address,
                action="failed",
                status=status.group(1) if status else None,
                diagnostic=reply.group(0).strip() if reply else None,
            )
    return list(found.values())


def _paragraph_after(text: str, start: int) -> str:
    end = text.find("\n\n", text.find("\n", start) + 1)
    following = text.find("\n\n", end + 2) if end >= 0 else -1
    return text[start : following if following >= 0 else len(text)][:1000]


def _text_bounce(parsed: ParsedMessage, domains: set[str]) -> BounceDetails:
    original, ours = _original_id(parsed, domains)
    return BounceDetails(
        from_dsn=False, recipients=_text_recipients(parsed), original_message_id=original, our_message=ours
    )


def _receipt(parsed: ParsedMessage, domains: set[str]) -> ReceiptDetails:
    assert parsed.report is not None
    fields = [field for block in parsed.report.fields for field in block]
    original, ours = _original_id(parsed, domains, _strip_id(_header(fields, "original-message-id")))
    return ReceiptDetails(
        disposition=(_header(fields, "disposition") or "").strip() or None,
        final_recipient=_typed_value(_header(fields, "final-recipient")),
        original_message_id=original,
        our_message=ours,
    )


def _abuse(parsed: ParsedMessage, domains: set[str]) -> AbuseDetails:
    assert parsed.report is not None
    fields = [field for block in parsed.report.fields for field in block]
    original, ours = _original_id(parsed, domains)
    return AbuseDetails(
        feedback_type=(_header(fields, "feedback-type") or "").strip().lower() or None,
        user_agent=_header(fields, "user-agent"),
        original_mail_from=_typed_value(_header(fields, "original-mail-from")),
        original_rcpt_to=[v for f in fields if f.name.lower() == "original-rcpt-to" if (v := _typed_value(f.value))],
        reported_domain=_header(fields, "reported-domain"),
        original_message_id=original,
        our_message=ours,
    )


def _auto_reply_signals(parsed: ParsedMessage) -> list[str]:
    reasons: list[str] = []
    auto_submitted = (parsed.header("auto-submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        reasons.append(f"Auto-Submitted: {auto_submitted}")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"):
        if parsed.header(name) is not None:
            reasons.append(f"{name} header")
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        reasons.append(f"Precedence: {precedence}")
    suppress = parsed.header("x-auto-response-suppress")
    if _AUTO_SUBJECT.match(parsed.subject):
        reasons.append(f"auto-reply subject {parsed.subject[:60]!r}")
    elif suppress is not None and _OFFICE_WORDS.search(parsed.subject):
        reasons.append("X-Auto-Response-Suppress with an out-of-office subject")
    if parsed.header("list-id") is not None and (suppress is not None or auto_submitted):
        reasons.append("List-Id with an auto-response header")
    return reasons


def _list_signals(parsed: ParsedMessage) -> list[str]:
    return [f"{name} header" for name in ("list-id", "list-unsubscribe") if parsed.header(name) is not None]
