"""Event consumers: code that reacts to domain events after they are committed.

A consumer is the same function in AWS (behind an EventBridge rule) and on one machine (called by the
in-process dispatcher). Each must be idempotent: the dispatcher and EventBridge both deliver at least once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..domain.events import EventEnvelope
from ..services.context import Deps


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: frozenset[str]  # empty: every event
    handle: Callable[[Deps, EventEnvelope], None]
    # Called once when the last attempt failed, before the event is dead-lettered, with the last error:
    # a consumer whose work users wait on (sending a reply) records the failure where they see it.
    give_up: Callable[[Deps, EventEnvelope, str], None] | None = None
    # The one-machine dispatcher writes a marker per (consumer, event) after success and skips an event whose
    # marker exists. A consumer that handles a redelivered event correctly by itself, as it must behind
    # EventBridge, which keeps no markers, says `marker=False` and saves the dispatcher a read and a write.
    marker: bool = True

    def wants(self, event: EventEnvelope) -> bool:
        return self.wants_type(event.type)

    def wants_type(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types
