"""The one place where exceptions become HTTP responses.

Mapping is by exception class, never by message text. Anything unmapped is a bug on our side: it is
logged with its stack and answered with a 500 problem that leaks nothing.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)

from ..adapters.store import BadCursor
from ..domain import errors as domain
from .problems import PROBLEM_BASE, PROBLEM_JSON, FieldProblem, Problem

logger = Logger(service="caseline-api")


class BadRequest(Exception):
    """A request the API cannot read: bad header values, bad idempotency keys."""


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key seen before with a different body (Powertools' IdempotencyValidationError)."""


class IdempotencyInProgress(Exception):
    """The first request with this Idempotency-Key has not finished (IdempotencyAlreadyInProgressError)."""


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__("method not allowed")
        self.allowed = allowed


_DOMAIN_STATUS: list[tuple[type[Exception], HTTPStatus, str]] = [
    (domain.Unauthenticated, HTTPStatus.UNAUTHORIZED, "unauthenticated"),
    (domain.Forbidden, HTTPStatus.FORBIDDEN, "forbidden"),
    (domain.NotFound, HTTPStatus.NOT_FOUND, "not-found"),
    (domain.VersionConflict, HTTPStatus.PRECONDITION_FAILED, "version-conflict"),
    (domain.PreconditionRequired, HTTPStatus.PRECONDITION_REQUIRED, "precondition-required"),
    (domain.InvalidTransition, HTTPStatus.CONFLICT, "invalid-transition"),
    (domain.AlreadyExists, HTTPStatus.CONFLICT, "already-exists"),
    (domain.RuleViolation, HTTPStatus.UNPROCESSABLE_ENTITY, "rule-violation"),
    (BadCursor, HTTPStatus.BAD_REQUEST, "bad-cursor"),
]


def status_of(exc: domain.DomainError | BadCursor) -> HTTPStatus:
    """The HTTP status a domain error maps to (bulk results report it per case)."""
    return next((status for cls, status, _ in _DOMAIN_STATUS if isinstance(exc, cls)),
                HTTPStatus.INTERNAL_SERVER_ERROR)


def problem_response(
    status: HTTPStatus, slug: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    problem = Problem(type=PROBLEM_BASE + slug, title=status.phrase, status=status.value, detail=detail, **extra)
    return Response(
        status_code=status.value,
        content_type=PROBLEM_JSON,
        body=problem.model_dump_json(exclude_none=True),
        headers=headers or {},
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_problem(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e.get("ctx", {}).get("error", "") for e in errors if e.get("type") == "json_invalid")
        return problem_response(HTTPStatus.BAD_REQUEST, "malformed-json", f"the body is not valid JSON: {reason}")
    fields = [
        FieldProblem(field=_field_name(e.get("loc", ())), message=str(e.get("msg", "")), type=str(e.get("type")))
        for e in errors
    ]
    names = ", ".join(f.field for f in fields)
    return problem_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation-failed", f"invalid fields: {names}", errors=fields
    )


def _domain_problem(exc: domain.DomainError) -> Response:
    for cls, status, slug in _DOMAIN_STATUS:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            if isinstance(exc, domain.VersionConflict) and exc.current_version is not None:
                extra["current_version"] = exc.current_version
            field = exc.context.get("field")
            if isinstance(field, str) and status is HTTPStatus.UNPROCESSABLE_ENTITY:
                extra["errors"] = [FieldProblem(field=f"body.{field}", message=exc.detail, type=slug)]
            headers = {"WWW-Authenticate": 'Bearer realm="caseline"'} if status == HTTPStatus.UNAUTHORIZED else {}
            return problem_response(status, slug, exc.detail, headers=headers, **extra)
    return _internal(exc)


def _internal(exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")


_ROUTE_PARAM = re.compile(r"<(\w+)>")


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _on_validation(exc: RequestValidationError) -> Response:
        return _validation_problem(exc)

    @app.exception_handler(ResponseValidationError)
    def _on_response_validation(exc: ResponseValidationError) -> Response:
        logger.error("response failed its own schema", errors=json.dumps(exc.errors(), default=str))
        return problem_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")

    @app.exception_handler(domain.DomainError)
    def _on_domain(exc: domain.DomainError) -> Response:
        return _domain_problem(exc)

    @app.exception_handler(BadRequest)
    def _on_bad_request(exc: BadRequest) -> Response:
        return problem_response(HTTPStatus.BAD_REQUEST, "bad-request", str(exc))

    @app.exception_handler(IdempotencyKeyReused)
    def _on_key_reuse(exc: IdempotencyKeyReused) -> Response:
        return problem_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency-key-reused",
            "this Idempotency-Key was used with a different request body",
        )

    @app.exception_handler(IdempotencyInProgress)
    def _on_in_progress(exc: IdempotencyInProgress) -> Response:
        return problem_response(
            HTTPStatus.CONFLICT, "idempotency-in-progress",
            "a request with this Idempotency-Key is still running; retry shortly",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(MethodNotAllowed)
    def _on_method(exc: MethodNotAllowed) -> Response:
        return problem_response(
            HTTPStatus.METHOD_NOT_ALLOWED, "method-not-allowed",
            f"use one of: {', '.join(exc.allowed)}", headers={"Allow": ", ".join(exc.allowed)},
        )

    @app.not_found
    def _on_not_found(exc: NotFoundError) -> Response:
        allowed = allowed_methods(app, app.current_event.path)
        if allowed:
            return _on_method(MethodNotAllowed(allowed))
        return problem_response(HTTPStatus.NOT_FOUND, "no-such-route", f"no route {app.current_event.path}")

    @app.exception_handler(Exception)
    def _on_anything_else(exc: Exception) -> Response:
        return _internal(exc)


def allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """Methods of the routes whose path matches: lets a wrong method get 405 instead of 404."""
    found = {route.method for route in app._static_routes + app._dynamic_routes if route.rule.match(path)}
    return sorted(found)
