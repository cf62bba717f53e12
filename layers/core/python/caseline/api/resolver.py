"""Builds the Powertools resolver each API function serves: validation, errors, size limit, idempotency."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router

from .errors import problem_response, register_error_handlers
from .idempotency import idempotency_middleware
from .problems import PROBLEM_JSON

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

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
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload-too-large",
                                f"the body is larger than {limit} bytes")
        content_type = _header(event, "content-type")
        if body and content_type and not _is_json(content_type):
            return self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                                f"send JSON (Content-Type: application/json), not {content_type[:100]}")
        if body and event.get("isBase64Encoded"):
            try:
                text = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return self._refuse(HTTPStatus.BAD_REQUEST, "malformed-json", "the body is not UTF-8 encoded JSON")
            event = {**event, "body": text, "isBase64Encoded": False}
        return super().resolve(event, context)

    @staticmethod
    def _refuse(status: HTTPStatus, slug: str, detail: str) -> dict[str, Any]:
        """Answer before parsing, in the same problem shape every other error has."""
        response = problem_response(status, slug, detail)
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


def _header(event: dict[str, Any], name: str) -> str:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and isinstance(value, str):
            return value.strip()
    return ""


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
