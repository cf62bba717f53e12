"""Every endpoint by every role. A customer reaching another customer's case sees "not found", never 403.

The matrix must name every operation in the OpenAPI document: a new endpoint without a row fails here.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from caseline import bootstrap
from caseline.api.openapi import openapi_document
from caseline.automation.rules import default_rules
from caseline.services.rules import install_defaults

from .conftest import Api

ROLES = ["anonymous", "owner", "other_customer", "agent", "supervisor", "admin"]
_unique = itertools.count()


@dataclass
class Setup:
    api: Api
    case_id: str
    case_number: int
    interaction_id: str
    solved_case_id: str
    entry_id: str


def _who(api: Api, role: str):
    w = api.world
    return {"anonymous": None, "owner": w.alice_id, "other_customer": w.bob_id, "agent": w.agent,
            "supervisor": w.supervisor, "admin": w.admin}[role]


def _prepare(api: Api) -> Setup:
    created = api.open_case(api.world.agent).json()
    detail = api.request("GET", f"/cases/{created['id']}", api.world.agent).json()
    solved = api.open_case(api.world.agent).json()
    patched = api.request("PATCH", f"/cases/{solved['id']}", api.world.agent, json={"status": "solved"},
                          headers={"If-Match": '"1"'})
    assert patched.status_code == 200
    timeline = api.request("GET", f"/customers/{api.world.alice_id}/timeline", api.world.agent).json()
    return Setup(api, created["id"], created["number"], detail["interactions"][0]["id"], solved["id"],
                 timeline["items"][0]["id"])


def _case_body(role: str) -> dict:
    if role in ("owner", "other_customer"):
        return {"channel": "web", "subject": "Portal question", "text": "How do I export?"}
    return {"channel": "email", "subject": "Question", "text": "Hi", "requester": {"email": "alice@example.com"}}


def _saved_view_of(s: Setup, role: str) -> str:
    """A saved view owned by the caller (staff), or any id (customers are refused before the lookup)."""
    if role not in ("agent", "supervisor", "admin"):
        return "01J00000000000000000000000"
    body = {"name": f"Urgent {next(_unique)}", "view_id": "all_open", "filters": {"priority": "urgent"}}
    return s.api.request("POST", "/saved-views", _who(s.api, role), json=body).json()["id"]


def _merge_body(s: Setup) -> dict:
    duplicate = s.api.open_case(s.api.world.agent).json()
    return {"source_ids": [duplicate["id"]]}


def _merge_id(s: Setup) -> str:
    response = s.api.request("POST", f"/cases/{s.case_id}/merge", s.api.world.agent, json=_merge_body(s))
    assert response.status_code == 200, response.text
    return response.json()["merge_id"]


def _upload_body() -> dict:
    data = f"log line {next(_unique)}".encode()
    return {"filename": "sync.log", "content_type": "text/plain", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def _attached_sha256(s: Setup) -> str:
    """A file the agent uploaded and sent with a public reply on the case."""
    data = f"screenshot {next(_unique)}".encode()
    body = {"filename": "shot.png", "content_type": "image/png", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    ticket = s.api.request("POST", f"/cases/{s.case_id}/attachments/uploads", s.api.world.agent, json=body).json()
    bootstrap.deps().blobs.put(ticket["attachment"]["key"], data, content_type="image/png")
    reply = s.api.request("POST", f"/cases/{s.case_id}/replies", s.api.world.agent,
                          json={"text": "see attached", "attachments": [ticket["attachment"]]})
    assert reply.status_code == 201, reply.text
    return body["sha256"]


def _rule_path(s: Setup, suffix: str = "") -> str:
    """The shipped rules, installed; the path of the billing rule."""
    install_defaults(bootstrap.deps())
    return f"/rules/billing-to-billing-team{suffix}"


def _renamed_rule() -> dict:
    rule = default_rules().rules[0].model_dump(mode="json")
    return {**rule, "name": "Billing and invoices to Billing"}


def _new_rule() -> dict:
    return {"id": f"vip-{next(_unique)}", "name": "VIP tag", "triggers": ["case_opened"],
            "actions": [{"type": "add_tags", "tags": ["vip"]}]}


def _sla_policy(policy_id: str) -> dict:
    return {"id": policy_id, "name": "Weekdays", "targets": [{"priority": "normal", "first_response_minutes": 240}]}


def _team_calendar() -> dict:
    return {"calendar": {"time_zone": "Europe/Berlin", "weekly_hours": {"mon": [{"start": "09:00", "end": "17:00"}]},
                         "holiday_country": "DE"}}


Request = Callable[[Setup, str], tuple[str, str, dict]]
STAFF_ONLY = {"owner": 403, "other_customer": 403, "agent": 200, "supervisor": 200, "admin": 200}
OWNER_OR_STAFF = {"owner": 200, "other_customer": 404, "agent": 200, "supervisor": 200, "admin": 200}
CUSTOMERS_ONLY = {"owner": 200, "other_customer": 200, "agent": 403, "supervisor": 403, "admin": 403}
SUPERVISORS_UP = {"owner": 403, "other_customer": 403, "agent": 403, "supervisor": 200, "admin": 200}
ADMINS_ONLY = {**SUPERVISORS_UP, "supervisor": 403}


def _created(statuses: dict[str, int]) -> dict[str, int]:
    return {role: 201 if status == 200 else status for role, status in statuses.items()}


MATRIX: dict[tuple[str, str], tuple[Request, dict[str, int]]] = {
    ("post", "/cases"): (lambda s, r: ("POST", "/cases", {"json": _case_body(r)}),
                         _created(dict.fromkeys(OWNER_OR_STAFF, 200))),
    ("get", "/cases/{case_id}"): (lambda s, r: ("GET", f"/cases/{s.case_id}", {}), OWNER_OR_STAFF),
    ("get", "/cases/by-number/{number}"): (lambda s, r: ("GET", f"/cases/by-number/{s.case_number}", {}),
                                           OWNER_OR_STAFF),
    ("patch", "/cases/{case_id}"): (
        lambda s, r: ("PATCH", f"/cases/{s.case_id}", {"json": {"priority": "high"}, "headers": {"If-Match": '"1"'}}),
        STAFF_ONLY),
    ("post", "/cases/{case_id}/replies"): (
        lambda s, r: ("POST", f"/cases/{s.case_id}/replies", {"json": {"text": "Any news?"}}),
        _created(OWNER_OR_STAFF)),
    ("post", "/cases/{case_id}/notes"): (
        lambda s, r: ("POST", f"/cases/{s.case_id}/notes", {"json": {"text": "checked logs"}}), _created(STAFF_ONLY)),
    ("get", "/cases/{case_id}/interactions/{interaction_id}"): (
        lambda s, r: ("GET", f"/cases/{s.case_id}/interactions/{s.interaction_id}", {}), OWNER_OR_STAFF),
    ("put", "/cases/{case_id}/assignment"): (
        lambda s, r: ("PUT", f"/cases/{s.case_id}/assignment", {"json": {"assignee_id": s.api.world.agent.id}}),
        STAFF_ONLY),
    ("post", "/cases/{case_id}/reopen"): (lambda s, r: ("POST", f"/cases/{s.solved_case_id}/reopen", {}),
                                          OWNER_OR_STAFF),
    ("get", "/cases/{case_id}/audit"): (
        lambda s, r: ("GET", f"/cases/{s.case_id}/audit", {}), {**STAFF_ONLY, "agent": 403}),
    ("get", "/queues/teams/{team_id}/{status}"): (
        lambda s, r: ("GET", f"/queues/teams/{s.api.world.billing.id}/open", {}), STAFF_ONLY),
    ("get", "/queues/agents/{agent_id}/{status}"): (lambda s, r: ("GET", "/queues/agents/me/new", {}), STAFF_ONLY),
    ("get", "/queues/requesters/{customer_id}"): (
        lambda s, r: ("GET", f"/queues/requesters/{s.api.world.alice_id}", {}), OWNER_OR_STAFF),
    ("get", "/customers"): (lambda s, r: ("GET", "/customers", {}), STAFF_ONLY),
    ("post", "/customers"): (
        lambda s, r: ("POST", "/customers", {"json": {"name": "New", "emails": [f"new{next(_unique)}@example.com"]}}),
        _created(STAFF_ONLY)),
    ("get", "/customers/{customer_id}"): (lambda s, r: ("GET", f"/customers/{s.api.world.alice_id}", {}),
                                          OWNER_OR_STAFF),
    ("patch", "/customers/{customer_id}"): (
        lambda s, r: ("PATCH", f"/customers/{s.api.world.alice_id}", {"json": {"name": "Alice E."}}), OWNER_OR_STAFF),
    ("get", "/customers/{customer_id}/360"): (lambda s, r: ("GET", f"/customers/{s.api.world.alice_id}/360", {}),
                                              STAFF_ONLY),
    ("get", "/customers/{customer_id}/timeline"): (
        lambda s, r: ("GET", f"/customers/{s.api.world.alice_id}/timeline", {}), STAFF_ONLY),
    ("get", "/customers/{customer_id}/timeline/{entry_id}"): (
        lambda s, r: ("GET", f"/customers/{s.api.world.alice_id}/timeline/{s.entry_id}", {}), STAFF_ONLY),
    ("post", "/customers/timeline-events"): (
        lambda s, r: ("POST", "/customers/timeline-events", {"json": {
            "customer": {"email": "alice@example.com"}, "kind": "order", "source": "shop",
            "occurred_at": "2026-11-01T10:00:00Z", "summary": "Order #1", "external_id": f"o-{next(_unique)}"}}),
        _created(STAFF_ONLY)),
    ("get", "/me"): (lambda s, r: ("GET", "/me", {}), CUSTOMERS_ONLY),
    ("patch", "/me"): (lambda s, r: ("PATCH", "/me", {"json": {"locale": "de"}}), CUSTOMERS_ONLY),
    ("get", "/me/cases"): (lambda s, r: ("GET", "/me/cases", {}), CUSTOMERS_ONLY),
    ("get", "/agents"): (lambda s, r: ("GET", "/agents", {}), STAFF_ONLY),
    ("get", "/agents/{agent_id}"): (lambda s, r: ("GET", f"/agents/{s.api.world.agent.id}", {}), STAFF_ONLY),
    ("put", "/agents/{agent_id}/availability"): (
        lambda s, r: ("PUT", f"/agents/{s.api.world.agent.id}/availability", {"json": {"availability": "away"}}),
        STAFF_ONLY),
    ("put", "/users/{user_id}/roles"): (
        lambda s, r: ("PUT", f"/users/{s.api.world.other_agent.id}/roles", {"json": {"role": "supervisor"}}),
        {**STAFF_ONLY, "agent": 403, "supervisor": 403}),
    ("get", "/teams"): (lambda s, r: ("GET", "/teams", {}), STAFF_ONLY),
    ("get", "/health"): (lambda s, r: ("GET", "/health", {}), dict.fromkeys(STAFF_ONLY, 200)),
    ("get", "/agents/me"): (lambda s, r: ("GET", "/agents/me", {}), STAFF_ONLY),
    ("get", "/views"): (lambda s, r: ("GET", "/views", {}), STAFF_ONLY),
    ("get", "/views/{view_id}"): (lambda s, r: ("GET", "/views/all_open", {}), STAFF_ONLY),
    ("get", "/saved-views"): (lambda s, r: ("GET", "/saved-views", {}), STAFF_ONLY),
    ("post", "/saved-views"): (
        lambda s, r: ("POST", "/saved-views", {"json": {"name": "Mine, urgent", "view_id": "mine",
                                                        "filters": {"priority": "urgent"}}}),
        _created(STAFF_ONLY)),
    ("delete", "/saved-views/{view_id}"): (
        lambda s, r: ("DELETE", f"/saved-views/{_saved_view_of(s, r)}", {}),
        {role: 204 if status == 200 else status for role, status in STAFF_ONLY.items()}),
    ("post", "/cases/bulk"): (
        lambda s, r: ("POST", "/cases/bulk", {"json": {"case_ids": [s.case_id], "changes": {"add_tags": ["vip"]}}}),
        STAFF_ONLY),
    ("post", "/cases/{case_id}/merge"): (
        lambda s, r: ("POST", f"/cases/{s.case_id}/merge", {"json": _merge_body(s)}), STAFF_ONLY),
    ("post", "/merges/{merge_id}/undo"): (lambda s, r: ("POST", f"/merges/{_merge_id(s)}/undo", {}), STAFF_ONLY),
    ("post", "/cases/{case_id}/attachments/uploads"): (
        lambda s, r: ("POST", f"/cases/{s.case_id}/attachments/uploads", {"json": _upload_body()}),
        _created(OWNER_OR_STAFF)),
    ("get", "/cases/{case_id}/attachments/{sha256}"): (
        lambda s, r: ("GET", f"/cases/{s.case_id}/attachments/{_attached_sha256(s)}", {}), OWNER_OR_STAFF),
    ("get", "/routing/policy"): (lambda s, r: ("GET", "/routing/policy", {}), {**STAFF_ONLY, "agent": 403}),
    ("put", "/routing/policy"): (
        lambda s, r: ("PUT", "/routing/policy", {"json": {"policy": {"category_skills": {"billing": "billing"}}}}),
        {**STAFF_ONLY, "agent": 403, "supervisor": 403}),
    ("get", "/mail/rejections"): (lambda s, r: ("GET", "/mail/rejections", {}), ADMINS_ONLY),
    ("get", "/rules"): (lambda s, r: ("GET", "/rules", {}), SUPERVISORS_UP),
    ("post", "/rules"): (lambda s, r: ("POST", "/rules", {"json": _new_rule()}), _created(ADMINS_ONLY)),
    ("get", "/rules/{rule_id}"): (lambda s, r: ("GET", _rule_path(s), {}), SUPERVISORS_UP),
    ("put", "/rules/{rule_id}"): (
        lambda s, r: ("PUT", _rule_path(s), {"json": _renamed_rule(), "headers": {"If-Match": '"1"'}}), ADMINS_ONLY),
    ("post", "/rules/{rule_id}/disable"): (lambda s, r: ("POST", _rule_path(s, "/disable"), {}), ADMINS_ONLY),
    ("post", "/rules/{rule_id}/enable"): (lambda s, r: ("POST", _rule_path(s, "/enable"), {}), ADMINS_ONLY),
    ("put", "/rules/order"): (
        lambda s, r: ("PUT", "/rules/order", {"json": {"ids": [rule.id for rule in default_rules().rules][::-1]},
                                              "headers": {"If-Match": '"1"'}}) if _rule_path(s) else None,
        ADMINS_ONLY),
    ("post", "/rules/{rule_id}/dry-run"): (
        lambda s, r: ("POST", _rule_path(s, "/dry-run"), {"json": {"case_id": s.case_id}}), SUPERVISORS_UP),
    ("get", "/sla-policies"): (lambda s, r: ("GET", "/sla-policies", {}), STAFF_ONLY),
    ("get", "/sla-policies/{policy_id}"): (lambda s, r: ("GET", "/sla-policies/default", {}), STAFF_ONLY),
    ("put", "/sla-policies/{policy_id}"): (
        lambda s, r: ("PUT", "/sla-policies/weekdays", {"json": _sla_policy("weekdays")}), ADMINS_ONLY),
    ("get", "/teams/{team_id}/calendar"): (
        lambda s, r: ("GET", f"/teams/{s.api.world.billing.id}/calendar", {}), STAFF_ONLY),
    ("put", "/teams/{team_id}/calendar"): (
        lambda s, r: ("PUT", f"/teams/{s.api.world.billing.id}/calendar", {"json": _team_calendar()}), ADMINS_ONLY),
}


def test_the_matrix_covers_every_operation() -> None:
    documented = {(method, path) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert documented == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0].upper()} {op[1]}")
def test_role_gets_the_expected_status(sqlite_api: Api, operation: tuple[str, str], role: str) -> None:
    build, expected = MATRIX[operation]
    setup = _prepare(sqlite_api)
    method, path, kwargs = build(setup, role)
    response = sqlite_api.request(method, path, _who(sqlite_api, role), **kwargs)
    anonymous_gets = 200 if operation[1] == "/health" else 401
    want = anonymous_gets if role == "anonymous" else expected[role]
    assert response.status_code == want, f"{role} {method} {path}: {response.text}"
    if want == 404:
        assert "does not exist" in response.json()["detail"]  # the same words a missing thing gets
