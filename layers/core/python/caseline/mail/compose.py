"""Building the email for an agent's public reply: pure, bytes out, no I/O besides the package's templates.

The message threads in the customer's mail client and back into the case when they answer:

- Message-ID `<case-<case>.<interaction>@<domain>>` (threading.make_message_id): a reply's In-Reply-To names
  the case and the interaction answered;
- In-Reply-To / References carry the customer's last message and its own references, so clients thread it;
- the subject carries the case token (`[#10234]`), and Reply-To the plus address (`support+c10234@…`);
- text and HTML parts: the HTML is the agent's text escaped and cut into paragraphs, never their markup;
- a short header and footer naming the case, from `mail/templates/<locale>.json` (en, de, es).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cache
from importlib import resources
from string import Template

from ..ports.mail import OutgoingMail
from .threading import make_message_id, reply_address, subject_token, with_subject_token

LOCALES = ("en", "de", "es")
DEFAULT_LOCALE = "en"
MAX_REFERENCES = 20  # RFC 5322 sets no limit; long chains only grow headers, the first and newest ones matter
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|fwd?|wg|rv)\s*(\[\d+\])?\s*:\s*)+", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str = ""


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """Everything the message is made of, read from the case by the caller."""

    case_id: str
    case_number: int
    case_subject: str
    interaction_id: str
    text: str
    sent_at: datetime
    support_address: str
    to: Mailbox
    team_name: str = "Support"
    author_name: str = ""
    cc: tuple[Mailbox, ...] = ()
    locale: str = DEFAULT_LOCALE
    in_reply_to: tuple[str, ...] = ()  # the customer's last message: its Message-ID (without brackets)
    references: tuple[str, ...] = ()  # that message's References, oldest first
    attachments: tuple[FilePart, ...] = field(default_factory=tuple)


def pick_locale(*candidates: str | None) -> str:
    """The first candidate we have templates for (`de-AT` counts as `de`), else English."""
    for candidate in candidates:
        if candidate and candidate[:2].lower() in LOCALES:
            return candidate[:2].lower()
    return DEFAULT_LOCALE


@cache
def template(locale: str) -> dict[str, str]:
    name = f"{pick_locale(locale)}.json"
    data = resources.files("caseline.mail").joinpath("templates", name).read_text(encoding="utf-8")
    return dict(json.loads(data))


def reply_subject(case_subject: str, case_number: int, *, answering: bool) -> str:
    """`Re: <subject> [#10234]`: one Re:, whatever prefixes the customer's client stacked up."""
    bare = _REPLY_PREFIX.sub("", case_subject).strip() or case_subject.strip()
    return with_subject_token(f"Re: {bare}" if answering else bare, case_number)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _ids(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        bare = value.strip().strip("<>").strip()
        if bare and not any(ch in bare for ch in " \r\n<>") and bare not in out:
            out.append(bare)
    return out


def _references(reply: Reply) -> list[str]:
    chain = _ids([*reply.references, *reply.in_reply_to])
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1):]]
    return chain


def _mailbox(box: Mailbox) -> Address:
    local, _, domain = box.address.rpartition("@")
    return Address(display_name=box.name.replace("\r", " ").replace("\n", " "), username=local, domain=domain)


def text_body(reply: Reply, words: dict[str, str]) -> str:
    lines = [words["header"], "", reply.text.strip("\n"), ""]
    if reply.attachments:
        lines += [words["attachments"], ""]
    lines += ["-- ", words["footer"]]
    return "\n".join(lines) + "\n"


def html_body(reply: Reply, words: dict[str, str], locale: str) -> str:
    paragraphs = [p for p in _BLANK_LINES.split(reply.text.strip()) if p.strip()]
    body = "\n".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    muted = 'style="color:#5f6368;font-size:12px"'
    parts = [f"<p {muted}>{html.escape(words['header'])}</p>", body]
    if reply.attachments:
        parts.append(f"<p {muted}>{html.escape(words['attachments'])}</p>")
    parts.append(f'<hr style="border:0;border-top:1px solid #dadce0"><p {muted}>{html.escape(words["footer"])}</p>')
    return (f'<!DOCTYPE html>\n<html lang="{locale}"><head><meta charset="utf-8"></head>'
            f"<body>\n{chr(10).join(parts)}\n</body></html>\n")


def compose_reply(reply: Reply) -> OutgoingMail:
    locale = pick_locale(reply.locale)
    values = {
        "team": reply.team_name,
        "case_number": f"#{reply.case_number}",
        "token": subject_token(reply.case_number),
        "names": ", ".join(a.filename for a in reply.attachments),
    }
    words = {key: Template(text).safe_substitute(values) for key, text in template(locale).items()}
    domain = _domain(reply.support_address)
    message_id = make_message_id(reply.case_id, reply.interaction_id, domain)
    subject = reply_subject(reply.case_subject, reply.case_number, answering=bool(reply.in_reply_to))

    message = EmailMessage(policy=SMTP)
    sender_name = reply.author_name or f"{reply.team_name} via Caseline"
    message["From"] = _mailbox(Mailbox(reply.support_address, sender_name))
    message["To"] = _mailbox(reply.to)
    if reply.cc:
        message["Cc"] = [_mailbox(box) for box in reply.cc]
    message["Reply-To"] = _mailbox(Mailbox(reply_address(reply.support_address, reply.case_number),
                                           reply.team_name))
    message["Subject"] = subject
    message["Date"] = format_datetime(reply.sent_at)
    message["Message-ID"] = message_id
    in_reply_to = _ids(reply.in_reply_to)
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to[-1]}>"
        message["References"] = " ".join(f"<{ref}>" for ref in _references(reply))
    message.set_content(text_body(reply, words), subtype="plain", charset="utf-8")
    message.add_alternative(html_body(reply, words, locale), subtype="html", charset="utf-8")
    for part in reply.attachments:
        maintype, _, subtype = part.content_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(part.data, maintype=maintype, subtype=subtype, filename=part.filename)
    message["Content-Language"] = locale  # after the body: setting content moves Content-* headers into parts

    recipients = _unique([reply.to.address, *(box.address for box in reply.cc)])
    return OutgoingMail(raw=message.as_bytes(policy=SMTP), sender=reply.support_address,
                        recipients=tuple(recipients), message_id=message_id, subject=subject,
                        case_id=reply.case_id, interaction_id=reply.interaction_id)


def _unique(addresses: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for address in addresses:
        if address.lower() not in (s.lower() for s in seen):
            seen.append(address)
    return seen


def compose_staff_notice(*, support_address: str, team_name: str, to: Mailbox, case_id: str, case_number: int,
                         case_subject: str, text: str, notice_id: str, sent_at: datetime) -> OutgoingMail:
    """A notification to a staff member (a rule's notify or escalate): plain text, the case token in the
    subject so a reply threads back to the case, and Auto-Submitted so that no autoresponder answers it."""
    message_id = make_message_id(case_id, notice_id, _domain(support_address))
    subject = with_subject_token(f"{text[:120] or 'Case needs attention'} — {case_subject}", case_number)
    message = EmailMessage(policy=SMTP)
    message["From"] = _mailbox(Mailbox(support_address, f"{team_name} via Caseline"))
    message["To"] = _mailbox(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{text}\n\nCase #{case_number}: {case_subject}\n", subtype="plain", charset="utf-8")
    return OutgoingMail(raw=message.as_bytes(policy=SMTP), sender=support_address, recipients=(to.address,),
                        message_id=message_id, subject=subject, case_id=case_id)
