"""Response models: what the API promises to return (and what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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
    model_config = ConfigDict(defer_build=True)

    case_id: str
    number: int
    subject: str
    status: str
    priority: str
    updated_at: str


class Customer360(BaseModel):
    model_config = ConfigDict(defer_build=True)

    customer: Customer
    counts: dict[str, int] = Field(description="cases_total, interactions, timeline_entries ...")
    open_cases: list[OpenCaseSummary]
    timeline: TimelinePage


class TimelineEventRecorded(BaseModel):
    model_config = ConfigDict(defer_build=True)

    entry: TimelineEntry
    duplicate: bool = Field(description="true when this source + external_id was already recorded")


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str
    checks: dict[str, str]


class ViewSummary(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    label: str
    count: int


class ViewList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[ViewSummary]


class SavedViewList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[SavedView]


class BulkItemResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    case_id: str
    ok: bool
    status: int = Field(description="what a single update of this case would have answered")
    detail: str | None = None
    version: int | None = Field(default=None, description="the case's new version when ok")


class BulkResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    succeeded: int
    failed: int
    results: list[BulkItemResult]


class MergeResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    merge_id: str
    survivor: Case
    source_ids: list[str]
    undo_until: datetime


class UnmergeResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    survivor: Case
    restored: list[Case]
