"""Skills-based routing wired to the platform: the pool from the table, decisions carried out through
`assign_case` as the system, every decision on the case's audit trail and the customer's timeline.

The decision itself is `automation.routing.route` (pure). This module reads what it needs (the case, the
customer's tier, the agents, their loads, the policy), carries the decision out and schedules what comes
next: a `routing.overflow` timer when a queued case should be looked at again, a `routing.reroute` timer
when an agent holding cases stops being online.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ..adapters.routing_store import AgentLoad, RoutingStore
from ..adapters.store import QueueRef
from ..automation.routing import (
    AgentPool,
    AgentSnapshot,
    RoutingCase,
    RoutingDecision,
    RoutingMethod,
    RoutingOutcome,
    RoutingPolicy,
    reroute_unavailable,
    route,
)
from ..domain.agents import Agent, Availability
from ..domain.audit import FieldChange, diff
from ..domain.auth import SYSTEM, Role
from ..domain.case import ACTIVE_STATUSES, Case, CaseStatus
from ..domain.customer import CustomerTier
from ..domain.errors import RuleViolation, VersionConflict
from ..domain.timeline import TimelineEntry, TimelineKind
from ..ports.scheduler import Scheduler, Timer
from ..timers import register
from .authz import require_role
from .cases import assign_case
from .commands import AssignCase
from .context import Change, Deps, Request, retrying
from .customers import record_timeline_entry

OVERFLOW_TIMER = "routing.overflow"
REROUTE_TIMER = "routing.reroute"
ROUTING_CORRELATION = "routing"
POLICY_TARGET = ("routing_policy", "default")
_PAGE = 200
_ATTEMPTS = 3


class RoutingSettings(BaseModel):
    """What an admin saves: whether routing runs, and how."""

    model_config = ConfigDict(defer_build=True)

    enabled: bool = Field(default=True, description="off: new and unassigned cases wait in their team queues")
    policy: RoutingPolicy = Field(default_factory=RoutingPolicy)


class StoredRoutingPolicy(RoutingSettings):
    version: int = Field(ge=0, description="the ETag; 0: nothing saved yet (routing is off)")


def routing_store(deps: Deps) -> RoutingStore:
    return RoutingStore(deps.store.table, deps.clock.now)


def _scheduler(deps: Deps) -> Scheduler:
    if deps.scheduler is None:
        raise RuntimeError("routing needs a scheduler for its timers; bootstrap provides one")
    return deps.scheduler


def _system(reason: str) -> Request:
    return Request(principal=SYSTEM, request_id=f"routing-{reason}", correlation_id=ROUTING_CORRELATION)


# --- the policy ---------------------------------------------------------------------------------------------
def current_policy(deps: Deps) -> StoredRoutingPolicy:
    found = routing_store(deps).policy(RoutingSettings)
    if found is None:
        default = RoutingPolicy(offline_grace_minutes=deps.settings.routing_offline_grace_minutes)
        return StoredRoutingPolicy(enabled=False, policy=default, version=0)
    saved, version = found
    return StoredRoutingPolicy(**saved.model_dump(), version=version)


def get_policy(deps: Deps, request: Request) -> StoredRoutingPolicy:
    require_role(request.principal, Role.SUPERVISOR, "reading the routing policy")
    return current_policy(deps)


def put_policy(deps: Deps, request: Request, settings: RoutingSettings, *, expected_version: int | None) -> (
        StoredRoutingPolicy):
    require_role(request.principal, Role.ADMIN, "changing the routing policy")
    policy = settings.policy
    teams = {r.team_id for r in policy.tier_routes if r.team_id}
    teams |= {t for rule in policy.overflow for t in (rule.from_team_id, rule.to_team_id)}
    for team_id in sorted(teams):
        if deps.store.get_team(team_id) is None:
            raise RuleViolation(f"team {team_id} does not exist", field="policy")
    current = current_policy(deps)
    if expected_version is not None and expected_version != current.version:
        raise VersionConflict("the routing policy was changed by someone else; reload it",
                              current_version=current.version)
    change = Change(deps, request)
    stored = StoredRoutingPolicy(**settings.model_dump(), version=current.version + 1)
    RoutingStore.stage_policy(change.uow, settings, version=stored.version,
                              expected=current.version or None,
                              error=lambda: VersionConflict("the routing policy changed while saving; reload it"))
    change.audit(*POLICY_TARGET, "routing.policy_changed",
                 diff(RoutingSettings(enabled=current.enabled, policy=current.policy).model_dump(mode="json"),
                      settings.model_dump(mode="json")))
    change.commit()
    return stored


# --- the pool -----------------------------------------------------------------------------------------------
def all_agents(deps: Deps) -> list[Agent]:
    agents: list[Agent] = []
    cursor = None
    while True:
        page = deps.store.list_agents(limit=_PAGE, cursor=cursor)
        agents += page.items
        if page.cursor is None:
            return agents
        cursor = page.cursor


class _AgentCache:
    """The agents parsed and indexed into a pool, kept while the stored agents stay byte for byte the same.

    Every decision still reads the agent listing and the pool partition; only the parsing and indexing of
    unchanged agents is skipped, so a new agent, a new skill or a changed availability counts at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, tuple[str, ...]] | None = None
        self._pool: AgentPool | None = None

    def pool(self, table: object, records: list[str]) -> AgentPool:
        key = (id(table), tuple(records))
        with self._lock:
            if key == self._key and self._pool is not None:
                return self._pool
        pool = AgentPool(AgentSnapshot(agent=Agent.model_validate_json(r)) for r in records)
        with self._lock:
            self._key, self._pool = key, pool
        return pool


