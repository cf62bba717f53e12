"""EventBridge (case events that can move a clock) → the sla-clock consumer: recompute the case's SLA clocks,
store them, and set its `sla` timer — a Step Functions execution that supersedes the previous one.

Idempotent: a redelivered event finds the clocks already stored and changes nothing.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.consumers.sla import sla_clock_consumer
from caseline.domain.events import EventEnvelope

logger = Logger(service="sla-events")
tracer = Tracer(service="sla-events", patch_modules=tracing.PATCHED)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:  # an EventBridge event; only its detail is read
    envelope = EventEnvelope.model_validate(event["detail"])
    if sla_clock_consumer.wants(envelope):
        sla_clock_consumer.handle(bootstrap.deps(), envelope)
    logger.info("sla event", event_id=envelope.id, event_type=envelope.type, case_id=envelope.subject)
    return {"event_id": envelope.id}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
