"""EventBridge Scheduler one-time schedules → the handler registered for the timer's kind (caseline.timers).

The schedule's input is the timer with its token. A timer replaced or cancelled after the schedule fired is
skipped; a handler that raises fails the invocation, and EventBridge Scheduler retries it (then dead-letters).
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, timers, tracing

logger = Logger(service="timers")
tracer = Tracer(service="timers", patch_modules=tracing.PATCHED)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    fired = timers.ScheduledInput.model_validate(event)
    outcome = timers.fire_scheduled(bootstrap.deps(), fired)
    logger.info("timer", kind=fired.kind, subject=fired.subject, outcome=outcome)
    return {"outcome": outcome}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
