"""Inbound mail that did not become a case or an interaction, and why: nothing is dropped silently."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import Model, Timestamp
from .ids import Ulid


class RejectionReason(StrEnum):
    LOOP = "loop"  # sent from one of our own addresses or domains
    RATE_LIMITED = "rate_limited"  # the sender sent more than the limit allows in the window
    TOO_LARGE = "too_large"
    NOT_FOR_US = "not_for_us"  # none of the recipients is one of our addresses
    NO_SENDER = "no_sender"  # no From address could be read, so there is nobody to answer
    AUTO_REPLY_WITHOUT_CASE = "auto_reply_without_case"  # auto-replies never open cases
    RECEIPT_WITHOUT_CASE = "receipt_without_case"
    BOUNCE_NOT_OURS = "bounce_not_ours"  # a bounce naming no message and no customer of ours
    ABUSE_REPORT = "abuse_report"
    VIRUS = "virus"
    SPAM = "spam"


class MailRejection(Model):
    id: Ulid
    reason: RejectionReason
    detail: str = Field(default="", max_length=2000)
    source_id: str = Field(max_length=1000, description="SES message id, SMTP queue id or the bytes' SHA-256")
    sender: str | None = Field(default=None, max_length=998)
    recipients: list[str] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=998)
    message_id: str | None = Field(default=None, max_length=998)
    kind: str | None = Field(default=None, description="what classify() made of it: normal, auto_reply, bounce ...")
    size: int = Field(ge=0)
    raw_key: str | None = Field(default=None, description="blob key of the message as received, when kept")
    verdicts: dict[str, str] = Field(default_factory=dict, description="the receiving service's spam/virus/"
                                                                      "SPF/DKIM/DMARC verdicts, if any")
    received_at: Timestamp
