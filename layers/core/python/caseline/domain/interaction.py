"""Interactions: one message on one channel, public or internal."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import Channel, Model, Timestamp
from .ids import AgentId, CaseId, CustomerId, InteractionId


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class AuthorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class Author(Model):
    kind: AuthorKind
    id: str
    name: str = ""


class AttachmentRef(Model):
    """A file kept in the blob store; the interaction only points at it."""

    key: str = Field(min_length=1, max_length=512)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"
    DELIVERED = "delivered"


class Delivery(Model):
    """Where an outbound message stands with the provider that carries it (SES, an SMTP relay, a maildir)."""

    status: DeliveryStatus
    provider_id: str | None = Field(default=None, max_length=512, description="the provider's message id")
    detail: str | None = Field(default=None, max_length=2000, description="why it failed or bounced")
    updated_at: Timestamp


class EmailMeta(Model):
    """The RFC 5322 identifiers of a message, without angle brackets: they thread the replies we send."""

    message_id: str | None = Field(default=None, max_length=998)
    in_reply_to: list[str] = Field(default_factory=list, max_length=100)
    references: list[str] = Field(default_factory=list, max_length=100)


class Interaction(Model):
    id: InteractionId
    case_id: CaseId
    customer_id: CustomerId
    channel: Channel
    direction: Direction
    visibility: Visibility = Visibility.PUBLIC
    author: Author
    text: str = Field(max_length=200_000)
    html: str | None = Field(default=None, description="sanitised; never contains scripts or remote loads")
    quoted_text: str | None = Field(default=None, max_length=200_000,
                                    description="quoted history and signature of an email, folded in the timeline")
    raw_ref: AttachmentRef | None = Field(default=None, description="the message as received (email), downloadable")
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100)
    mentions: list[AgentId] = Field(default_factory=list)
    delivery_status: DeliveryStatus | None = None
    delivery: Delivery | None = None
    email: EmailMeta | None = None
    created_at: Timestamp
