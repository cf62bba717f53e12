"""`Idempotency-Key` on POSTs: a retried request gets the first response instead of a second effect.

Powertools' idempotency utility does the bookkeeping; the persistence layer is DynamoDB in AWS and
SQLite on one machine (chosen in `caseline.bootstrap`). The key is scoped to the caller and the route,
and a key reused with a different body is refused rather than silently answered with the old result.

The utility is imported by the first request that carries a key, not with this module: importing it
imports boto3 (its DynamoDB layer), and boto3 imports s3transfer, about 70 ms that a function's reads,
and every event-fed function, never need (docs/deploy.md, "Infrastructure figures").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from .errors import BadRequest, IdempotencyInProgress, IdempotencyKeyReused

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
KEY_LIFETIME_SECONDS = 24 * 3600


def idempotency_middleware(
    persistence: Callable[[], BasePersistenceLayer],
) -> Callable[[APIGatewayRestResolver, Callable[..., Response]], Response]:
    configs: list[Any] = []  # the one IdempotencyConfig, made on the first request with a key

    def config() -> Any:
        if not configs:
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

            configs.append(IdempotencyConfig(
                event_key_jmespath="[key, caller, method, path]",
                payload_validation_jmespath="body_sha256",
                expires_after_seconds=KEY_LIFETIME_SECONDS,
                raise_on_no_idempotency_key=True,
            ))
        return configs[0]

    def middleware(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
        event = app.current_event
        key = event.headers.get(HEADER)
        if event.http_method != "POST" or key is None:
            return next_middleware(app)
        if not _KEY.match(key):
            raise BadRequest(f"{HEADER} must be 1-255 visible ASCII characters")
        claims = event.request_context.authorizer.claims if event.request_context.authorizer else None
        request = {
            "key": key,
            "caller": str((claims or {}).get("sub", "anonymous")),
            "method": event.http_method,
            "path": event.path,
            "body_sha256": hashlib.sha256((event.body or "").encode()).hexdigest(),
        }

        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        config().register_lambda_context(app.lambda_context)

        @idempotent_function(data_keyword_argument="request", persistence_store=persistence(), config=config())
        def run_once(request: dict) -> dict:
            response = next_middleware(app)
            return {
                "status": response.status_code,
                "headers": {k: v for k, v in response.headers.items() if isinstance(v, str)},
                "body": response.body,
            }

        try:
            result = run_once(request=request)
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise IdempotencyInProgress from exc
        headers = dict(result["headers"])
        return Response(status_code=result["status"], body=result["body"], headers=headers,
                        content_type=headers.get("Content-Type"))

    return middleware
