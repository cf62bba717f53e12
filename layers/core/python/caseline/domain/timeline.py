"""The customer timeline: everything that happened with or to a customer, newest first."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from .common import Channel, Model, Timestamp
from .ids import CaseId, CustomerId, EntryId


class TimelineKind(StrEnum):
    INTERACTION = "interaction"  # a message on any channel
    CASE_EVENT = "case_event"  # opened, assigned, status changed ...
    ORDER = "order"
    PAYMENT = "payment"
    CRASH_REPORT = "crash_report"
    CRM_CHANGE = "crm_change"
    PORTAL_VISIT = "portal_visit"
    PROFILE_CHANGE = "profile_change"


# Kinds that other systems may record through the API; the rest are written by Caseline itself.
EXTERNAL_KINDS = frozenset(
    {
        TimelineKind.ORDER,
        TimelineKind.PAYMENT,
        TimelineKind.CRASH_REPORT,
        TimelineKind.CRM_CHANGE,
        TimelineKind.PORTAL_VISIT,
    }
)


class TimelineEntry(Model):
    id: EntryId
    customer_id: CustomerId
    kind: TimelineKind
    channel: Channel | None = None
    occurred_at: Timestamp
    summary: str = Field(max_length=500)
    case_id: CaseId | None = None
    source: str = Field(default="caseline", max_length=100)
    external_id: str | None = Field(default=None, max_length=200, description="the source's id; dedups")
    payload: dict[str, Any] = Field(default_factory=dict)