_agents = _AgentCache()


def agent_pool(deps: Deps, *, fresh: bool = False) -> AgentPool:
    """Every agent (the agent listing) with their load (the pool partition): two Queries, no Scan.

    `fresh` builds full snapshots (with since when each agent has been away), which rerouting needs.
    """
    store = routing_store(deps)
    loads, turns = store.pool()
    if fresh:
        snapshots = []
        for agent in all_agents(deps):
            load = loads.get(agent.id)
            snapshots.append(AgentSnapshot(
                agent=agent, open_cases=load.open_cases if load else 0,
                last_assigned_at=load.last_assigned_at if load else None,
                availability_since=load.availability_since if load and load.availability == agent.availability
                else None))
        pool = AgentPool(snapshots)
    else:
        pool = _agents.pool(deps.store.table, store.agent_records()).with_loads(
            {a: load.open_cases for a, load in loads.items()},
            {a: load.last_assigned_at for a, load in loads.items()})
    pool.resume_turns(turns)
    return pool


def count_case(deps: Deps, case_id: str) -> None:
    """Bring the pool in line with the case as it is now (idempotent)."""
    case = deps.store.get_case(case_id)
    if case is not None:
        routing_store(deps).count_case(case)


# --- deciding and carrying out ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Routed:
    decision: RoutingDecision
    case: Case


def _tier(deps: Deps, case: Case) -> CustomerTier:
    customer = deps.store.get_customer(case.requester_id)
    return customer.tier if customer else CustomerTier.STANDARD


def route_case(deps: Deps, case_id: str, *, trigger: str, waiting_since: dt.datetime | None = None,
               exclude: str | None = None) -> Routed | None:
    """Route an active, unassigned case; None if it needs no routing (gone, solved, already assigned)."""
    for attempt in range(_ATTEMPTS):
        case = deps.store.get_case(case_id)
        if case is None or not case.is_active or case.assignee_id is not None:
            return None
        stored = current_policy(deps)
        if not stored.enabled:
            return None
        since = waiting_since or case.created_at
        routing_case = RoutingCase.from_case(case, tier=_tier(deps, case), waiting_since=since)
        now = deps.clock.now()
        decision = route(routing_case, agent_pool(deps), stored.policy, now, exclude=exclude)
        try:
            return _carry_out(deps, case, decision, trigger=trigger, waiting_since=since)
        except VersionConflict:
            if attempt == _ATTEMPTS - 1:
                raise
    return None


