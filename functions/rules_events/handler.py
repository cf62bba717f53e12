"""EventBridge (case opened, reply or note added, status changed, SLA warning or breach) → the stored automation
rules: evaluate them in order, apply what they decide, and record the explanation on the case's audit trail.

Idempotent: markers per (event, rule) and per recorded evaluation make a redelivered event change nothing twice.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.consumers.rules import rules_consumer
from caseline.domain.events import EventEnvelope

logger = Logger(service="rules-events")
tracer = Tracer(service="rules-events", patch_modules=tracing.WITH_WEBHOOKS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:  # an EventBridge event; only its detail is read
    envelope = EventEnvelope.model_validate(event["detail"])
    if rules_consumer.wants(envelope):
        rules_consumer.handle(bootstrap.deps(), envelope)
    logger.info("rules event", event_id=envelope.id, event_type=envelope.type, case_id=envelope.subject)
    return {"event_id": envelope.id}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
