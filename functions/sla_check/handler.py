"""The Check state of the SLA clock state machine (statemachines/sla_clock.asl.json).

Input and output are the execution's state: the timer as `AwsScheduler` started it (kind, subject, token,
due_at, payload). The output adds `status` — `wait` (with the next `due_at`), `superseded` or `closed` — which
the Choice state reads. Running twice for one instant is harmless: the check compares with what the case holds.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from caseline import bootstrap, tracing
from caseline.services.sla_clock import check_execution
from caseline.timers import ScheduledInput

logger = Logger(service="sla-check")
tracer = Tracer(service="sla-check", patch_modules=tracing.PATCHED)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    check = ScheduledInput.model_validate(event)
    result = check_execution(bootstrap.deps(), check.subject, check.token)
    logger.info("sla check", case_id=check.subject, status=result["status"], next_due_at=result.get("due_at"))
    return {**check.model_dump(mode="json"), **result}


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
