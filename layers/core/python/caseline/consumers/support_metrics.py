"""Queue depth movement derived from case events: +1 when a case opens or reopens, -1 when it is solved."""

from __future__ import annotations

from ..domain.events import CaseOpened, CaseStatusChanged, EventEnvelope
from ..services.context import Deps
from . import Consumer


def _handle(deps: Deps, event: EventEnvelope) -> None:
    payload = event.payload()
    if isinstance(payload, CaseOpened):
        deps.metrics.add("QueueDepth", 1)
    elif isinstance(payload, CaseStatusChanged):
        was_open, is_open = payload.previous.is_open, payload.current.is_open
        if was_open and not is_open:
            deps.metrics.add("QueueDepth", -1)
        elif is_open and not was_open:
            deps.metrics.add("QueueDepth", 1)


support_metrics = Consumer(
    name="support-metrics",
    event_types=frozenset({CaseOpened.event_type, CaseStatusChanged.event_type}),
    handle=_handle,
    # Its figures live in the process's memory (`caseline dev`'s /metrics) and start from zero with it, while
    # the dispatcher delivers an event again only to a restarted process: a marker per event guarded nothing
    # and cost a write per case opened or moved (a fifth of the consumers' writes under mail load).
    marker=False,
)
