"""SLA clocks and timers in AWS (docs/automation.md, "Wiring"):

- `sla_events`: consumes the case events that can move a clock (EventBridge rule) and sets the case's `sla`
  timer, i.e. starts a Step Functions execution of `statemachines/sla_clock.asl.json` (stopping the one before);
- the state machine (inlined, its Check state invoking `sla_check`), with an alarm on failed executions;
- `timers`: the target of EventBridge Scheduler one-time schedules (every other timer kind), in a schedule
  group of its own, invoked by a role that may invoke only it, with a dead-letter queue for schedules it
  could not deliver.

Every function that may set a timer gets the same environment (state machine, timers function, scheduler
role, group, dead-letter queue) and the same least-privilege grants. The timers function is named, so its
ARN can be in its own environment (a handler may set the next timer of its kind).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from caseline.consumers.sla import sla_clock_consumer
from caseline.settings import Settings
from constructs import Construct

from ..config import REPO_ROOT, DeploymentConfig
from ..nag import acknowledge, logical_id
from .events import DeadLetterQueue, EventBackbone
from .functions import CaselineFunction, FunctionFactory, FunctionSpec, Invocation, dead_letter
from .storage import GSI_NAMES, grant_table_data
from .workflows import AslStateMachine

SLA_CLOCK_ASL = REPO_ROOT / "statemachines" / "sla_clock.asl.json"
STATE_MACHINE_NAME = "caseline-sla-clock"


class SlaClocks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        settings: Settings,
        functions: FunctionFactory,
        events_backbone: EventBackbone,
        table_arn: str,
        key: kms.IKey,
        definition_file: Path = SLA_CLOCK_ASL,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.group = scheduler.CfnScheduleGroup(self, "ScheduleGroup", name=settings.schedule_group_name)
        self.undelivered = dead_letter(self, "UndeliveredTimers")
        timers_name = f"{stack.stack_name}-timers"[:64]
        timers_arn = stack.format_arn(service="lambda", resource="function", resource_name=timers_name,
                                      arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        self.scheduler_role = iam.Role(
            self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="EventBridge Scheduler: invoke the timers function, dead-letter what it cannot deliver")
        self.scheduler_role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                              resources=[timers_arn]))
        self.undelivered.grant_send_messages(self.scheduler_role)

        self.check = functions.create(self, FunctionSpec(
            "sla_check", "SLA clock Check state: recompute, announce, escalate; the next due time",
            timeout_seconds=60))
        grant_table_data(self.check.role, table_arn=table_arn, key=key, indexes=GSI_NAMES)
        self.workflow = AslStateMachine(
            self, "Clock", definition_file=definition_file,
            substitutions={"SlaCheckFunctionArn": self.check.function.function_arn},
            log_retention_days=config.log_retention_days)
        self.state_machine = self.workflow.state_machine
        self.check.function.grant_invoke(self.state_machine)
        machine_role = self.state_machine.role
        acknowledge(machine_role, "IAM5[Resource::*]",
                    "Step Functions' own X-Ray tracing and log delivery actions take no resource; CDK adds "
                    "exactly those for tracing_enabled and the execution log group.")
        acknowledge(machine_role, f"IAM5[Resource::<{logical_id(self.check.function)}.Arn>:*]",
                    "grant_invoke covers the check function's versions and aliases; it is the only function "
                    "the clock invokes.")

        timer_settings = {
            "sla_state_machine_arn": self.state_machine.state_machine_arn,
            "timers_function_arn": timers_arn,
            "scheduler_role_arn": self.scheduler_role.role_arn,
            "schedule_group_name": settings.schedule_group_name,
            "timers_dead_letter_arn": self.undelivered.queue_arn,
        }
        self.consumer = functions.create(self, FunctionSpec(
            "sla_events", "Case events → SLA clocks recomputed and the case's clock execution (re)started",
            invocation=Invocation.ASYNC, timeout_seconds=60, settings_overrides=timer_settings))
        self.timers = functions.create(self, FunctionSpec(
            "timers", "EventBridge Scheduler one-time schedules → the handler of the timer's kind",
            invocation=Invocation.ASYNC, timeout_seconds=60, settings_overrides=timer_settings,
            function_name=timers_name))
        for made in (self.consumer, self.timers):
            self.grant_timers(made, table_arn=table_arn, key=key)
        events_backbone.add_consumer("sla-events", self.consumer,
                                     detail_types=sorted(sla_clock_consumer.event_types))

    def grant_timers(self, made: CaselineFunction, *, table_arn: str, key: kms.IKey) -> None:
        """What a function needs to set and cancel timers: the table, executions of the clock, schedules in
        the group, and passing the scheduler role to them."""
        stack = cdk.Stack.of(self)
        grant_table_data(made.role, table_arn=table_arn, key=key, indexes=GSI_NAMES)
        self.state_machine.grant_start_execution(made.role)
        executions = stack.format_arn(service="states", resource="execution",
                                      resource_name=f"{self.state_machine.state_machine_name}:*",
                                      arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        made.role.add_to_policy(iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions]))
        schedules = stack.format_arn(service="scheduler", resource="schedule",
                                     resource_name=f"{self.group.name}/*")
        made.role.add_to_policy(iam.PolicyStatement(
            actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
            resources=[schedules]))
        self.scheduler_role.grant_pass_role(made.role)
        machine = logical_id(self.state_machine)
        acknowledge(made.role, f"IAM5[Resource::arn:<AWS::Partition>:states:{stack.region}:{stack.account}:"
                               f"execution:<{machine}.Name>:*]",
                    "Executions are named per case and version when they start; stopping is allowed only for "
                    "executions of this one state machine.")
        acknowledge(made.role, f"IAM5[Resource::arn:<AWS::Partition>:scheduler:{stack.region}:{stack.account}:"
                               f"schedule/{self.group.name}/*]",
                    "Schedules are named per timer kind and subject when set; the grant is the Caseline "
                    "schedule group only.")

    @property
    def dead_letter_queues(self) -> list[DeadLetterQueue]:
        queues = [DeadLetterQueue("undelivered-timers", self.undelivered)]
        queues += [DeadLetterQueue(f"{m.spec.name}-invoke", m.dead_letter_queue)
                   for m in (self.timers,) if m.dead_letter_queue is not None]
        return queues

