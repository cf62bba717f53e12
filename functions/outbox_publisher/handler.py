"""DynamoDB stream → EventBridge: publishes each outbox item the table's stream delivers.

The event-source mapping filters the stream to INSERTs of items with entity = "outbox"; a record that
fails is reported back (partial batch response), so the stream retries it and bisects the batch.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from caseline import tracing
from caseline.adapters.aws.eventbridge_bus import EventBridgeBus
from caseline.services.publishing import publish_outbox_item
from caseline.settings import Settings

logger = Logger(service="outbox-publisher")
tracer = Tracer(service="outbox-publisher", patch_modules=tracing.PATCHED)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_bus: EventBridgeBus | None = None


def bus() -> EventBridgeBus:
    global _bus
    if _bus is None:
        _bus = EventBridgeBus(Settings.from_env().event_bus_name)
    return _bus


def publish_record(record: DynamoDBRecord) -> None:
    event = publish_outbox_item(record.dynamodb.new_image, bus())
    logger.info("published", event_id=event.id, event_type=event.type, correlation_id=event.correlation_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=publish_record, processor=processor,
                                    context=context)


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
