"""Command models: what a caller asks for, validated before any service runs. Imperative names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..domain.case import CaseStatus, Priority
from ..domain.common import Channel, CustomFieldValue, Money, Timestamp, TimeZone
from ..domain.customer import CustomerTier
from ..domain.ids import AgentId, CaseId, CustomerId, Email, ExternalId, LanguageTag, Phone, Tag, TeamId
from ..domain.interaction import AttachmentRef
from ..domain.timeline import TimelineKind
from ..domain.views import ViewFilters, ViewId


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ExternalRef(Command):
    system: str = Field(pattern=r"^[a-z][a-z0-9_]{1,29}$", examples=["crm"])
    id: ExternalId


class CustomerRef(Command):
    """How to find (or create) the customer: by id, email, phone or an external system's id."""

    customer_id: CustomerId | None = None
    email: Email | None = None
    phone: Phone | None = None
    external: ExternalRef | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _something_to_find(self) -> Self:
        if not (self.customer_id or self.email or self.phone or self.external):
            raise ValueError("give at least one of customer_id, email, phone or external")
        return self


class OpenCase(Command):
    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=200_000)
    html: str | None = Field(default=None, max_length=1_000_000)
    requester: CustomerRef | None = Field(default=None, description="required for staff; customers open their own")
    priority: Priority = Priority.NORMAL
    category: str | None = Field(default=None, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    team_id: TeamId | None = None
    language: LanguageTag | None = None
    custom_fields: dict[str, CustomFieldValue] = Field(default_factory=dict, max_length=100)
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100)


class AddReply(Command):
    text: str = Field(min_length=1, max_length=200_000)
    html: str | None = Field(default=None, max_length=1_000_000)
    channel: Channel | None = Field(default=None, description="defaults to the case's channel")
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100)
    status: CaseStatus | None = Field(default=None, description="status to set with the reply (staff only)")


class AddNote(Command):
    text: str = Field(min_length=1, max_length=50_000, description="@handle mentions notify agents")
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100,
                                             description="files uploaded to this case (see /attachments/uploads)")


MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
CONTENT_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}$"


class RequestUpload(Command):
    """A file the caller is about to upload: the service signs a URL for exactly these bytes."""

    filename: str = Field(min_length=1, max_length=255, examples=["screenshot.png"])
    content_type: str = Field(max_length=255, pattern=CONTENT_TYPE_PATTERN, examples=["image/png"],
                              description="lower-case type/subtype, no parameters")
    size: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES, description="bytes (at most 25 MB)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lower-case hex")


class AssignCase(Command):
    assignee_id: AgentId | None = None
    team_id: TeamId | None = None
    version: int | None = Field(default=None, ge=1, description="optional; If-Match takes precedence")


class UpdateCase(Command):
    """Fields left out stay as they are."""

    status: CaseStatus | None = None
    priority: Priority | None = None
    category: str | None = Field(default=None, max_length=100)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    language: LanguageTag | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    custom_fields: dict[str, CustomFieldValue] | None = Field(default=None, max_length=100)


# Timeline ids are time-ordered ULIDs, which start at the Unix epoch; nothing we record is older.
EARLIEST_EVENT = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


class RecordTimelineEvent(Command):
    customer: CustomerRef
    kind: TimelineKind
    source: str = Field(pattern=r"^[a-z][a-z0-9_\-]{1,39}$", examples=["billing"])
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    occurred_at: Timestamp
    summary: str = Field(min_length=1, max_length=500)
    channel: Channel | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _not_prehistoric(cls, value: datetime) -> datetime:
        if value < EARLIEST_EVENT:
            raise ValueError(f"events before {EARLIEST_EVENT.date()} are not accepted")
        return value


class CreateCustomer(Command):
    name: str = Field(min_length=1, max_length=200)
    emails: list[Email] = Field(default_factory=list, max_length=20)
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    time_zone: TimeZone = "UTC"
    tier: CustomerTier = CustomerTier.STANDARD
    lifetime_value: Money | None = None
    external_ids: dict[str, ExternalId] = Field(default_factory=dict, max_length=20)


class UpdateCustomer(Command):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    emails: list[Email] | None = Field(default=None, max_length=20)
    phones: list[Phone] | None = Field(default=None, max_length=20)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    time_zone: TimeZone | None = None
    tier: CustomerTier | None = None
    lifetime_value: Money | None = None
    external_ids: dict[str, ExternalId] | None = Field(default=None, max_length=20)


# Fields a customer may change on their own profile; the rest are staff-managed.
CUSTOMER_EDITABLE = frozenset({"name", "phones", "locale", "time_zone"})


class ChangeRole(Command):
    role: str = Field(pattern=r"^(agent|supervisor|admin)$")


class SetAvailability(Command):
    availability: str = Field(pattern=r"^(online|away|offline)$")


class BulkChanges(Command):
    """What to change on every case. `assignee_id`/`team_id` sent as null unassign."""

    status: CaseStatus | None = None
    assignee_id: AgentId | None = None
    team_id: TeamId | None = None
    add_tags: list[Tag] = Field(default_factory=list, max_length=20)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set - {"add_tags", "remove_tags"} and not (self.add_tags or self.remove_tags):
            raise ValueError("say what to change: status, assignee_id, team_id, add_tags or remove_tags")
        return self


def _distinct(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("case ids must not repeat")
    return ids


DistinctCaseIds = Annotated[list[CaseId], AfterValidator(_distinct)]
MAX_BULK = 500


class BulkUpdate(Command):
    case_ids: DistinctCaseIds = Field(min_length=1, max_length=MAX_BULK)
    changes: BulkChanges
    versions: dict[CaseId, int] = Field(default_factory=dict, description="expected version per case (optional)")


MAX_MERGE_SOURCES = 10


class MergeCases(Command):
    source_ids: DistinctCaseIds = Field(min_length=1, max_length=MAX_MERGE_SOURCES,
                                        description="cases to merge into the case in the path")


class SaveView(Command):
    name: str = Field(min_length=1, max_length=80)
    view_id: ViewId
    filters: ViewFilters = Field(default_factory=ViewFilters)
