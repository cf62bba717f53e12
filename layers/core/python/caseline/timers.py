"""What runs when a timer fires: one handler per timer kind.

Each capability registers its kinds (`sla` in `services/sla_clock.py`; `rules.recheck`, `routing.overflow`,
`routing.reroute` in theirs) with `@register(kind)`. The modules listed in `HANDLER_MODULES` are imported
by `load_handlers()`, which the local runner and the `timers` function call before dispatching, so a
handler is never missing because nobody happened to import its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .ports.scheduler import Timer
from .services.context import Deps

TimerHandler = Callable[[Deps, Timer], None]

handlers: dict[str, TimerHandler] = {}

HANDLER_MODULES: tuple[str, ...] = (
    "caseline.services.sla_clock", "caseline.services.routing", "caseline.consumers.rules",
)


class UnknownTimerKind(LookupError):
    pass


def register(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def add(handler: TimerHandler) -> TimerHandler:
        handlers[kind] = handler
        return handler

    return add


def load_handlers() -> dict[str, TimerHandler]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return handlers


def dispatch(deps: Deps, timer: Timer) -> None:
    handler = load_handlers().get(timer.kind)
    if handler is None:
        raise UnknownTimerKind(f"no handler for timers of kind {timer.kind!r}")
    handler(deps, timer)


class ScheduledInput(BaseModel):
    """What an AWS timer carries when it fires (`adapters/aws/aws_scheduler.timer_input`)."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    subject: str
    token: str
    due_at: AwareDatetime
    payload: dict[str, Any] = Field(default_factory=dict)


def fire_scheduled(deps: Deps, fired: ScheduledInput) -> Literal["fired", "stale"]:
    """Run the handler of a timer delivered by AWS, unless it was replaced or cancelled since it was set."""
    if deps.scheduler is None:
        raise RuntimeError("the platform was built without a scheduler")
    current = deps.scheduler.get(fired.kind, fired.subject)
    if current is None or current.token != fired.token:
        return "stale"
    dispatch(deps, current.timer)
    latest = deps.scheduler.get(fired.kind, fired.subject)
    if latest is not None and latest.token == fired.token:  # the handler did not set a new one
        deps.scheduler.cancel(fired.kind, fired.subject)
    return "fired"
