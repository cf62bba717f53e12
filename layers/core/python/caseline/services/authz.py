"""Who may do what. Checked here, in the service layer, whatever the entry point.

A customer must not learn that another customer's case exists, so their misses are NotFound, never
Forbidden.
"""

from __future__ import annotations

from ..domain.auth import Principal, Role
from ..domain.case import Case
from ..domain.errors import Forbidden, NotFound


def require_role(principal: Principal, role: Role, what: str) -> None:
    if not principal.at_least(role):
        raise Forbidden(f"{what} needs the {role.value} role or higher")


def require_staff(principal: Principal, what: str) -> None:
    require_role(principal, Role.AGENT, what)


def case_not_found(case_id: str) -> NotFound:
    return NotFound(f"case {case_id} does not exist", case_id=case_id)


def check_case_access(principal: Principal, case: Case | None, case_id: str) -> Case:
    """The case, if the principal may see it; otherwise the same NotFound a missing case gives."""
    if case is None:
        raise case_not_found(case_id)
    if principal.role is Role.CUSTOMER and case.requester_id != principal.customer_id:
        raise case_not_found(case_id)
    return case


def check_customer_access(principal: Principal, customer_id: str) -> None:
    if principal.role is Role.CUSTOMER and principal.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} does not exist", customer_id=customer_id)
