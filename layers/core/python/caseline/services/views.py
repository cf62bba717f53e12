"""The queue views (mine, my teams' unassigned, all open, pending, about to breach) and saved views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..adapters.store import QueueRef, Slice
from ..domain.agents import Agent
from ..domain.case import ACTIVE_STATUSES, Case, CaseStatus
from ..domain.errors import NotFound
from ..domain.views import VIEW_LABELS, SavedView, ViewFilters, ViewId
from .authz import require_staff
from .context import Change, Deps, Request

BREACH_WINDOW = timedelta(hours=2)
BREACHING_COUNT_CAP = 500


@dataclass(frozen=True)
class ViewCount:
    id: ViewId
    label: str
    count: int


def _me(deps: Deps, request: Request) -> Agent:
    require_staff(request.principal, "queue views")
    agent = deps.store.get_agent(request.principal.agent_id or "")
    if agent is None:
        raise NotFound("your staff profile does not exist; ask an admin to add you")
    return agent


def _refs(view: ViewId, agent: Agent) -> list[QueueRef]:
    match view:
        case ViewId.MINE:
            return [QueueRef("assignee", agent.id, s.value) for s in ACTIVE_STATUSES]
        case ViewId.TEAM_UNASSIGNED:
            return [QueueRef("unassigned", team, s.value) for team in agent.team_ids for s in ACTIVE_STATUSES]
        case ViewId.ALL_OPEN:
            return [QueueRef("status", None, s.value) for s in (CaseStatus.NEW, CaseStatus.OPEN)]
        case ViewId.PENDING:
            return [QueueRef("status", None, CaseStatus.PENDING.value)]
        case ViewId.BREACHING:
            return [QueueRef("due")]


def view_cases(
    deps: Deps, request: Request, view: ViewId, *, limit: int, cursor: str | None, filters: ViewFilters
) -> Slice[Case]:
    """A page of the view, most urgent first (soonest due first for `breaching`).

    Filters apply to the page read, as DynamoDB filters do: a page may be short while `cursor` goes on.
    """
    agent = _me(deps, request)
    refs = _refs(view, agent)
    if not refs:
        return Slice([], None)
    due_before = deps.clock.now() + BREACH_WINDOW if view is ViewId.BREACHING else None
    page = deps.store.merged_queue(refs, limit=limit, cursor=cursor, due_before=due_before)
    kept = [c for c in page.items if _matches(c, filters)]
    return Slice(kept, page.cursor)


def _matches(case: Case, filters: ViewFilters) -> bool:
    return (filters.channel is None or case.channel is filters.channel) and (
        filters.priority is None or case.priority.value == filters.priority
    )


def view_counts(deps: Deps, request: Request) -> list[ViewCount]:
    """Counts from the live queue counters the case writes keep; `breaching` is counted by reading."""
    agent = _me(deps, request)
    store = deps.store
    everywhere = store.queue_counts("ALL")
    mine = store.queue_counts(f"AGENT#{agent.id}")
    unassigned = [store.queue_counts(f"UNASSIGNED#{team}") for team in agent.team_ids]
    active = [s.value for s in ACTIVE_STATUSES]
    breaching = store.merged_queue([QueueRef("due")], limit=BREACHING_COUNT_CAP, cursor=None,
                                   due_before=deps.clock.now() + BREACH_WINDOW)
    counts = {
        ViewId.MINE: sum(mine.get(s, 0) for s in active),
        ViewId.TEAM_UNASSIGNED: sum(u.get(s, 0) for u in unassigned for s in active),
        ViewId.ALL_OPEN: everywhere.get("new", 0) + everywhere.get("open", 0),
        ViewId.PENDING: everywhere.get("pending", 0),
        ViewId.BREACHING: len(breaching.items),
    }
    return [ViewCount(view, VIEW_LABELS[view], counts[view]) for view in ViewId]


def saved_views(deps: Deps, request: Request) -> list[SavedView]:
    agent = _me(deps, request)
    return deps.store.saved_views(agent.id, SavedView)


def save_view(deps: Deps, request: Request, name: str, view: ViewId, filters: ViewFilters) -> SavedView:
    agent = _me(deps, request)
    change = Change(deps, request)
    saved = SavedView(id=change.new_id(change.now), name=name, view_id=view, filters=filters, created_at=change.now)
    change.uow.put_saved_view(agent.id, saved.id, saved)
    change.commit()
    return saved


def delete_view(deps: Deps, request: Request, view_id: str) -> None:
    agent = _me(deps, request)
    if not any(v.id == view_id for v in deps.store.saved_views(agent.id, SavedView)):
        raise NotFound(f"saved view {view_id} does not exist")
    change = Change(deps, request)
    change.uow.delete_saved_view(agent.id, view_id)
    change.commit()
