"""/agents, /teams and /users/{id}/roles."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.agents import Agent
from ...domain.ids import ULID_PATTERN
from ...services import staff as service
from ...services.commands import ChangeRole, SetAvailability
from ..context import current_request
from ..http import Cursor, Limit
from ..models import AgentPage, TeamPage
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Staff"]
AgentIdParam = Annotated[str, Path(pattern=ULID_PATTERN)]
COMMON = (400, 401, 403, 404)


@router.get("/agents", tags=TAGS, summary="Agents by name", responses=responses(AgentPage, *COMMON, 422))
def list_agents(limit: Limit = 50, cursor: Cursor = None) -> AgentPage:
    page = service.list_agents(deps(), current_request(router), limit=limit, cursor=cursor)
    return AgentPage(items=page.items, next_cursor=page.cursor)


@router.get("/agents/me", tags=TAGS, summary="The signed-in staff member", responses=responses(Agent, *COMMON))
def get_me() -> Agent:
    return service.me(deps(), current_request(router))


@router.get("/agents/<agent_id>", tags=TAGS, summary="One agent", responses=responses(Agent, *COMMON, 422))
def get_agent(agent_id: AgentIdParam) -> Agent:
    return service.get_agent(deps(), current_request(router), agent_id)


@router.put("/agents/<agent_id>/availability", tags=TAGS, summary="Set availability (own, or any as supervisor)",
            responses=responses(Agent, *COMMON, 413, 422))
def set_availability(agent_id: AgentIdParam, command: SetAvailability) -> Agent:
    return service.set_availability(deps(), current_request(router), agent_id, command)


@router.put("/users/<user_id>/roles", tags=TAGS, summary="Change a staff member's role (admins)",
            responses=responses(Agent, *COMMON, 413, 422))
def change_role(user_id: AgentIdParam, command: ChangeRole) -> Agent:
    return service.change_role(deps(), current_request(router), user_id, command)


@router.get("/teams", tags=TAGS, summary="Teams by name", responses=responses(TeamPage, *COMMON, 422))
def list_teams(limit: Limit = 50, cursor: Cursor = None) -> TeamPage:
    page = service.list_teams(deps(), current_request(router), limit=limit, cursor=cursor)
    return TeamPage(items=page.items, next_cursor=page.cursor)
