"""EventBridge (caseline.case.reply_added) → the reply as email through SES (consumers/outbound_email.py).

Lambda gives an asynchronous invocation no attempt number, so the retries with backoff happen inside one
invocation; after the last one the reply is marked failed and the error is raised, which sends the event
to the function's dead-letter queue for a replay. An interaction already sent is never sent again.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.consumers import Consumer
from caseline.consumers.outbound_email import deliver_with_retries, outbound_email_consumer
from caseline.domain.events import EventEnvelope

logger = Logger(service="outbound-email")
tracer = Tracer(service="outbound-email", patch_modules=tracing.PATCHED)
ATTEMPTS = 3
BASE_DELAY_SECONDS = 2.0
_consumer: Consumer | None = None


def consumer() -> Consumer:
    global _consumer
    if _consumer is None:
        _consumer = outbound_email_consumer(bootstrap.mail_sender(bootstrap.platform().settings))
    return _consumer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:  # an EventBridge event; only its detail is read
    envelope = EventEnvelope.model_validate(event["detail"])
    deliver_with_retries(consumer(), bootstrap.deps(), envelope, attempts=ATTEMPTS, base_delay=BASE_DELAY_SECONDS)
    return {"event_id": envelope.id}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
