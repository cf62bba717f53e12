"""Case events → `case.changed` notices on the live staff connections (services/realtime.py).

On one machine the dispatcher calls this after each commit; in AWS functions/realtime_fanout runs the same
service behind an EventBridge rule. Pushing twice is harmless (clients keep the highest case version), so
the dispatcher's at-least-once delivery needs nothing more.
"""

from __future__ import annotations

from ..domain.events import EVENT_TYPES, EventEnvelope
from ..domain.notices import CASE_EVENT_PREFIX
from ..services.context import Deps
from ..services.realtime import LiveUpdates, push_case_change
from . import Consumer


def realtime_consumer(live: LiveUpdates) -> Consumer:
    def handle(deps: Deps, event: EventEnvelope) -> None:
        push_case_change(deps.store, live, event, now=int(deps.clock.now().timestamp()))

    case_events = frozenset(t for t in EVENT_TYPES if t.startswith(CASE_EVENT_PREFIX))
    # Pushing twice is harmless: no dispatcher marker.
    return Consumer(name="realtime", event_types=case_events, handle=handle, marker=False)
