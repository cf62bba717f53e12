"""Sending mail: one finished RFC 5322 message handed to whatever carries it.

SES v2 in AWS (`adapters/aws/mail_ses.py`), an SMTP relay (`adapters/embedded/mail_smtp.py`) or a maildir
on one machine (`adapters/embedded/mail_maildir.py`). The message is built once, by `mail/compose.py`; a
sender only moves bytes and answers the id its provider gave the message, which delivery feedback names.
The checks every sender shares run here, before an adapter's `_send`; `tests/contract/test_mail_contract.py`
holds all three to the same behaviour.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # SES v2's limit for a raw message, attachments included
MAX_RECIPIENTS = 50  # SES v2's limit per message
_ADDRESS = re.compile(r"^[^\s@<>,;\"]+@[^\s@<>,;\"]+$")


class MailSendError(Exception):
    """The provider refused or could not take the message. `permanent`: sending it again will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingMail:
    """A composed message and its envelope. `raw` is the whole message, headers and body, CRLF line ends."""

    raw: bytes
    sender: str  # envelope sender (MAIL FROM); the support address
    recipients: tuple[str, ...]  # envelope recipients: To and Cc
    message_id: str  # our Message-ID, angle brackets included
    subject: str = ""
    case_id: str | None = None
    interaction_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # provider message tags (SES: configuration set dims)


def check_address(address: str) -> str:
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address) or len(address) > 320:
        raise ValueError(f"not a deliverable address: {address[:80]!r}")
    return address


def check_mail(message: OutgoingMail) -> OutgoingMail:
    check_address(message.sender)
    if not message.recipients:
        raise ValueError("a message needs at least one recipient")
    if len(message.recipients) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} recipients per message")
    for recipient in message.recipients:
        check_address(recipient)
    if len(message.raw) > MAX_MESSAGE_BYTES:
        raise ValueError(f"the message is {len(message.raw)} bytes; at most {MAX_MESSAGE_BYTES} can be sent")
    head, sep, _ = message.raw.partition(b"\r\n\r\n")
    if not sep or b"\nmessage-id:" not in b"\n" + head.lower():
        raise ValueError("the message needs a header block with a Message-ID")
    return message


class MailSender(ABC):
    """Send one composed message; answers the provider's id for it."""

    #: the name delivery feedback knows this provider by (`ses`, `smtp`, `maildir`)
    provider: str = ""

    def send(self, message: OutgoingMail) -> str:
        check_mail(message)
        provider_id = self._send(message)
        if not provider_id:
            raise MailSendError(f"{self.provider} accepted the message but gave no id for it")
        return provider_id

    @abstractmethod
    def _send(self, message: OutgoingMail) -> str: ...


@dataclass(frozen=True)
class ProviderReport:
    """What a provider later says about a message it took (SES: an SNS notification from the configuration set).

    `kind` is `delivery`, `bounce`, `complaint` or `reject`; `report_id` identifies the report itself, so a
    report delivered twice is applied once.
    """

    provider: str
    provider_id: str
    kind: str
    report_id: str
    recipients: tuple[str, ...] = ()
    permanent: bool = False
    detail: str = ""
