"""Automation rules in AWS (docs/automation.md, "Rules wiring"):

- `rules_events`: consumes the case events rules listen to (EventBridge rule, dead letters) and runs the stored
  rules; it may set and cancel `rules.recheck` timers like every timer-setting function (the SLA construct's
  grants), and read the webhook signing secret;
- the signing secret for outgoing webhooks, generated in Secrets Manager and read by the functions that may
  call webhooks: `rules_events` and `timers` (which runs rules on `rules.recheck`).
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from caseline.services.rule_runner import EVENT_TYPES
from caseline.settings import Settings
from constructs import Construct

from ..nag import acknowledge
from .events import EventBackbone
from .functions import FunctionFactory, FunctionSpec, Invocation
from .sla import SlaClocks


class RuleAutomation(Construct):
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
        self.webhook_secret = secretsmanager.Secret(
            self, "WebhookSecret", description="HMAC key that signs the webhooks automation rules send",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64))
        acknowledge(self.webhook_secret, "SMG4",
                    "Receivers verify signatures with this key; rotating it needs them to take the new key at the "
                    "same time, so it is rotated by hand with the receivers, not on a schedule.")
        overrides = {
            "sla_state_machine_arn": clocks.state_machine.state_machine_arn,
            "timers_function_arn": clocks.timers.function.function_arn,
            "scheduler_role_arn": clocks.scheduler_role.role_arn,
            "schedule_group_name": settings.schedule_group_name,
            "timers_dead_letter_arn": clocks.undelivered.queue_arn,
            "webhook_secret_arn": self.webhook_secret.secret_arn,
        }
        self.consumer = functions.create(self, FunctionSpec(
            "rules_events", "Case events → the stored automation rules, their changes, notes, replies and webhooks",
            invocation=Invocation.ASYNC, timeout_seconds=60, settings_overrides=overrides))
        clocks.grant_timers(self.consumer, table_arn=table_arn, key=key)
        self.webhook_secret.grant_read(self.consumer.role)
        self.webhook_secret.grant_read(clocks.timers.role)
        clocks.timers.function.add_environment("CASELINE_WEBHOOK_SECRET_ARN", self.webhook_secret.secret_arn)
        events_backbone.add_consumer("rules-events", self.consumer, detail_types=sorted(EVENT_TYPES))
