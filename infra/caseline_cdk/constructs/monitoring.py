"""Dashboards and alarms for one region.

Two audiences, two dashboards. *Ops* answers "is the platform healthy": API errors and p99 latency,
Lambda errors/throttles/duration, DynamoDB throttles, latency and replication lag, dead-letter depth,
stream lag and state-machine failures. *Support* answers "how is support doing": queue depth, first
response time, SLA breaches, cases opened and solved, from the EMF metrics the services emit through
Powertools (namespace `Caseline`, dimension `service`). The support widgets use SEARCH over the
namespace, so they sum a metric across whichever services emit it and keep working when a metric moves
to another function.

Every alarm goes to one encrypted SNS topic; an email subscription is added when configured.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .events import DeadLetterQueue
from .functions import METRICS_NAMESPACE, CaselineFunction

SUPPORT_METRICS = (
    # metric name, statistic, label
    ("CasesOpened", "Sum", "Cases opened"),
    ("CasesSolved", "Sum", "Cases solved"),
    ("RepliesAdded", "Sum", "Replies added"),
    ("SlaBreaches", "Sum", "SLA breaches"),
    ("FirstResponseTimeSeconds", "Average", "First response time (s, average)"),
    ("QueueDepth", "Maximum", "Queue depth (max)"),
)
_FIVE_MINUTES = cdk.Duration.minutes(5)
_TABLE_OPERATIONS = ("GetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems")


def support_metric(name: str, statistic: str, label: str) -> cw.MathExpression:
    search = f"SEARCH('{{{METRICS_NAMESPACE},service}} MetricName=\"{name}\"', '{statistic}', 300)"
    aggregate = "SUM" if statistic == "Sum" else ("MAX" if statistic == "Maximum" else "AVG")
    return cw.MathExpression(expression=f"{aggregate}({search})", label=label, period=_FIVE_MINUTES)


class AlarmTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "Key",
            description="Caseline alarm notifications",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch publishes to an encrypted topic only if the key lets it.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(self, "Topic", display_name="Caseline alarms", master_key=key, enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.action = cw_actions.SnsAction(self.topic)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_email: str | None,
        api: apigw.RestApi,
        functions: Sequence[CaselineFunction],
        table: dynamodb.ITableV2,
        replica_region: str | None,
        dead_letter_queues: Sequence[DeadLetterQueue],
        stream_consumer: CaselineFunction | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms = AlarmTopic(self, "Alarms", email=alarm_email)
        self.ops = cw.Dashboard(self, "Ops", dashboard_name=f"caseline-ops-{cdk.Stack.of(self).region}")
        self.support = cw.Dashboard(self, "Support", dashboard_name=f"caseline-support-{cdk.Stack.of(self).region}")
        self._api(api)
        self._functions(functions, stream_consumer)
        self._table(table, replica_region)
        self._dead_letters(dead_letter_queues)
        self._state_machines()
        self._support()

    def alarm(self, construct_id: str, metric: cw.IMetric, *, threshold: float, description: str) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self.alarms.action)
        return alarm

    def _api(self, api: apigw.RestApi) -> None:
        client = api.metric_client_error(period=_FIVE_MINUTES, statistic="Sum", label="4xx")
        server = api.metric_server_error(period=_FIVE_MINUTES, statistic="Sum", label="5xx")
        latency = api.metric_latency(period=_FIVE_MINUTES, statistic="p99", label="p99 latency")
        self.ops.add_widgets(
            cw.GraphWidget(title="API 4xx / 5xx", left=[client, server], width=12),
            cw.GraphWidget(title="API p99 latency (ms)", left=[latency], width=12),
        )
        self.alarm("Api5xx", server, threshold=5, description="API returned 5xx responses")
        self.alarm("ApiLatencyP99", latency, threshold=3000, description="API p99 latency above 3 s")

    def _functions(self, functions: Sequence[CaselineFunction], stream_consumer: CaselineFunction | None) -> None:
        errors, throttles, durations = [], [], []
        for made in functions:
            name = made.spec.name
            function = made.function
            error = function.metric_errors(period=_FIVE_MINUTES, statistic="Sum", label=name)
            throttle = function.metric_throttles(period=_FIVE_MINUTES, statistic="Sum", label=name)
            errors.append(error)
            throttles.append(throttle)
            durations.append(function.metric_duration(period=_FIVE_MINUTES, statistic="p99", label=name))
            self.alarm(f"{_pascal(name)}Errors", error, threshold=1, description=f"{name} raised errors")
            self.alarm(f"{_pascal(name)}Throttles", throttle, threshold=1, description=f"{name} throttled")
        self.ops.add_widgets(
            cw.GraphWidget(title="Lambda errors", left=errors, width=8),
            cw.GraphWidget(title="Lambda throttles", left=throttles, width=8),
            cw.GraphWidget(title="Lambda p99 duration (ms)", left=durations, width=8),
        )
        if stream_consumer is not None:
            age = cw.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",
                dimensions_map={"FunctionName": stream_consumer.function.function_name},
                statistic="Maximum",
                period=_FIVE_MINUTES,
                label="outbox stream lag (ms)",
            )
            self.ops.add_widgets(cw.GraphWidget(title="Outbox publisher stream lag", left=[age], width=12))
            self.alarm("OutboxLag", age, threshold=60_000, description="Outbox events more than 1 min behind")

    def _table(self, table: dynamodb.ITableV2, replica_region: str | None) -> None:
        def dynamo(metric: str, statistic: str, label: str, **dims: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric,
                dimensions_map={"TableName": table.table_name, **dims},
                statistic=statistic,
                period=_FIVE_MINUTES,
                label=label,
            )

        throttles = [
            dynamo("ReadThrottleEvents", "Sum", "read throttles"),
            dynamo("WriteThrottleEvents", "Sum", "write throttles"),
        ]
        latency = [dynamo("SuccessfulRequestLatency", "p99", f"{op} p99", Operation=op) for op in _TABLE_OPERATIONS]
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(title="DynamoDB throttles", left=throttles, width=8),
            cw.GraphWidget(title="DynamoDB p99 latency (ms)", left=latency, width=8),
        ]
        for index, metric in enumerate(throttles):
            self.alarm(f"TableThrottles{index}", metric, threshold=1, description=f"DynamoDB {metric.label}")
        if replica_region:
            lag = dynamo("ReplicationLatency", "Maximum", "replication lag (ms)", ReceivingRegion=replica_region)
            widgets.append(cw.GraphWidget(title=f"Replication lag to {replica_region}", left=[lag], width=8))
            self.alarm("ReplicationLag", lag, threshold=60_000, description="Global table lag above 1 min")
        self.ops.add_widgets(*widgets)

    def _dead_letters(self, queues: Sequence[DeadLetterQueue]) -> None:
        self.ops.add_widgets(
            cw.GraphWidget(
                title="Dead-letter queue depth", left=[self.add_dead_letter_queue(q) for q in queues], width=12
            )
        )

    def add_dead_letter_queue(self, dlq: DeadLetterQueue) -> cw.IMetric:
        """Alarm on a dead-letter queue's depth; for consumers added after the dashboards were built."""
        depth = dlq.queue.metric_approximate_number_of_messages_visible(
            period=_FIVE_MINUTES, statistic="Maximum", label=dlq.name
        )
        self.alarm(f"{_pascal(dlq.name)}DeadLetters", depth, threshold=1, description=f"{dlq.name}: dead letters")
        return depth

    def _support(self) -> None:
        metrics = {name: support_metric(name, stat, label) for name, stat, label in SUPPORT_METRICS}
        self.support.add_widgets(
            cw.GraphWidget(title="Queue depth", left=[metrics["QueueDepth"]], width=12),
            cw.GraphWidget(title="First response time", left=[metrics["FirstResponseTimeSeconds"]], width=12),
            cw.GraphWidget(
                title="Cases opened / solved",
                left=[metrics["CasesOpened"], metrics["CasesSolved"], metrics["RepliesAdded"]],
                width=12,
            ),
            cw.GraphWidget(title="SLA breaches", left=[metrics["SlaBreaches"]], width=12),
        )

    def _state_machines(self) -> None:
        """Failures of every state machine in the region, whichever workflows are deployed: a SEARCH over
        the Step Functions namespace, so the widget needs no list and no placeholder workflow."""
        failures = [
            cw.MathExpression(
                expression=f"SEARCH('{{AWS/States,StateMachineArn}} MetricName=\"{metric}\"', 'Sum', 300)",
                label=label,
                period=_FIVE_MINUTES,
            )
            for metric, label in (("ExecutionsFailed", "failed"), ("ExecutionsTimedOut", "timed out"))
        ]
        self.ops.add_widgets(cw.GraphWidget(title="State machine failures (all workflows)", left=failures, width=12))

    def add_websocket_api(self, api_id: str, stage: str) -> None:
        """Live updates: connections, messages and errors of the WebSocket stage; integration errors alarm."""

        def websocket(metric: str, label: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/ApiGateway",
                metric_name=metric,
                dimensions_map={"ApiId": api_id, "Stage": stage},
                statistic="Sum",
                period=_FIVE_MINUTES,
                label=label,
            )

        errors = websocket("IntegrationError", "integration errors")
        self.ops.add_widgets(
            cw.GraphWidget(
                title="Live updates (WebSocket)",
                left=[websocket("ConnectCount", "connects"), websocket("MessageCount", "messages")],
                right=[
                    errors,
                    websocket("ExecutionError", "execution errors"),
                    websocket("ClientError", "client errors"),
                ],
                width=12,
            )
        )
        self.alarm("WebSocketIntegrationErrors", errors, threshold=5, description="WebSocket routes failing")

    def add_state_machine(self, name: str, machine: sfn.IStateMachine) -> None:
        """The hook for the SLA and GDPR workflows: a failure widget and an alarm per state machine."""
        failed = machine.metric_failed(period=_FIVE_MINUTES, statistic="Sum", label=f"{name} failed")
        timed_out = machine.metric_timed_out(period=_FIVE_MINUTES, statistic="Sum", label=f"{name} timed out")
        self.ops.add_widgets(cw.GraphWidget(title=f"State machine {name}: failures", left=[failed, timed_out]))
        self.alarm(f"{_pascal(name)}Failed", failed, threshold=1, description=f"{name} executions failed")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
