"""Where domain events go after the outbox: EventBridge in AWS, the in-process dispatcher on one machine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..domain.events import EventEnvelope


class EventPublisher(Protocol):
    def publish(self, events: Sequence[EventEnvelope]) -> list[str]:
        """Publish; return the ids of the events that could not be published (the caller retries them)."""
        ...
