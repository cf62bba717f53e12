"""/routing/policy: how cases are routed (supervisors read it, admins change it)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...services import routing as service
from ...services.routing import RoutingSettings, StoredRoutingPolicy
from ..context import current_request
from ..http import IfMatch, expected_version, with_etag
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Routing"]


@router.get("/routing/policy", tags=TAGS, summary="The routing policy (supervisors and admins)",
            responses=responses(StoredRoutingPolicy, 400, 401, 403, headers=("ETag",)))
def get_policy() -> Response[StoredRoutingPolicy]:
    stored = service.get_policy(deps(), current_request(router))
    return with_etag(stored, stored.version)


@router.put("/routing/policy", tags=TAGS, summary="Replace the routing policy (admins; If-Match with its ETag)",
            responses=responses(StoredRoutingPolicy, 400, 401, 403, 412, 413, 422, headers=("ETag",)))
def put_policy(settings: RoutingSettings, if_match: IfMatch = None) -> Response[StoredRoutingPolicy]:
    stored = service.put_policy(deps(), current_request(router), settings,
                                expected_version=expected_version(if_match))
    return with_etag(stored, stored.version)
