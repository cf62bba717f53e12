"""From outbox items (as the DynamoDB stream or the embedded stream delivers them) to published events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.events import EventEnvelope
from ..ports.events import EventPublisher


class NotAnOutboxItem(ValueError):
    pass


def envelope_from_item(image: Mapping[str, Any]) -> EventEnvelope:
    if image.get("entity") != "outbox" or "data" not in image:
        raise NotAnOutboxItem("the stream record is not an outbox event")
    return EventEnvelope.model_validate_json(image["data"])


class PublishFailed(RuntimeError):
    """The bus refused the event; raising lets the stream retry this record (and bisect the batch)."""


def publish_outbox_item(image: Mapping[str, Any], publisher: EventPublisher) -> EventEnvelope:
    event = envelope_from_item(image)
    if publisher.publish([event]):
        raise PublishFailed(f"event {event.id} ({event.type}) was not accepted by the bus")
    return event
