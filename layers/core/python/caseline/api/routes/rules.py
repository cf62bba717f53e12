"""/rules: the automation rule set — list, create, change, enable/disable, reorder, and a dry run on a case."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...services import rules as service
from ...services.rules import RULE_ID_PATTERN, DryRun, DryRunRequest, Reorder, RuleList, RuleRecord
from ..context import current_request
from ..http import IfMatch, created, expected_version, with_etag
from ..problems import responses
from ..rule_schema import RuleBody, parse_rule

router = APIGatewayRouter()
TAGS = ["Rules"]
RuleIdParam = Annotated[str, Path(pattern=RULE_ID_PATTERN, description="the rule's id, e.g. billing-to-billing-team")]
COMMON = (400, 401, 403, 404)


@router.get("/rules", tags=TAGS, summary="The rules in evaluation order (supervisors and admins)",
            responses=responses(RuleList, *COMMON, headers=("ETag",)))
def list_rules() -> Response[RuleList]:
    listing = service.list_rules(deps(), current_request(router))
    return with_etag(listing, listing.version)


@router.post("/rules", tags=TAGS, summary="Add a rule at the end of the order (admins)", status_code=201,
             responses=responses(RuleRecord, *COMMON, 409, 412, 413, 422, status=201, headers=("Location", "ETag")))
def create_rule(rule: RuleBody) -> Response[RuleRecord]:
    record = service.create_rule(deps(), current_request(router), parse_rule(rule))
    return created(record, f"/rules/{record.id}", ETag=f'"{record.version}"')


@router.put("/rules/order", tags=TAGS, summary="Reorder the rules (admins; If-Match of GET /rules)",
            responses=responses(RuleList, *COMMON, 412, 413, 422, 428, headers=("ETag",)))
def reorder_rules(command: Reorder, if_match: IfMatch = None) -> Response[RuleList]:
    listing = service.reorder_rules(deps(), current_request(router), command,
                                    expected_version=expected_version(if_match))
    return with_etag(listing, listing.version)


@router.get("/rules/<rule_id>", tags=TAGS, summary="One rule", responses=responses(RuleRecord, *COMMON, 422,
                                                                                  headers=("ETag",)))
def get_rule(rule_id: RuleIdParam) -> Response[RuleRecord]:
    record = service.get_rule(deps(), current_request(router), rule_id)
    return with_etag(record, record.version)


@router.put("/rules/<rule_id>", tags=TAGS, summary="Replace a rule (admins; If-Match)",
            responses=responses(RuleRecord, *COMMON, 412, 413, 422, 428, headers=("ETag",)))
def update_rule(rule_id: RuleIdParam, rule: RuleBody, if_match: IfMatch = None) -> Response[RuleRecord]:
    record = service.update_rule(deps(), current_request(router), rule_id, parse_rule(rule),
                                 expected_version=expected_version(if_match))
    return with_etag(record, record.version)


@router.post("/rules/<rule_id>/disable", tags=TAGS, summary="Disable a rule (admins)",
             responses=responses(RuleRecord, *COMMON, 412, 422, headers=("ETag",)))
def disable_rule(rule_id: RuleIdParam, if_match: IfMatch = None) -> Response[RuleRecord]:
    record = service.set_rule_enabled(deps(), current_request(router), rule_id, False,
                                      expected_version=expected_version(if_match))
    return with_etag(record, record.version)


@router.post("/rules/<rule_id>/enable", tags=TAGS, summary="Enable a rule (admins)",
             responses=responses(RuleRecord, *COMMON, 412, 422, headers=("ETag",)))
def enable_rule(rule_id: RuleIdParam, if_match: IfMatch = None) -> Response[RuleRecord]:
    record = service.set_rule_enabled(deps(), current_request(router), rule_id, True,
                                      expected_version=expected_version(if_match))
    return with_etag(record, record.version)


@router.post("/rules/<rule_id>/dry-run", tags=TAGS, summary="What the rule would do to a case now, and why",
             responses=responses(DryRun, *COMMON, 413, 422))
def dry_run(rule_id: RuleIdParam, command: DryRunRequest) -> DryRun:
    return service.dry_run(deps(), current_request(router), rule_id, command)
