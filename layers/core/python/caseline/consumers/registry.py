"""Which consumers run where. Later capabilities (search indexer, SLA clock, notifications) add theirs."""

from __future__ import annotations

from ..services.realtime import LiveUpdates
from . import Consumer
from .realtime import realtime_consumer
from .support_metrics import support_metrics


def local_consumers(live: LiveUpdates | None = None) -> list[Consumer]:
    consumers = [support_metrics]
    if live is not None:
        consumers.append(realtime_consumer(live))
    return consumers
