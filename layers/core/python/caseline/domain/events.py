"""Domain events and the envelope they travel in.

An event's type is derived from its class, never typed by hand: `CaseOpened` in aggregate `case` becomes
`caseline.case.opened`, `ReplyAdded` becomes `caseline.case.reply_added`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .case import CaseStatus, Priority
from .common import Channel, Timestamp
from .ids import AgentId, CaseId, CustomerId, EntryId, EventId, InteractionId, TeamId
from .timeline import TimelineKind

EVENT_PREFIX = "caseline"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

EVENT_TYPES: dict[str, type[EventData]] = {}


class EventData(BaseModel):
    """Payload of one event type. Subclasses name their aggregate:
    `class CaseOpened(EventData, aggregate="case")`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, aggregate: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not aggregate:
            return
        name = cls.__name__
        head = aggregate.title().replace("_", "")
        verb = name[len(head):] if name.startswith(head) and len(name) > len(head) else name
        cls.event_type = f"{EVENT_PREFIX}.{aggregate}.{_CAMEL.sub('_', verb).lower()}"
        EVENT_TYPES[cls.event_type] = cls


class EventEnvelope(BaseModel):
    """What goes on the bus. `subject` is the id of the aggregate the event is about."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: EventId
    type: str = Field(pattern=r"^caseline\.[a-z_]+\.[a-z_]+$", examples=["caseline.case.opened"])
    version: int = Field(ge=1)
    source: str
    time: Timestamp
    subject: str
    correlation_id: str
    data: dict[str, Any]

    def payload(self) -> EventData:
        return EVENT_TYPES[self.type].model_validate(self.data)


def envelope(
    data: EventData, *, event_id: str, source: str, time: datetime, subject: str, correlation_id: str
) -> EventEnvelope:
    return EventEnvelope(
        id=event_id,
        type=data.event_type,
        version=data.schema_version,
        source=source,
        time=time,
        subject=subject,
        correlation_id=correlation_id,
        data=data.model_dump(mode="json"),
    )


# --- cases ------------------------------------------------------------------------------------------------
class CaseOpened(EventData, aggregate="case"):
    case_id: CaseId
    number: int
    customer_id: CustomerId
    channel: Channel
    subject: str
    priority: Priority
    team_id: TeamId | None = None
    language: str | None = None


class ReplyAdded(EventData, aggregate="case"):
    case_id: CaseId
    interaction_id: InteractionId
    customer_id: CustomerId
    channel: Channel
    author_kind: str
    first_response: bool = False


class DeliveryChanged(EventData, aggregate="case"):
    """An outbound message moved on with its provider: queued → sent → delivered, or bounced / failed."""

    case_id: CaseId
    interaction_id: InteractionId
    customer_id: CustomerId
    previous: str | None
    current: str
    provider_id: str | None = None
    detail: str | None = None


class NoteAdded(EventData, aggregate="case"):
    case_id: CaseId
    interaction_id: InteractionId
    mentions: list[AgentId] = Field(default_factory=list)


class CaseAssigned(EventData, aggregate="case"):
    case_id: CaseId
    assignee_id: AgentId | None
    team_id: TeamId | None
    previous_assignee_id: AgentId | None = None
    previous_team_id: TeamId | None = None


class CaseStatusChanged(EventData, aggregate="case"):
    case_id: CaseId
    customer_id: CustomerId
    previous: CaseStatus
    current: CaseStatus


class CaseUpdated(EventData, aggregate="case"):
    """Priority, category, tags, language or custom fields changed."""

    case_id: CaseId
    changed: list[str]


class CaseReopened(EventData, aggregate="case"):
    case_id: CaseId
    customer_id: CustomerId


class CaseMerged(EventData, aggregate="case"):
    """Sources were merged into the survivor (the event's subject)."""

    case_id: CaseId
    merge_id: str
    source_ids: list[CaseId]
    undo_until: datetime


class CaseUnmerged(EventData, aggregate="case"):
    case_id: CaseId
    merge_id: str
    restored_ids: list[CaseId]


class CaseSlaWarning(EventData, aggregate="case"):
    """A running SLA clock passed its policy's warning share of the target."""

    case_id: CaseId
    target: str = Field(examples=["first_response"])
    policy_id: str
    at: Timestamp = Field(description="when the warning share was reached")
    due_at: Timestamp | None = None
    cycle: int = 1


class CaseSlaBreach(EventData, aggregate="case"):
    """An SLA clock passed its due time without the target being met."""

    case_id: CaseId
    target: str = Field(examples=["first_response"])
    policy_id: str
    at: Timestamp = Field(description="the due time that passed")
    cycle: int = 1


class AgentAvailabilityChanged(EventData, aggregate="agent"):
    agent_id: AgentId
    previous: str
    current: str


# --- customers --------------------------------------------------------------------------------------------
class CustomerCreated(EventData, aggregate="customer"):
    customer_id: CustomerId
    name: str


class CustomerUpdated(EventData, aggregate="customer"):
    customer_id: CustomerId
    changed: list[str]


class TimelineEntryRecorded(EventData, aggregate="customer"):
    customer_id: CustomerId
    entry_id: EntryId
    kind: TimelineKind
    source: str


# --- staff ------------------------------------------------------------------------------------------------
class AgentRoleChanged(EventData, aggregate="agent"):
    agent_id: AgentId
    previous: str
    current: str
