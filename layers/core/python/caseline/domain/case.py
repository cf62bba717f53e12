"""Cases: the unit of work. Lifecycle rules live here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import Channel, CustomFieldValue, Model, Timestamp
from .errors import InvalidTransition
from .ids import AgentId, CaseId, CustomerId, LanguageTag, Tag, TeamId
from .sla import CaseSla


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting for the customer
    ON_HOLD = "on_hold"  # waiting for a third party
    SOLVED = "solved"
    CLOSED = "closed"  # final: a later message opens a follow-up case

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.SOLVED, CaseStatus.CLOSED)


ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD, CaseStatus.SOLVED}),
    CaseStatus.OPEN: frozenset({CaseStatus.PENDING, CaseStatus.ON_HOLD, CaseStatus.SOLVED}),
    CaseStatus.PENDING: frozenset({CaseStatus.OPEN, CaseStatus.ON_HOLD, CaseStatus.SOLVED}),
    CaseStatus.ON_HOLD: frozenset({CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.SOLVED}),
    CaseStatus.SOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


ACTIVE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD)


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none"
        raise InvalidTransition(
            f"a {current.value} case cannot become {target.value} (allowed: {allowed})",
            current=current.value,
            target=target.value,
        )


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for the most urgent, so that ascending order puts urgent cases first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Case(Model):
    id: CaseId
    number: int = Field(ge=1, description="human case number, shown as #<number>")
    subject: str = Field(min_length=1, max_length=300)
    status: CaseStatus = CaseStatus.NEW
    priority: Priority = Priority.NORMAL
    category: str | None = Field(default=None, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    channel: Channel
    requester_id: CustomerId
    requester_name: str | None = Field(default=None, max_length=200,
                                       description="the requester's name when the case was opened, for queue lists")
    assignee_id: AgentId | None = None
    team_id: TeamId | None = None
    language: LanguageTag | None = None
    custom_fields: dict[str, CustomFieldValue] = Field(default_factory=dict, max_length=100)
    due_at: Timestamp | None = Field(default=None, description="next SLA target; orders the queues")
    first_response_at: Timestamp | None = None
    solved_at: Timestamp | None = None
    merged_into: CaseId | None = Field(default=None, description="set while this case is merged into another")
    merged_from: list[CaseId] = Field(default_factory=list, description="cases merged into this one")
    sla: CaseSla | None = Field(default=None, description="SLA clocks as last computed (per target: state, due time)")
    follow_up_of: CaseId | None = Field(default=None, description="the closed (or long solved) case this continues")
    collaborator_ids: list[CustomerId] = Field(default_factory=list, max_length=50,
                                               description="customers copied on the conversation (email Cc)")
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(default=1, ge=1)

    @property
    def display_number(self) -> str:
        return f"#{self.number}"

    @property
    def is_active(self) -> bool:
        """Open and not merged away: it belongs in queues and on the customer's open-case list."""
        return self.status.is_open and self.merged_into is None
