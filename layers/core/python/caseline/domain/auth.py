"""Who is asking: roles and the principal every service call carries."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .ids import AgentId, CustomerId


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.CUSTOMER


_RANK = {Role.CUSTOMER: 0, Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class Principal(BaseModel):
    """An authenticated caller. Staff carry `agent_id`, customers carry `customer_id`."""

    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    agent_id: AgentId | None = None
    customer_id: CustomerId | None = None
    name: str = ""

    def at_least(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]

    @property
    def actor_id(self) -> str:
        return self.agent_id or self.customer_id or self.subject


SYSTEM = Principal(subject="system", role=Role.ADMIN, name="Caseline")
