"""EventBridge (case opened, assigned, status changed, merged, unmerged; agent availability changed) → skills-based
routing: keep the agent pool in step with the cases, route new and unassigned cases, and set the timers that
overflow waiting cases and reroute the cases of agents who went offline (docs/automation.md, "Routing wiring").

Idempotent: the pool counts each case version once, and a case that is already assigned is not routed again.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.consumers.routing import routing_decisions, routing_pool
from caseline.domain.events import EventEnvelope

logger = Logger(service="routing-events")
tracer = Tracer(service="routing-events", patch_modules=tracing.PATCHED)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:  # an EventBridge event; only its detail is read
    envelope = EventEnvelope.model_validate(event["detail"])
    deps = bootstrap.deps()
    for consumer in (routing_pool, routing_decisions):  # the pool first: routing reads it
        if consumer.wants(envelope):
            consumer.handle(deps, envelope)
    logger.info("routing event", event_id=envelope.id, event_type=envelope.type, subject=envelope.subject)
    return {"event_id": envelope.id}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
