"""EventBridge (caseline.case.* events) → a `case.changed` notice on every live staff WebSocket connection.

A retried invocation pushes again; that is harmless because clients keep the highest case version they saw.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.domain.events import EventEnvelope
from caseline.services import realtime
from caseline.settings import Settings

logger = Logger(service="realtime-fanout")
tracer = Tracer(service="realtime-fanout", patch_modules=tracing.PATCHED)
_live: realtime.LiveUpdates | None = None


def live() -> realtime.LiveUpdates:
    global _live
    if _live is None:
        _live = bootstrap.live_updates(Settings.from_env())
    return _live


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:  # an EventBridge event; only its detail is read
    envelope = EventEnvelope.model_validate(event["detail"])
    deps = bootstrap.deps()
    report = realtime.push_case_change(deps.store, live(), envelope, now=int(deps.clock.now().timestamp()))
    logger.info("pushed", event_id=envelope.id, event_type=envelope.type, delivered=report.delivered,
                gone=len(report.gone), failed=len(report.failed))
    return {"delivered": report.delivered, "gone": len(report.gone), "failed": len(report.failed)}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
