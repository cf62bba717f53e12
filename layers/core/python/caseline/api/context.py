"""Per-request context: who is calling (from the authorizer's claims) and which request this is.

In AWS the Cognito authorizer has verified the JWT and put its claims in
`requestContext.authorizer.claims`. On one machine the local gateway verifies its own JWTs and puts the
claims in the same place, so this module reads one shape only.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from ..domain.auth import Principal, Role
from ..domain.errors import Unauthenticated
from ..domain.ids import ULID_PATTERN
from ..services.context import Request

_ULID = re.compile(ULID_PATTERN)
_ROLE_ORDER = [Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.CUSTOMER]
CLAIM_GROUPS = "cognito:groups"
CLAIM_ID = "custom:caseline_id"


def parse_groups(raw: Any) -> set[str]:
    """`cognito:groups` arrives as a list, as "a,b", or as the string "[a b]" — accept each."""
    if isinstance(raw, list):
        return {str(g) for g in raw}
    if isinstance(raw, str):
        return {g for g in re.split(r"[\s,\[\]]+", raw) if g}
    return set()


def principal_from_claims(claims: dict[str, Any] | None) -> Principal:
    if not claims or not claims.get("sub"):
        raise Unauthenticated("sign in first: this route needs a bearer token")
    groups = parse_groups(claims.get(CLAIM_GROUPS))
    role = next((r for r in _ROLE_ORDER if r.value in groups), None)
    if role is None:
        raise Unauthenticated("the token carries no Caseline role")
    caseline_id = claims.get(CLAIM_ID)
    if not isinstance(caseline_id, str) or not _ULID.match(caseline_id):
        raise Unauthenticated("the token is not linked to a Caseline user")
    name = str(claims.get("name") or claims.get("email") or "")
    if role is Role.CUSTOMER:
        return Principal(subject=str(claims["sub"]), role=role, customer_id=caseline_id, name=name)
    return Principal(subject=str(claims["sub"]), role=role, agent_id=caseline_id, name=name)


def current_request(router: BaseRouter) -> Request:
    event = router.current_event
    context = event.request_context
    claims = context.authorizer.claims if context.authorizer else None
    principal = principal_from_claims(claims)
    request_id = context.request_id or "local"
    correlation = event.headers.get("x-correlation-id") or request_id
    return Request(principal=principal, request_id=request_id, correlation_id=correlation[:128])
