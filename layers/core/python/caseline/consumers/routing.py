"""Routing's two consumers (services/routing.py).

- `routing-pool` keeps the agent pool: every case event that can change who holds a case recounts that case
  against its current assignee (idempotent by case version), and availability changes are noted with their
  time.
- `routing` decides: a new case, or one that lost its assignee, is routed; an agent who stops being online
  gets a reroute timer at the end of the grace period (cancelled when they come back).

Both re-read the state they act on, so a redelivered or late event does nothing twice: a case that is already
assigned is not routed again, and a case version already counted is not counted again.
"""

from __future__ import annotations

from ..domain.events import (
    AgentAvailabilityChanged,
    CaseAssigned,
    CaseMerged,
    CaseOpened,
    CaseStatusChanged,
    CaseUnmerged,
    EventEnvelope,
)
from ..services import routing
from ..services.context import Deps
from . import Consumer


def _recount(deps: Deps, event: EventEnvelope) -> None:
    payload = event.payload()
    if isinstance(payload, AgentAvailabilityChanged):
        routing.routing_store(deps).note_availability(payload.agent_id, payload.current, event.time)
        return
    case_ids = [event.subject]
    if isinstance(payload, CaseMerged):
        case_ids += payload.source_ids
    elif isinstance(payload, CaseUnmerged):
        case_ids += payload.restored_ids
    for case_id in dict.fromkeys(case_ids):
        routing.count_case(deps, case_id)


def _route(deps: Deps, event: EventEnvelope) -> None:
    payload = event.payload()
    if isinstance(payload, CaseOpened):
        routing.on_case_opened(deps, payload.case_id)
    elif isinstance(payload, CaseAssigned):
        if payload.assignee_id is None and payload.previous_assignee_id is not None:
            routing.on_unassigned(deps, payload.case_id, event.time)
    elif isinstance(payload, AgentAvailabilityChanged):
        routing.on_availability_changed(deps, payload.agent_id, payload.current, event.time)


routing_pool = Consumer(
    name="routing-pool",
    event_types=frozenset({CaseOpened.event_type, CaseAssigned.event_type, CaseStatusChanged.event_type,
                           CaseMerged.event_type, CaseUnmerged.event_type, AgentAvailabilityChanged.event_type}),
    handle=_recount,
    marker=False,  # a case version already counted is not counted again
)

routing_decisions = Consumer(
    name="routing",
    event_types=frozenset({CaseOpened.event_type, CaseAssigned.event_type, AgentAvailabilityChanged.event_type}),
    handle=_route,
    marker=False,  # an assigned case is not routed again
)

EVENT_TYPES = routing_pool.event_types | routing_decisions.event_types  # what the AWS function subscribes to
