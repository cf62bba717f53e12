"""Case events → the stored rules (services/rule_runner.py); the `rules.recheck` timer → the same, as `timer`.

Delivery is at least once everywhere; the runner keeps a marker per (event, rule) and per recorded
evaluation, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

from ..domain.events import EventEnvelope
from ..ports.scheduler import Timer
from ..services.context import Deps
from ..services.rule_runner import EVENT_TYPES, RECHECK, occasion_for, recheck_occasion, run_rules
from ..timers import register
from . import Consumer


def _handle(deps: Deps, event: EventEnvelope) -> None:
    occasion = occasion_for(event)
    if occasion is not None:
        run_rules(deps, occasion)


@register(RECHECK)
def on_recheck(deps: Deps, timer: Timer) -> None:
    run_rules(deps, recheck_occasion(deps, timer))


# The runner keeps its own markers (per evaluation and per rule action).
rules_consumer = Consumer(name="rules", event_types=EVENT_TYPES, handle=_handle, marker=False)
