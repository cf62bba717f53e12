"""What a case shows of its SLA clocks: per target its state and due time, as last computed.

The clocks themselves are computed by `automation/sla.py` from the case's history; this summary is stored
on the case so queues and the case view read it without recomputing, and so the next check can tell what
changed since (a warning or breach is announced once).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import Model, Timestamp


class SlaTargetName(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaClockStatus(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class SlaClockSummary(Model):
    target: SlaTargetName
    state: SlaClockStatus
    due_at: Timestamp | None = Field(default=None, description="unknown while paused")
    warning_at: Timestamp | None = None
    breached_at: Timestamp | None = None
    stopped_at: Timestamp | None = None
    cycle: int = Field(default=1, ge=1, description="next response: which customer message the clock is for")


class CaseSla(Model):
    policy_id: str
    clocks: list[SlaClockSummary] = Field(default_factory=list, max_length=3)
    next_check_at: Timestamp | None = Field(default=None, description="when a clock next changes on its own")
    escalated: list[str] = Field(default_factory=list, max_length=20,
                                 description="escalations already carried out, as <target>:<state>:<cycle>")
