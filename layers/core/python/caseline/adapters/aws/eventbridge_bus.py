"""Publishes event envelopes to the custom EventBridge bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...domain.events import EventEnvelope
from .clients import client as aws_client

BATCH = 10  # PutEvents takes at most 10 entries


class EventBridgeBus:
    def __init__(self, bus_name: str, *, client: Any | None = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("events")
        return self._client

    def publish(self, events: Sequence[EventEnvelope]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(events), BATCH):
            batch = list(events[start : start + BATCH])
            response = self.client.put_events(Entries=[self._entry(e) for e in batch])
            if response.get("FailedEntryCount", 0):
                failed += [e.id for e, r in zip(batch, response["Entries"], strict=True) if r.get("ErrorCode")]
        return failed

    def _entry(self, event: EventEnvelope) -> dict[str, Any]:
        return {
            "EventBusName": self.bus_name,
            "Source": event.source,
            "DetailType": event.type,
            "Time": event.time,
            "Resources": [],
            "Detail": event.model_dump_json(),
        }
