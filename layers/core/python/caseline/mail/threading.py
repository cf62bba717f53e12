"""Which case an inbound message belongs to, from the identifiers we put on our own mail.

We mark every message we send three ways: its Message-ID (`<case-<case id>.<interaction id>@<domain>>`), the
case number in the subject (`[#10234]`) and, when replies go to a plus address, the case number in the
Reply-To (`support+c10234@domain`). A reply carries our Message-ID back in In-Reply-To/References, which is
the strongest evidence; the subject token and plus address are next. Similar subject text is never evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from .models import MailModel, ParsedMessage

_OUR_ID = re.compile(r"^<?case-([0-9A-Za-z]+)\.([0-9A-Za-z]+)@([^<>@\s]+)>?$")
_SUBJECT_TOKEN = re.compile(r"(?<![\w#\[])\[#(\d{1,12})\](?![\w\]])")
_PLUS = re.compile(r"^(?P<mailbox>[^+@]+)\+c(?P<number>\d{1,12})@(?P<domain>[^@]+)$", re.IGNORECASE)


class ThreadSource(StrEnum):
    MESSAGE_ID = "message_id"  # our Message-ID in In-Reply-To or References
    PLUS_ADDRESS = "plus_address"  # support+c10234@ among the recipients
    SUBJECT_TOKEN = "subject_token"  # noqa: S105 - [#10234] in the subject, not a secret


class ThreadHint(MailModel):
    """The case a message refers to, if any, and how we know. Numbers are case numbers, ids are ULIDs."""

    case_id: str | None = None
    interaction_id: str | None = None
    case_number: int | None = None
    source: ThreadSource | None = None

    @property
    def found(self) -> bool:
        return self.source is not None


class OurMessageId(MailModel):
    case_id: str
    interaction_id: str
    domain: str


def make_message_id(case_id: str, interaction_id: str, domain: str) -> str:
    """The Message-ID header value for a message we send on a case, angle brackets included."""
    if not re.fullmatch(r"[0-9A-Za-z]+", case_id) or not re.fullmatch(r"[0-9A-Za-z]+", interaction_id):
        raise ValueError("case and interaction ids must be alphanumeric")
    if not domain or "@" in domain or any(ch in domain for ch in "<> "):
        raise ValueError(f"not a domain: {domain!r}")
    return f"<case-{case_id}.{interaction_id}@{domain.lower()}>"


def read_message_id(message_id: str, our_domains: Iterable[str]) -> OurMessageId | None:
    """Our case and interaction ids from a Message-ID (with or without brackets), if it is one of ours."""
    match = _OUR_ID.match(message_id.strip())
    if not match:
        return None
    domain = match.group(3).lower()
    if domain not in {d.lower() for d in our_domains}:
        return None
    return OurMessageId(case_id=match.group(1).upper(), interaction_id=match.group(2).upper(), domain=domain)


def subject_token(case_number: int) -> str:
    return f"[#{case_number}]"


def with_subject_token(subject: str, case_number: int) -> str:
    """The subject with our token appended once (a token already there is not doubled)."""
    token = subject_token(case_number)
    return subject if token in subject else f"{subject.rstrip()} {token}".strip()


def find_subject_token(subject: str) -> int | None:
    """The case number from the first `[#123]` token standing on its own in the subject."""
    match = _SUBJECT_TOKEN.search(subject)
    return int(match.group(1)) if match else None


def reply_address(mailbox_address: str, case_number: int) -> str:
    """`support@example.com` → `support+c10234@example.com`."""
    local, at, domain = mailbox_address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not an address: {mailbox_address!r}")
    return f"{local.split('+', 1)[0]}+c{case_number}@{domain.lower()}"


def read_reply_address(address: str, our_domains: Iterable[str]) -> int | None:
    """The case number from a plus address at one of our domains."""
    match = _PLUS.match(address.strip())
    if not match or match.group("domain").lower() not in {d.lower() for d in our_domains}:
        return None
    return int(match.group("number"))


def find_thread(
    parsed: ParsedMessage, our_domains: Iterable[str], envelope_recipients: Iterable[str] = ()
) -> ThreadHint:
    """The case `parsed` continues: our Message-ID first (newest reference first), then plus address, then token.

    `envelope_recipients` are the SMTP RCPT TO addresses (or SES's recipients), which hold the plus address
    even when the visible To does not (a Bcc, a forward).
    """
    domains = {d.lower() for d in our_domains}
    candidates = [parsed.in_reply_to] if parsed.in_reply_to else []
    candidates += list(reversed(parsed.references))
    for candidate in candidates:
        ours = read_message_id(candidate, domains)
        if ours:
            return ThreadHint(case_id=ours.case_id, interaction_id=ours.interaction_id, source=ThreadSource.MESSAGE_ID)
    recipients = [*envelope_recipients, *(a.address for a in (*parsed.to, *parsed.cc))]
    for recipient in recipients:
        number = read_reply_address(recipient, domains)
        if number is not None:
            return ThreadHint(case_number=number, source=ThreadSource.PLUS_ADDRESS)
    number = find_subject_token(parsed.subject)
    if number is not None:
        return ThreadHint(case_number=number, source=ThreadSource.SUBJECT_TOKEN)
    return ThreadHint()
