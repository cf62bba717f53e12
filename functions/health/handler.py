"""Lambda entry point for GET /health (public; Route 53 health checks call it)."""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger
from caseline.api.app import build_api
from caseline.api.routes import health

logger = Logger(service="health")
app = build_api([health.router])


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