def _carry_out(deps: Deps, case: Case, decision: RoutingDecision, *, trigger: str,
               waiting_since: dt.datetime) -> Routed:
    """Assign (If-Match on the version read), record the decision, count the case, and set or clear the timer."""
    scheduler = _scheduler(deps)
    updated = case
    if decision.agent_id is not None:
        command = AssignCase(assignee_id=decision.agent_id)
        if decision.team_id != case.team_id:
            command = AssignCase(assignee_id=decision.agent_id, team_id=decision.team_id)
        updated = assign_case(deps, _system(trigger), case.id, command, expected_version=case.version)
        routing_store(deps).count_case(updated)
        if decision.method is RoutingMethod.ROUND_ROBIN:
            routing_store(deps).note_turn(decision.team_id, decision.agent_id)
        scheduler.cancel(OVERFLOW_TIMER, case.id)
    elif decision.recheck_at is not None:
        scheduler.set(Timer(kind=OVERFLOW_TIMER, subject=case.id, due_at=decision.recheck_at,
                            payload={"waiting_since": waiting_since.isoformat()}))
    retrying(_ATTEMPTS, lambda: record_decision(deps, updated, decision, trigger=trigger, previous=case))
    return Routed(decision, updated)


def record_decision(deps: Deps, case: Case, decision: RoutingDecision, *, trigger: str,
                    previous: Case | None = None) -> None:
    """The decision and its reasons: an audit record on the case and an entry on the customer's timeline."""
    before = previous or case
    change = Change(deps, _system(trigger))
    changes = {
        "trigger": FieldChange(after=trigger),
        "outcome": FieldChange(after=decision.outcome.value),
        "method": FieldChange(after=decision.method.value),
        "assignee_id": FieldChange(before=before.assignee_id, after=decision.agent_id),
        "team_id": FieldChange(before=before.team_id, after=decision.team_id),
        "reasons": FieldChange(after=decision.reasons),
    }
    if decision.recheck_at is not None:
        changes["recheck_at"] = FieldChange(after=decision.recheck_at.isoformat())
    change.audit("case", case.id, "routing.decided", changes)
    record_timeline_entry(change, TimelineEntry(
        id=change.new_id(change.now), customer_id=case.requester_id, kind=TimelineKind.CASE_EVENT,
        channel=case.channel, occurred_at=change.now, summary=_summary(deps, case, decision), case_id=case.id,
        payload={"case_number": case.number, "routing": decision.model_dump(mode="json"), "trigger": trigger}))
    change.commit()


def _summary(deps: Deps, case: Case, decision: RoutingDecision) -> str:
    if decision.outcome is RoutingOutcome.QUEUED or decision.agent_id is None:
        return f"{case.display_number} queued by routing: {decision.reasons[-1] if decision.reasons else ''}"[:500]
    agent = deps.store.get_agent(decision.agent_id)
    overflow = " (overflow)" if decision.outcome is RoutingOutcome.OVERFLOWED else ""
    how = decision.method.value.replace("_", " ")
    return f"{case.display_number} routed to {agent.name if agent else decision.agent_id}{overflow} by {how}"[:500]


# --- events ---------------------------------------------------------------------------------------------------
def on_case_opened(deps: Deps, case_id: str) -> Routed | None:
    return route_case(deps, case_id, trigger="case_opened")


def on_unassigned(deps: Deps, case_id: str, at: dt.datetime) -> Routed | None:
    return route_case(deps, case_id, trigger="unassigned", waiting_since=at)


def on_availability_changed(deps: Deps, agent_id: str, availability: str, at: dt.datetime) -> None:
    """Note since when; an agent no longer online gets a reroute timer at the end of the grace period."""
    routing_store(deps).note_availability(agent_id, availability, at)
    if availability == Availability.ONLINE.value:
        _scheduler(deps).cancel(REROUTE_TIMER, agent_id)
        route_waiting(deps, agent_id)
        return
    stored = current_policy(deps)
    if not stored.enabled:
        return
    grace = stored.policy.offline_grace_minutes
    _scheduler(deps).set(Timer(kind=REROUTE_TIMER, subject=agent_id, due_at=at + dt.timedelta(minutes=grace)))


