"""Queue views: the named lists of cases agents work from, and the views they save."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import Channel, Model, Timestamp
from .ids import Ulid


class ViewId(StrEnum):
    MINE = "mine"  # assigned to me, not solved
    TEAM_UNASSIGNED = "team_unassigned"  # my teams' cases nobody has taken
    ALL_OPEN = "all_open"  # new and open, everywhere
    PENDING = "pending"  # waiting for the customer
    BREACHING = "breaching"  # active, SLA due within the warning window


VIEW_LABELS = {
    ViewId.MINE: "My cases",
    ViewId.TEAM_UNASSIGNED: "My teams' unassigned",
    ViewId.ALL_OPEN: "All open",
    ViewId.PENDING: "Pending",
    ViewId.BREACHING: "About to breach SLA",
}


class ViewFilters(Model):
    channel: Channel | None = None
    priority: str | None = Field(default=None, pattern=r"^(low|normal|high|urgent)$")


class SavedView(Model):
    id: Ulid
    name: str = Field(min_length=1, max_length=80)
    view_id: ViewId
    filters: ViewFilters = Field(default_factory=ViewFilters)
    created_at: Timestamp
