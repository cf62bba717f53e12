"""The event backbone: custom bus, archive, the outbox publisher, and consumers with dead letters.

A state change and its events are written in one DynamoDB transaction (the outbox item); the table's
stream feeds the publisher, which puts the events on the bus; rules fan them out to consumers. Every hop
keeps its failures: the stream mapping's on-failure queue for batches the publisher gave up on, and a
dead-letter queue per rule target for events EventBridge could not deliver. Later capabilities (search
indexer, SLA clock, notifications, webhooks) plug in with `add_consumer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..nag import acknowledge
from .functions import CaselineFunction, Invocation, dead_letter, retention


@dataclass(frozen=True)
class DeadLetterQueue:
    """A queue whose depth means lost work; monitoring alarms on each one."""

    name: str
    queue: sqs.IQueue


class EventBackbone(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus_name: str,
        event_source: str,
        archive_days: int,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.event_source = event_source
        self.dead_letter_queues: list[DeadLetterQueue] = []
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        # Everything our services publish is archived, so a consumer added or fixed later can be fed
        # the past with a replay (docs/deploy.md shows the command).
        self.archive = self.bus.archive(
            "Archive",
            archive_name=f"{bus_name}-all",
            description="Every Caseline domain event, for replay into new or repaired consumers",
            event_pattern=events.EventPattern(source=[event_source]),
            retention=cdk.Duration.days(archive_days),
        )
        # The event log: a searchable record of every event for support engineers and incident review.
        self.event_log = logs.LogGroup(
            self,
            "EventLog",
            retention=retention(log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        event_log_dlq = self._dead_letter("event-log")
        events.Rule(
            self,
            "EventLogRule",
            event_bus=self.bus,
            description="All Caseline events into the event log",
            event_pattern=events.EventPattern(source=[event_source]),
            targets=[targets.CloudWatchLogGroup(self.event_log, dead_letter_queue=event_log_dlq)],
        )

    def _dead_letter(self, name: str) -> sqs.Queue:
        queue = dead_letter(self, f"{_pascal(name)}DeadLetters")
        self.dead_letter_queues.append(DeadLetterQueue(name, queue))
        return queue

    def add_consumer(
        self, name: str, consumer: CaselineFunction, *, detail_types: list[str] | None = None
    ) -> events.Rule:
        """Route events (all of ours, or only some detail types) to an asynchronously invoked function."""
        if consumer.spec.invocation is not Invocation.ASYNC:
            raise ValueError(f"{consumer.spec.name} must be made with Invocation.ASYNC to consume events")
        if consumer.dead_letter_queue is not None:
            self.dead_letter_queues.append(DeadLetterQueue(f"{name}-invoke", consumer.dead_letter_queue))
        pattern = events.EventPattern(source=[self.event_source], detail_type=detail_types)
        return events.Rule(
            self,
            f"{_pascal(name)}Rule",
            event_bus=self.bus,
            event_pattern=pattern,
            targets=[
                targets.LambdaFunction(
                    consumer.function,
                    dead_letter_queue=self._dead_letter(name),
                    retry_attempts=8,
                    max_event_age=cdk.Duration.hours(6),
                )
            ],
        )

    def add_outbox_publisher(self, publisher: CaselineFunction, *, stream_arn: str, enabled: bool) -> None:
        """Stream → publisher → bus, for new outbox items only.

        The filter keeps every other write from invoking the publisher at all. Bisecting a failing batch
        isolates a poison record; after the retries it goes to the on-failure queue, not into a loop
        that would hold up every event behind it.
        """
        if publisher.spec.invocation is not Invocation.STREAM:
            raise ValueError(f"{publisher.spec.name} must be made with Invocation.STREAM")
        failed = self._dead_letter("outbox-publisher")
        publisher.function.add_event_source_mapping(
            "OutboxStream",
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            max_batching_window=cdk.Duration.seconds(1),
            bisect_batch_on_error=True,
            retry_attempts=5,
            max_record_age=cdk.Duration.hours(24),
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(failed),
            enabled=enabled,
            filters=[
                lambda_.FilterCriteria.filter(
                    {
                        "eventName": lambda_.FilterRule.is_equal("INSERT"),
                        "dynamodb": {"NewImage": {"entity": {"S": lambda_.FilterRule.is_equal("outbox")}}},
                    }
                )
            ],
        )
        publisher.role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                resources=[stream_arn],
            )
        )
        publisher.role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]))
        acknowledge(
            publisher.role,
            "IAM5[Resource::*]",
            "Besides X-Ray, the stream reader needs dynamodb:ListStreams, which has no resource-level "
            "permission; the record-reading actions are scoped to the one stream ARN.",
        )
        self.bus.grant_put_events_to(publisher.role)
        self.publisher = publisher


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