def route_waiting(deps: Deps, agent_id: str) -> list[Routed]:
    """An agent came online: route the unassigned cases waiting in their teams, most urgent first, as many as
    they have room for (each still goes to whoever fits best, not necessarily to them)."""
    agent = deps.store.get_agent(agent_id)
    if agent is None or agent.availability is not Availability.ONLINE or not current_policy(deps).enabled:
        return []
    room = agent.capacity - (routing_store(deps).load(agent_id) or AgentLoad(agent_id)).open_cases
    if room <= 0 or not agent.team_ids:
        return []
    refs = [QueueRef("unassigned", owner=team_id, status=status.value)
            for team_id in agent.team_ids for status in (CaseStatus.NEW, CaseStatus.OPEN)]
    waiting = deps.store.merged_queue(refs, limit=min(room, _PAGE), cursor=None).items
    routed = [route_case(deps, case.id, trigger="agent_online") for case in waiting]
    return [r for r in routed if r is not None]


def held_cases(deps: Deps, agent_id: str) -> list[Case]:
    """The agent's active cases: their assignee queues (one Query per status, paged)."""
    cases: list[Case] = []
    for status in ACTIVE_STATUSES:
        cursor = None
        while True:
            page = deps.store.assignee_queue(agent_id, status.value, limit=_PAGE, cursor=cursor)
            cases += page.items
            if page.cursor is None:
                break
            cursor = page.cursor
    return cases


# --- timers -----------------------------------------------------------------------------------------------------
@register(OVERFLOW_TIMER)
def on_overflow_timer(deps: Deps, timer: Timer) -> None:
    """The case waited long enough to overflow (or to be looked at again): route it now."""
    since = timer.payload.get("waiting_since")
    route_case(deps, timer.subject, trigger="overflow_timer",
               waiting_since=dt.datetime.fromisoformat(since) if since else None)


@register(REROUTE_TIMER)
def on_reroute_timer(deps: Deps, timer: Timer) -> None:
    """After the grace period: if the agent is still not online, route their open cases to others."""
    agent = deps.store.get_agent(timer.subject)
    if agent is None or agent.availability is Availability.ONLINE:
        return
    held = [c for c in held_cases(deps, agent.id) if c.is_active]
    if not held:
        return
    stored = current_policy(deps)
    if not stored.enabled:
        return
    now = deps.clock.now()
    pool = agent_pool(deps, fresh=True)
    policy = stored.policy
    routing_cases = {c.id: RoutingCase.from_case(c, tier=_tier(deps, c), waiting_since=now) for c in held}
    outcome = reroute_unavailable(agent.id, routing_cases.values(), pool, policy, now)
    if not outcome.reroute:
        if outcome.recheck_at is not None:
            _scheduler(deps).set(timer.model_copy(update={"due_at": outcome.recheck_at}))
        return
    by_id = {c.id: c for c in held}
    for decision in outcome.decisions:
        case = by_id[decision.case_id]
        try:
            if decision.agent_id is not None:
                _reassign(deps, case, decision, agent.id)
            else:
                # Nobody can take it now: back to its team's queue. The unassignment is routed like any
                # other (routing consumer), which records the queued decision and sets the overflow timer.
                updated = assign_case(deps, _system("reroute"), case.id, AssignCase(assignee_id=None),
                                      expected_version=case.version)
                routing_store(deps).count_case(updated)
        except VersionConflict:
            continue  # the case changed meanwhile (someone took it): leave it to them


def _reassign(deps: Deps, case: Case, decision: RoutingDecision, from_agent: str) -> None:
    command = AssignCase(assignee_id=decision.agent_id)
    if decision.team_id != case.team_id:
        command = AssignCase(assignee_id=decision.agent_id, team_id=decision.team_id)
    updated = assign_case(deps, _system("reroute"), case.id, command, expected_version=case.version)
    routing_store(deps).count_case(updated)
    if decision.method is RoutingMethod.ROUND_ROBIN and decision.agent_id is not None:
        routing_store(deps).note_turn(decision.team_id, decision.agent_id)
    reasons = [f"agent {from_agent} is no longer online and the grace period has passed", *decision.reasons]
    retrying(_ATTEMPTS, lambda: record_decision(deps, updated, decision.model_copy(update={"reasons": reasons}),
                                                trigger="agent_offline", previous=case))
