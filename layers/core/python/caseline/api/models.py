"""Response models: what the API promises to return (and what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..domain.agents import Agent, Team
from ..domain.audit import AuditRecord
from ..domain.case import Case
from ..domain.customer import Customer
from ..domain.interaction import Interaction
from ..domain.timeline import TimelineEntry
from ..domain.views import SavedView
from .http import PageOf


class CasePage(PageOf):
    items: list[Case]


class CaseDetail(PageOf):
    """The case and a page of its interactions, oldest first. Customers see public ones only."""

    case: Case
    interactions: list[Interaction]


class InteractionPage(PageOf):
    items: list[Interaction]


class TimelinePage(PageOf):
    items: list[TimelineEntry]


class CustomerPage(PageOf):
    items: list[Customer]


class AgentPage(PageOf):
    items: list[Agent]


class TeamPage(PageOf):
    items: list[Team]


class AuditPage(PageOf):
    items: list[AuditRecord]


class OpenCaseSummary(BaseModel):
    case_id: str
    number: int
    subject: str
    status: str
    priority: str
    updated_at: str


class Customer360(BaseModel):
    customer: Customer
    counts: dict[str, int] = Field(description="cases_total, interactions, timeline_entries ...")
    open_cases: list[OpenCaseSummary]
    timeline: TimelinePage


class TimelineEventRecorded(BaseModel):
    entry: TimelineEntry
    duplicate: bool = Field(description="true when this source + external_id was already recorded")


class Health(BaseModel):
    status: str
    checks: dict[str, str]


class ViewSummary(BaseModel):
    id: str
    label: str
    count: int


class ViewList(BaseModel):
    items: list[ViewSummary]


class SavedViewList(BaseModel):
    items: list[SavedView]


class BulkItemResult(BaseModel):
    case_id: str
    ok: bool
    status: int = Field(description="what a single update of this case would have answered")
    detail: str | None = None
    version: int | None = Field(default=None, description="the case's new version when ok")


class BulkResult(BaseModel):
    succeeded: int
    failed: int
    results: list[BulkItemResult]


class MergeResult(BaseModel):
    merge_id: str
    survivor: Case
    source_ids: list[str]
    undo_until: datetime


class UnmergeResult(BaseModel):
    survivor: Case
    restored: list[Case]
