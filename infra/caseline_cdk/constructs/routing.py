"""Skills-based routing in AWS (docs/automation.md, "Routing wiring"): `routing_events` consumes the case and
agent events routing listens to (EventBridge rule, dead letters), keeps the agent pool, routes cases, and sets
and cancels `routing.overflow` / `routing.reroute` timers with the SLA construct's grants. The timers fire in
the `timers` function, which dispatches them to the routing handlers registered in `caseline.timers`.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from caseline.consumers.routing import EVENT_TYPES
from caseline.settings import Settings
from constructs import Construct

from .events import EventBackbone
from .functions import FunctionFactory, FunctionSpec, Invocation
from .sla import SlaClocks


class RoutingAutomation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: FunctionFactory,
        events_backbone: EventBackbone,
        clocks: SlaClocks,
        table_arn: str,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        overrides = {
            "sla_state_machine_arn": clocks.state_machine.state_machine_arn,
            "timers_function_arn": clocks.timers.function.function_arn,
            "scheduler_role_arn": clocks.scheduler_role.role_arn,
            "schedule_group_name": settings.schedule_group_name,
            "timers_dead_letter_arn": clocks.undelivered.queue_arn,
        }
        self.consumer = functions.create(self, FunctionSpec(
            "routing_events", "Case and availability events → the agent pool, routing decisions and their timers",
            invocation=Invocation.ASYNC, timeout_seconds=60, settings_overrides=overrides))
        clocks.grant_timers(self.consumer, table_arn=table_arn, key=key)
        events_backbone.add_consumer("routing-events", self.consumer, detail_types=sorted(EVENT_TYPES))
