"""/sla-policies and /teams/{team_id}/calendar: SLA policies and team calendars (staff read, admins write)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.ids import ULID_PATTERN
from ...services import sla_config as service
from ...services.sla_config import (
    POLICY_ID_PATTERN,
    SlaPolicyConfig,
    SlaPolicyList,
    SlaPolicyRecord,
    TeamCalendar,
    TeamCalendarRecord,
)
from ..context import current_request
from ..http import IfMatch, expected_version, with_etag
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["SLA"]
PolicyIdParam = Annotated[str, Path(pattern=POLICY_ID_PATTERN, description="the policy's id, e.g. default")]
TeamIdParam = Annotated[str, Path(pattern=ULID_PATTERN)]
COMMON = (400, 401, 403, 404)


@router.get("/sla-policies", tags=TAGS, summary="SLA policies (staff)", responses=responses(SlaPolicyList, *COMMON))
def list_policies() -> SlaPolicyList:
    return service.list_policies(deps(), current_request(router))


@router.get("/sla-policies/<policy_id>", tags=TAGS, summary="One SLA policy (staff)",
            responses=responses(SlaPolicyRecord, *COMMON, 422, headers=("ETag",)))
def get_policy(policy_id: PolicyIdParam) -> Response[SlaPolicyRecord]:
    record = service.get_policy(deps(), current_request(router), policy_id)
    return with_etag(record, record.version)


@router.put("/sla-policies/<policy_id>", tags=TAGS,
            summary="Create or replace an SLA policy (admins; If-Match when it exists)",
            responses=responses(SlaPolicyRecord, *COMMON, 412, 413, 422, 428, headers=("ETag",)))
def put_policy(policy_id: PolicyIdParam, policy: SlaPolicyConfig,
               if_match: IfMatch = None) -> Response[SlaPolicyRecord]:
    record = service.put_policy(deps(), current_request(router), policy_id, policy,
                                expected_version=expected_version(if_match))
    return with_etag(record, record.version)


@router.get("/teams/<team_id>/calendar", tags=TAGS, summary="A team's business calendar and SLA policy (staff)",
            responses=responses(TeamCalendarRecord, *COMMON, 422, headers=("ETag",)))
def get_calendar(team_id: TeamIdParam) -> Response[TeamCalendarRecord]:
    record = service.get_calendar(deps(), current_request(router), team_id)
    return with_etag(record, record.version)


@router.put("/teams/<team_id>/calendar", tags=TAGS,
            summary="Set a team's business calendar and SLA policy (admins; If-Match when one is set)",
            responses=responses(TeamCalendarRecord, *COMMON, 412, 413, 422, 428, headers=("ETag",)))
def put_calendar(team_id: TeamIdParam, calendar: TeamCalendar,
                 if_match: IfMatch = None) -> Response[TeamCalendarRecord]:
    record = service.put_calendar(deps(), current_request(router), team_id, calendar,
                                  expected_version=expected_version(if_match))
    return with_etag(record, record.version)
