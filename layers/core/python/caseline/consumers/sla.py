"""SLA clocks follow the case: every case change that can move a clock recomputes it and re-arms its timer.

Idempotent without a marker: the check compares with the clocks stored on the case, so a second delivery
of the same event finds nothing new to announce or store.
"""

from __future__ import annotations

from ..domain.events import (
    CaseAssigned,
    CaseMerged,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
    CaseUnmerged,
    CaseUpdated,
    EventEnvelope,
    ReplyAdded,
)
from ..services.context import Deps
from ..services.sla_clock import arm_started_clocks, refresh_sla
from . import Consumer

# Changes of these fields can move a clock: priority picks the targets, team the policy and calendar.
_RELEVANT_FIELDS = frozenset({"priority", "team_id"})


def _handle(deps: Deps, event: EventEnvelope) -> None:
    payload = event.payload()
    if isinstance(payload, CaseUpdated) and not _RELEVANT_FIELDS.intersection(payload.changed):
        return
    if isinstance(payload, CaseAssigned) and payload.team_id == payload.previous_team_id:
        return
    if isinstance(payload, CaseOpened) and arm_started_clocks(deps, event.subject):
        return  # born with its clocks (start_clocks): only their timer was missing
    case_ids = [event.subject]
    if isinstance(payload, CaseMerged | CaseUnmerged):
        case_ids += list(getattr(payload, "source_ids", None) or getattr(payload, "restored_ids", []))
    for case_id in case_ids:
        refresh_sla(deps, case_id)


sla_clock_consumer = Consumer(
    name="sla-clock",
    event_types=frozenset(t.event_type for t in (CaseOpened, ReplyAdded, CaseStatusChanged, CaseUpdated,
                                                 CaseReopened, CaseAssigned, CaseMerged, CaseUnmerged)),
    handle=_handle,
    marker=False,  # compares with the clocks stored on the case
)
