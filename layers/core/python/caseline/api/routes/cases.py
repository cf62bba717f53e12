"""/cases and /queues: the case commands and the queue views."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.case import Case, CaseStatus
from ...domain.errors import NotFound
from ...domain.ids import ULID_PATTERN
from ...domain.interaction import Interaction
from ...services import cases as service
from ...services.commands import AddNote, AddReply, AssignCase, OpenCase, UpdateCase
from ..context import current_request
from ..http import Cursor, IfMatch, Limit, created, expected_version, with_etag
from ..models import AuditPage, CaseDetail, CasePage
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Cases"]
CaseIdParam = Annotated[str, Path(pattern=ULID_PATTERN, description="the case's id (a ULID)")]
OwnerParam = Annotated[str, Path(pattern=f"({ULID_PATTERN[1:-1]}|none|me)", description="id, `none` or `me`")]
COMMON = (400, 401, 403, 404)


@router.post("/cases", tags=TAGS, summary="Open a case", status_code=201,
             responses=responses(Case, *COMMON, 413, 422, status=201, headers=('Location', 'ETag')))
def open_case(command: OpenCase) -> Response[Case]:
    case = service.open_case(deps(), current_request(router), command)
    return created(case, f"/cases/{case.id}", ETag=f'"{case.version}"')


@router.get("/cases/<case_id>", tags=TAGS, summary="A case with a page of its interactions",
            responses=responses(CaseDetail, *COMMON, 422, headers=('ETag',)))
def get_case(case_id: CaseIdParam, limit: Limit = 50, cursor: Cursor = None) -> Response[CaseDetail]:
    detail = service.get_case(deps(), current_request(router), case_id, limit=limit, cursor=cursor)
    body = CaseDetail(case=detail.case, interactions=detail.interactions.items,
                      next_cursor=detail.interactions.cursor)
    return with_etag(body, detail.case.version)


@router.get("/cases/by-number/<number>", tags=TAGS, summary="Find a case by its number (#10234 → 10234)",
            responses=responses(Case, *COMMON, 422, headers=('ETag',)))
def get_case_by_number(number: Annotated[int, Path(ge=1, le=10**12)]) -> Response[Case]:
    case = service.get_case_by_number(deps(), current_request(router), number)
    return with_etag(case, case.version)


@router.patch("/cases/<case_id>", tags=TAGS, summary="Change status, priority, category, tags ... (If-Match)",
              responses=responses(Case, *COMMON, 409, 412, 413, 422, 428, headers=('ETag',)))
def update_case(case_id: CaseIdParam, command: UpdateCase, if_match: IfMatch = None) -> Response[Case]:
    case = service.update_case(deps(), current_request(router), case_id, command,
                               expected_version=expected_version(if_match))
    return with_etag(case, case.version)


@router.post("/cases/<case_id>/replies", tags=TAGS, summary="Add a public reply", status_code=201,
             responses=responses(Interaction, *COMMON, 409, 412, 413, 422, status=201, headers=('Location',)))
def add_reply(case_id: CaseIdParam, command: AddReply, if_match: IfMatch = None) -> Response[Interaction]:
    reply = service.add_reply(deps(), current_request(router), case_id, command,
                              expected_version=expected_version(if_match))
    return created(reply, f"/cases/{case_id}/interactions/{reply.id}")


@router.post("/cases/<case_id>/notes", tags=TAGS, summary="Add an internal note (@handle mentions)",
             status_code=201, responses=responses(Interaction, *COMMON, 413, 422, status=201, headers=('Location',)))
def add_note(case_id: CaseIdParam, command: AddNote) -> Response[Interaction]:
    note = service.add_note(deps(), current_request(router), case_id, command)
    return created(note, f"/cases/{case_id}/interactions/{note.id}")


@router.get("/cases/<case_id>/interactions/<interaction_id>", tags=TAGS, summary="One interaction",
            responses=responses(Interaction, *COMMON, 422))
def get_interaction(
    case_id: CaseIdParam, interaction_id: Annotated[str, Path(pattern=ULID_PATTERN)]
) -> Interaction:
    found = service.get_interaction(deps(), current_request(router), case_id, interaction_id)
    if found is None:
        raise NotFound(f"interaction {interaction_id} does not exist on case {case_id}")
    return found


@router.put("/cases/<case_id>/assignment", tags=TAGS, summary="Assign to an agent and/or a team",
            responses=responses(Case, *COMMON, 412, 413, 422, headers=('ETag',)))
def assign_case(case_id: CaseIdParam, command: AssignCase, if_match: IfMatch = None) -> Response[Case]:
    case = service.assign_case(deps(), current_request(router), case_id, command,
                               expected_version=expected_version(if_match))
    return with_etag(case, case.version)


@router.post("/cases/<case_id>/reopen", tags=TAGS, summary="Reopen a solved case",
             responses=responses(Case, *COMMON, 409, 412, 422, headers=('ETag',)))
def reopen_case(case_id: CaseIdParam, if_match: IfMatch = None) -> Response[Case]:
    case = service.reopen_case(deps(), current_request(router), case_id,
                               expected_version=expected_version(if_match))
    return with_etag(case, case.version)


@router.get("/cases/<case_id>/audit", tags=TAGS, summary="The case's audit trail (supervisors)",
            responses=responses(AuditPage, *COMMON, 422))
def audit_trail(case_id: CaseIdParam, limit: Limit = 50, cursor: Cursor = None) -> AuditPage:
    page = service.audit_trail(deps(), current_request(router), case_id, limit=limit, cursor=cursor)
    return AuditPage(items=page.items, next_cursor=page.cursor)


# --- queues ---------------------------------------------------------------------------------------------
QUEUE_TAGS = ["Queues"]
StatusParam = Annotated[CaseStatus, Path(description="case status")]


def _owner(value: str, me: str | None) -> str | None:
    if value == "none":
        return None
    return me if value == "me" else value


@router.get("/queues/teams/<team_id>/<status>", tags=QUEUE_TAGS,
            summary="A team's cases in one status, by priority then due time",
            responses=responses(CasePage, *COMMON, 422))
def team_queue(team_id: OwnerParam, status: StatusParam, limit: Limit = 25, cursor: Cursor = None) -> CasePage:
    request = current_request(router)
    page = service.team_queue(deps(), request, _owner(team_id, None), status, limit=limit, cursor=cursor)
    return CasePage(items=page.items, next_cursor=page.cursor)


@router.get("/queues/agents/<agent_id>/<status>", tags=QUEUE_TAGS,
            summary="An agent's cases (`me`, or `none` for unassigned) in one status",
            responses=responses(CasePage, *COMMON, 422))
def agent_queue(agent_id: OwnerParam, status: StatusParam, limit: Limit = 25, cursor: Cursor = None) -> CasePage:
    request = current_request(router)
    owner = _owner(agent_id, request.principal.agent_id)
    page = service.assignee_queue(deps(), request, owner, status, limit=limit, cursor=cursor)
    return CasePage(items=page.items, next_cursor=page.cursor)


@router.get("/queues/requesters/<customer_id>", tags=QUEUE_TAGS,
            summary="A customer's cases, by priority then due time", responses=responses(CasePage, *COMMON, 422))
def requester_queue(
    customer_id: Annotated[str, Path(pattern=ULID_PATTERN)],
    limit: Limit = 25,
    cursor: Cursor = None,
) -> CasePage:
    page = service.requester_cases(deps(), current_request(router), customer_id, limit=limit, cursor=cursor)
    return CasePage(items=page.items, next_cursor=page.cursor)
