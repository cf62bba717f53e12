"""Lambda entry point for /cases (with attachments), /queues and the workspace routes (views, merges)."""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from caseline import tracing
from caseline.api.app import build_api
from caseline.api.routes import attachments, cases, workspace

logger = Logger(service="cases-api")
tracer = Tracer(service="cases-api", patch_modules=tracing.PATCHED)
app = build_api([cases.router, workspace.router, attachments.router])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
