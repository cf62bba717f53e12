"""Events (bus, archive, publisher, consumers), dashboards and alarms, and the extension points that the
search, SLA and notification issues will use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template
from caseline.settings import AdapterSet, Settings
from caseline_cdk.build import LambdaBuild
from caseline_cdk.config import DeploymentConfig
from caseline_cdk.constructs.events import EventBackbone
from caseline_cdk.constructs.functions import FunctionFactory, FunctionSpec, Invocation
from caseline_cdk.constructs.monitoring import SUPPORT_METRICS, Monitoring
from caseline_cdk.constructs.workflows import AslStateMachine

from .conftest import FIXTURES, PRIMARY, SECONDARY, Synthesized

SERVICE_STACKS = ("service-primary", "service-secondary")


def alarm_metric(alarm: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """An alarm's metric name and dimensions, rendered plain or as a labelled `Metrics` list."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return props["MetricName"], props.get("Dimensions", [])
    (metric,) = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    return metric["MetricName"], metric.get("Dimensions", [])


def dashboard_body(synth: Synthesized, key: str, prefix: str) -> str:
    for dashboard in synth.resources(key, "AWS::CloudWatch::Dashboard").values():
        if prefix in json.dumps(dashboard["Properties"]["DashboardName"]):
            return json.dumps(dashboard["Properties"]["DashboardBody"])
    raise AssertionError(f"no dashboard {prefix}")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_bus_with_archive_and_event_log(synth: Synthesized, key: str) -> None:
    template = synth.template(key)
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "caseline"})
    template.has_resource_properties(
        "AWS::Events::Archive",
        {"RetentionDays": 30, "EventPattern": {"source": ["caseline"]}, "ArchiveName": "caseline-all"},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["caseline"]},
            "Targets": [Match.object_like({"DeadLetterConfig": {"Arn": Match.any_value()}})],
        },
    )


