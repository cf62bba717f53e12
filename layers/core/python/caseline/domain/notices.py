"""Messages the live-updates channel carries to the agent workspace (WebSocket text frames, JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .case import Case, CaseStatus, Priority
from .common import Channel, Timestamp
from .ids import AgentId, CaseId, CustomerId, EventId, TeamId

CASE_EVENT_PREFIX = "caseline.case."


class CaseSnapshot(BaseModel):
    """The fields a queue row shows; enough for the workspace to update a list without a refetch."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: CaseId
    number: int
    subject: str
    status: CaseStatus
    priority: Priority
    assignee_id: AgentId | None
    team_id: TeamId | None
    requester_id: CustomerId
    requester_name: str | None
    channel: Channel
    due_at: Timestamp | None
    updated_at: Timestamp
    version: int = Field(description="clients ignore a notice older than the version they hold")
    merged_into: CaseId | None

    @classmethod
    def of(cls, case: Case) -> CaseSnapshot:
        return cls.model_validate(case.model_dump(include=set(cls.model_fields)))


class CaseChanged(BaseModel):
    """Sent for every caseline.case.* event, with the case as it is when the notice is built.

    Delivery is at least once and notices may overtake each other; `case.version` orders them.
    """

    model_config = ConfigDict(defer_build=True, frozen=True)

    type: Literal["case.changed"] = "case.changed"
    event_type: str = Field(examples=["caseline.case.status_changed"])
    event_id: EventId
    case: CaseSnapshot


class Pong(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["pong"] = "pong"


class ClientMessage(BaseModel):
    """What a client may send: {"action": "ping"}. Unknown fields are ignored, so clients can evolve first."""

    model_config = ConfigDict(defer_build=True)

    action: str = Field(max_length=40)
