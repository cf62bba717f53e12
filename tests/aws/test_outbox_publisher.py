"""AWS path of the outbox: table stream → publisher function → EventBridge bus → a rule's target (moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from boto3.dynamodb.types import TypeSerializer
from caseline.domain.common import Channel
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.services import cases
from caseline.services.commands import CustomerRef, OpenCase

from ..conftest import REGION, World, _dynamodb_platform, make_world

pytestmark = pytest.mark.aws


def _stream_event(platform) -> dict:
    """The event the stream's event-source mapping hands the function after its filter (outbox INSERTs).

    moto cannot serve DynamoDB Streams to this botocore version (DescribeStream answers "not yet
    implemented"), so the records are built the way the stream builds them: the stored item, read back
    from the table and marshalled into DynamoDB JSON as its NewImage.
    """
    serializer = TypeSerializer()
    records = []
    for n, item in enumerate(i for i in platform.table.scan() if i.get("entity") == "outbox"):
        records.append({
            "eventID": f"e{n}",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/caseline/stream/2026",
            "dynamodb": {
                "Keys": {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}},
                "NewImage": {k: serializer.serialize(v) for k, v in item.items()},
                "SequenceNumber": f"{1000 + n}",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "ApproximateCreationDateTime": 1_796_000_000,
            },
        })
    return {"Records": records}


@pytest.fixture
def bus_and_queue(aws, monkeypatch):
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="caseline")
    queue_url = sqs.create_queue(QueueName="case-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="cases", EventBusName="caseline", EventPattern=json.dumps({"source": ["caseline"]}))
    events.put_targets(Rule="cases", EventBusName="caseline", Targets=[{"Id": "q", "Arn": queue_arn}])
    monkeypatch.setenv("CASELINE_EVENT_BUS_NAME", "caseline")
    return sqs, queue_url


def test_outbox_items_reach_the_bus_through_the_stream(aws, bus_and_queue, clock) -> None:
    sqs, queue_url = bus_and_queue
    platform = _dynamodb_platform(clock)
    world: World = make_world(platform)
    case = cases.open_case(platform.deps, world.staff(world.agent), OpenCase(
        channel=Channel.API, subject="From the API", text="hello", requester=CustomerRef(email="api@example.com")))
    event = _stream_event(platform)
    assert len(event["Records"]) == 4  # two customers created by the world, then this customer and case
    handler = load_handler(FUNCTIONS_DIR, "outbox_publisher")
    result = handler(event, LocalLambdaContext(function_name="outbox_publisher", aws_request_id="r1"))
    assert result == {"batchItemFailures": []}
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    delivered = {json.loads(m["Body"])["detail-type"]: json.loads(m["Body"]) for m in messages}
    opened = delivered["caseline.case.opened"]
    assert opened["source"] == "caseline" and opened["detail"]["subject"] == case.id
    assert opened["detail"]["data"]["number"] == case.number


def test_a_bad_record_is_reported_alone_and_a_dead_bus_fails_the_batch(aws, bus_and_queue, clock,
                                                                       monkeypatch) -> None:
    platform = _dynamodb_platform(clock)
    make_world(platform)
    event = _stream_event(platform)
    poisoned = event["Records"][0]
    poisoned["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}
    handler = load_handler(FUNCTIONS_DIR, "outbox_publisher")
    result = handler(event, LocalLambdaContext(function_name="outbox_publisher", aws_request_id="r2"))
    assert result == {"batchItemFailures": [{"itemIdentifier": poisoned["dynamodb"]["SequenceNumber"]}]}
    # When the bus refuses everything the whole invocation fails, so the stream retries (and bisects) it.
    monkeypatch.setenv("CASELINE_EVENT_BUS_NAME", "no-such-bus")
    handler = load_handler(FUNCTIONS_DIR, "outbox_publisher")
    with pytest.raises(BatchProcessingError):
        handler(_stream_event(platform), LocalLambdaContext(function_name="outbox_publisher", aws_request_id="r3"))
