"""Lambda entry point for /agents, /teams (and their calendars), /users/{id}/roles, /rules, /routing,
/sla-policies and /mail/rejections."""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from caseline import tracing
from caseline.api.app import build_api
from caseline.api.routes import mail, routing, rules, sla, staff

logger = Logger(service="staff-api")
tracer = Tracer(service="staff-api", patch_modules=tracing.PATCHED)
app = build_api([staff.router, rules.router, routing.router, mail.router, sla.router])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
