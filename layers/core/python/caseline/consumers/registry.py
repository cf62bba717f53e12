"""Which consumers run where. Later capabilities (search indexer, SLA clock, notifications) add theirs."""

from __future__ import annotations

from . import Consumer
from .support_metrics import support_metrics


def local_consumers() -> list[Consumer]:
    return [support_metrics]