@pytest.mark.parametrize(("key", "enabled"), [("service-primary", True), ("service-secondary", False)])
def test_outbox_publisher_reads_only_new_outbox_items(synth: Synthesized, key: str, enabled: bool) -> None:
    ((_, mapping),) = synth.resources(key, "AWS::Lambda::EventSourceMapping").items()
    props = mapping["Properties"]
    assert props["Enabled"] is enabled  # one region publishes, or every event would go out twice
    assert props["StartingPosition"] == "TRIM_HORIZON"
    (pattern,) = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}
    failed_queue = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert synth.raw(key)["Resources"][failed_queue]["Type"] == "AWS::SQS::Queue"
    if key == "service-primary":
        assert "StreamArn" in json.dumps(props["EventSourceArn"])
    else:  # the replica's stream, looked up at deploy time in the secondary region
        assert "ReplicaStream" in json.dumps(props["EventSourceArn"])


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_publisher_may_put_events_on_our_bus_only(synth: Synthesized, key: str) -> None:
    statements = [
        s
        for p in synth.resources(key, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "events:PutEvents" in json.dumps(s["Action"])
    ]
    assert statements
    for statement in statements:
        assert "EventsBus" in json.dumps(statement["Resource"])


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_ops_dashboard_has_the_named_metrics(synth: Synthesized, key: str) -> None:
    body = dashboard_body(synth, key, "caseline-ops")
    for metric in (
        "4XXError",
        "5XXError",
        "p99",
        '"Errors"',
        '"Throttles"',
        '"Duration"',
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "SuccessfulRequestLatency",
        "ApproximateNumberOfMessagesVisible",
        "IteratorAge",
        "ExecutionsFailed",  # every state machine of the region, by SEARCH
        "ConnectCount",  # live updates
        "IntegrationError",
    ):
        assert metric.replace('"', '\\"') in body or metric in body, metric
    assert ("ReplicationLatency" in body) is (key == "service-primary")


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_support_dashboard_reads_the_services_emf_metrics(synth: Synthesized, key: str) -> None:
    body = dashboard_body(synth, key, "caseline-support")
    for name, _, _ in SUPPORT_METRICS:
        assert f'MetricName=\\\\\\"{name}\\\\\\"' in body or name in body
    assert "{Caseline,service}" in body


@pytest.mark.parametrize("key", SERVICE_STACKS)
def test_alarms_go_to_the_encrypted_topic_and_cover_each_dead_letter_queue(
    synth: Synthesized, key: str
) -> None:
    alarms = synth.resources(key, "AWS::CloudWatch::Alarm").values()
    ((topic_id,),) = {tuple(action["Ref"] for action in a["Properties"]["AlarmActions"]) for a in alarms}
    topic = synth.resources(key, "AWS::SNS::Topic")[topic_id]  # other topics (SES feedback) carry no alarms
    assert "KmsMasterKeyId" in topic["Properties"]
    queues = synth.resources(key, "AWS::SQS::Queue")
    metrics = [alarm_metric(a) for a in alarms]
    watched = {
        d["Value"]["Fn::GetAtt"][0]
        for name, dims in metrics
        if name == "ApproximateNumberOfMessagesVisible"
        for d in dims
    }
    assert set(queues) == watched
    names = {name for name, _ in metrics}
    assert {"5XXError", "Errors", "Throttles", "IteratorAge", "ReadThrottleEvents"} <= names


# Extension points, on a small stack of their own -------------------------------------------------------


@pytest.fixture(scope="module")
def extended(stand_in_functions: Path) -> dict[str, Any]:
    app = cdk.App()
    config = DeploymentConfig(functions_dir=stand_in_functions, powertools_version="3.37.0")
    stack = cdk.Stack(app, "Extended", env=cdk.Environment(account=config.account, region=PRIMARY))
    factory = FunctionFactory(
        stack, "Functions", config=config, settings=Settings(adapters=AdapterSet.AWS), build=LambdaBuild()
    )
    consumer = factory.create(stack, FunctionSpec("consumer", "test consumer", invocation=Invocation.ASYNC))
    backbone = EventBackbone(
        stack, "Events", bus_name="caseline", event_source="caseline", archive_days=7, log_retention_days=7
    )
    backbone.add_consumer("indexer", consumer, detail_types=["caseline.case.opened"])
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("GET")
    monitoring = Monitoring(
        stack,
        "Monitoring",
        alarm_email="ops@example.com",
        api=api,
        functions=factory.functions,
        table=dynamodb.TableV2.from_table_name(stack, "Table", "caseline"),
        replica_region=SECONDARY,
        dead_letter_queues=backbone.dead_letter_queues,
        stream_consumer=None,
    )
    machine = AslStateMachine(
        stack,
        "Sla",
        definition_file=FIXTURES / "tiny.asl.json",
        substitutions={"CheckFunctionArn": consumer.function.function_arn, "DoneMarker": "done"},
        log_retention_days=7,
    )
    monitoring.add_state_machine("sla-clock", machine.state_machine)
    return {"template": Template.from_stack(stack), "consumer": consumer}


def test_a_consumer_gets_a_rule_a_target_dlq_and_an_on_failure_destination(extended: dict[str, Any]) -> None:
    template: Template = extended["template"]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["caseline"], "detail-type": ["caseline.case.opened"]},
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 21600},
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}}},
    )
    # event log, indexer delivery, and the consumer's own async failures: each alarmed
    assert len(template.find_resources("AWS::SQS::Queue")) == 3


def test_a_synchronous_function_cannot_be_made_a_consumer(stand_in_functions: Path) -> None:
    app = cdk.App()
    config = DeploymentConfig(functions_dir=stand_in_functions, powertools_version="3.37.0")
    stack = cdk.Stack(app, "Wrong", env=cdk.Environment(account=config.account, region=PRIMARY))
    factory = FunctionFactory(stack, "Functions", config=config, settings=Settings(), build=LambdaBuild())
    sync = factory.create(stack, FunctionSpec("consumer", "sync"))
    backbone = EventBackbone(
        stack, "Events", bus_name="b", event_source="caseline", archive_days=7, log_retention_days=7
    )
    with pytest.raises(ValueError, match=r"Invocation\.ASYNC"):
        backbone.add_consumer("oops", sync)


def test_state_machines_are_inlined_logged_traced_and_alarmed(extended: dict[str, Any]) -> None:
    template: Template = extended["template"]
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    ((_, machine),) = machines.items()
    props = machine["Properties"]
    assert "DefinitionS3Location" not in props
    assert "DefinitionString" in props
    assert set(props["DefinitionSubstitutions"]) == {"CheckFunctionArn", "DoneMarker"}
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert "ExecutionsFailed" in {alarm_metric(a)[0] for a in alarms}
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
