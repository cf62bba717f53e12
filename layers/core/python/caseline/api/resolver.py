"""Builds the Powertools resolver each API function serves: validation, errors, size limit, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from .errors import problem_response, register_error_handlers
from .problems import PROBLEM_JSON
from .idempotency import idempotency_middleware

OPENAPI_TITLE = "Caseline API"
OPENAPI_VERSION = "0.1.0"


class CaselineResolver(APIGatewayRestResolver):
    """Adds the body-size limit, which must be enforced before the body is parsed and validated."""

    def __init__(self, *, max_body_bytes: Callable[[], int]) -> None:
        super().__init__(enable_validation=True, response_validation_error_http_code=500)
        self._max_body_bytes = max_body_bytes

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        limit = self._max_body_bytes()
        if size > limit:
            return self._too_large(limit)
        return super().resolve(event, context)

    @staticmethod
    def _too_large(limit: int) -> dict[str, Any]:
        response = problem_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload-too-large", f"the body is larger than {limit} bytes"
        )
        return {
            "statusCode": response.status_code,
            "multiValueHeaders": {"Content-Type": [PROBLEM_JSON]},
            "body": response.body,
            "isBase64Encoded": False,
        }


def build_resolver(
    routers: list[Router],
    *,
    max_body_bytes: Callable[[], int],
    idempotency_store: Callable[[], BasePersistenceLayer],
) -> CaselineResolver:
    app = CaselineResolver(max_body_bytes=max_body_bytes)
    register_error_handlers(app)
    app.use(middlewares=[idempotency_middleware(idempotency_store)])
    for router in routers:
        app.include_router(router)
    return app
