"""Agents and teams: listings, availability, and role changes (admins only)."""

from __future__ import annotations

from ..adapters.store import Slice
from ..domain.agents import Agent, Availability, Team
from ..domain.audit import diff
from ..domain.auth import Role
from ..domain.errors import NotFound, RuleViolation
from ..domain.events import AgentAvailabilityChanged, AgentRoleChanged
from .authz import require_role, require_staff
from .commands import ChangeRole, SetAvailability
from .context import Change, Deps, Request


def list_agents(deps: Deps, request: Request, *, limit: int, cursor: str | None) -> Slice[Agent]:
    require_staff(request.principal, "listing agents")
    return deps.store.list_agents(limit=limit, cursor=cursor)


def get_agent(deps: Deps, request: Request, agent_id: str) -> Agent:
    require_staff(request.principal, "reading agents")
    agent = deps.store.get_agent(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return agent


def me(deps: Deps, request: Request) -> Agent:
    require_staff(request.principal, "a staff profile")
    return get_agent(deps, request, request.principal.agent_id or "")


def list_teams(deps: Deps, request: Request, *, limit: int, cursor: str | None) -> Slice[Team]:
    require_staff(request.principal, "listing teams")
    return deps.store.list_teams(limit=limit, cursor=cursor)


def change_role(deps: Deps, request: Request, agent_id: str, command: ChangeRole) -> Agent:
    require_role(request.principal, Role.ADMIN, "changing roles")
    if agent_id == request.principal.agent_id:
        raise RuleViolation("admins cannot change their own role; ask another admin")
    agent = get_agent(deps, request, agent_id)
    role = Role(command.role)
    if role is agent.role:
        return agent
    change = Change(deps, request)
    updated = agent.model_copy(update={"role": role})
    change.uow.put_agent(updated, previous=agent)
    change.audit("agent", agent.id, "agent.role_changed", diff({"role": agent.role.value}, {"role": role.value}))
    change.emit(AgentRoleChanged(agent_id=agent.id, previous=agent.role.value, current=role.value),
                subject=agent.id)
    change.commit()
    return updated


def set_availability(deps: Deps, request: Request, agent_id: str, command: SetAvailability) -> Agent:
    """Agents set their own availability; supervisors may set anyone's."""
    principal = request.principal
    require_staff(principal, "availability")
    if agent_id != principal.agent_id:
        require_role(principal, Role.SUPERVISOR, "changing another agent's availability")
    agent = get_agent(deps, request, agent_id)
    availability = Availability(command.availability)
    if availability is agent.availability:
        return agent
    change = Change(deps, request)
    updated = agent.model_copy(update={"availability": availability})
    change.uow.put_agent(updated, previous=agent)
    change.audit("agent", agent.id, "agent.availability_changed",
                 diff({"availability": agent.availability.value}, {"availability": availability.value}))
    change.emit(AgentAvailabilityChanged(agent_id=agent.id, previous=agent.availability.value,
                                         current=availability.value), subject=agent.id)
    change.commit()
    return updated
