"""/rules over HTTP: versions and If-Match, validation problems that name the field, reorder, dry run."""

from __future__ import annotations

from caseline import bootstrap
from caseline.services.rules import install_defaults

from .conftest import Api

BILLING = "billing-to-billing-team"
DEFAULT_ORDER = [BILLING, "big-spender-high-priority", "no-agent-response-escalate"]


def _rule(**changes) -> dict:
    rule = {"id": "vip-first", "name": "VIP customers first", "triggers": ["case_opened"],
            "when": {"op": "equals", "field": "customer.tier", "value": "vip"},
            "actions": [{"type": "set_priority", "priority": "urgent"}], "stop": True}
    return {**rule, **changes}


def test_the_shipped_rules_are_listed_in_order_with_versions(api: Api) -> None:
    install_defaults(bootstrap.deps())
    listing = api.request("GET", "/rules", api.world.supervisor)
    assert listing.status_code == 200
    assert listing.headers["ETag"] == '"1"'
    body = listing.json()
    assert [r["id"] for r in body["items"]] == DEFAULT_ORDER
    assert [r["position"] for r in body["items"]] == [0, 1, 2]
    assert body["items"][0]["rule"]["actions"][0] == {"type": "set_team", "team": "Billing"}
    assert install_defaults(bootstrap.deps()) == 0  # a second start installs nothing


def test_create_change_disable_and_enable_a_rule(api: Api) -> None:
    created = api.request("POST", "/rules", api.world.admin, json=_rule())
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/rules/vip-first"
    assert created.headers["ETag"] == '"1"'
    again = api.request("POST", "/rules", api.world.admin, json=_rule())
    assert again.status_code == 409

    changed = api.request("PUT", "/rules/vip-first", api.world.admin, json=_rule(name="VIPs first"),
                          headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["rule"]["name"] == "VIPs first"

    stale = api.request("PUT", "/rules/vip-first", api.world.admin, json=_rule(name="Lost"),
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    unversioned = api.request("PUT", "/rules/vip-first", api.world.admin, json=_rule(name="Lost"))
    assert unversioned.status_code == 428

    disabled = api.request("POST", "/rules/vip-first/disable", api.world.admin)
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False and disabled.json()["rule"]["enabled"] is False
    assert disabled.headers["ETag"] == '"3"'
    enabled = api.request("POST", "/rules/vip-first/enable", api.world.admin, headers={"If-Match": '"3"'})
    assert enabled.json()["enabled"] is True
    assert api.request("GET", "/rules/vip-first", api.world.supervisor).json()["version"] == 4


def test_invalid_rule_json_is_a_422_naming_the_field(api: Api) -> None:
    typo = _rule(when={"op": "equals", "field": "case.priorty", "value": "high"})
    response = api.request("POST", "/rules", api.world.admin, json=typo)
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert "body.when.equals.field" in fields
    assert any("no field 'priorty'" in e["message"] for e in response.json()["errors"])

    bad_action = _rule(actions=[{"type": "call_webhook", "url": "http://hooks.example.com/x"}])
    response = api.request("POST", "/rules", api.world.admin, json=bad_action)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.actions.0.call_webhook.url"]

    reserved = api.request("POST", "/rules", api.world.admin, json=_rule(id="order"))
    assert reserved.status_code == 422
    assert reserved.json()["errors"][0]["field"] == "body.id"

    api.request("POST", "/rules", api.world.admin, json=_rule())
    other_id = api.request("PUT", "/rules/vip-first", api.world.admin, json=_rule(id="someone-else"),
                           headers={"If-Match": '"1"'})
    assert other_id.status_code == 422


def test_reorder_needs_the_listing_version_and_every_rule_once(api: Api) -> None:
    install_defaults(bootstrap.deps())
    new_order = DEFAULT_ORDER[::-1]
    missing = api.request("PUT", "/rules/order", api.world.admin, json={"ids": new_order[:2]},
                          headers={"If-Match": '"1"'})
    assert missing.status_code == 422
    assert "missing: billing-to-billing-team" in missing.json()["detail"]
    assert api.request("PUT", "/rules/order", api.world.admin, json={"ids": new_order}).status_code == 428

    moved = api.request("PUT", "/rules/order", api.world.admin, json={"ids": new_order}, headers={"If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == '"2"'
    assert [r["id"] for r in api.request("GET", "/rules", api.world.admin).json()["items"]] == new_order
    stale = api.request("PUT", "/rules/order", api.world.admin, json={"ids": DEFAULT_ORDER},
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 412


def test_dry_run_explains_and_changes_nothing(api: Api) -> None:
    install_defaults(bootstrap.deps())
    case = api.open_case(api.world.agent, subject="Question about my invoice", text="The invoice total is wrong.",
                         ).json()
    before = api.request("GET", f"/cases/{case['id']}/audit", api.world.supervisor).json()

    run = api.request("POST", f"/rules/{BILLING}/dry-run", api.world.supervisor, json={"case_id": case["id"]})
    assert run.status_code == 200, run.text
    body = run.json()
    assert body["matched"] is True and body["trigger"] == "case_opened"
    assert body["explanation"]["decided_by"] == "when.any[0]"
    assert "case.subject mentions 'invoice'" in body["explanation"]["detail"]
    assert body["case_changes"] == {"team_id": api.world.billing.id, "tags": ["billing"]}
    assert [a["action"]["type"] for a in body["actions"]] == ["set_team", "add_tags"]

    after_case = api.request("GET", f"/cases/{case['id']}", api.world.agent).json()["case"]
    assert after_case["team_id"] is None and after_case["version"] == case["version"]
    after = api.request("GET", f"/cases/{case['id']}/audit", api.world.supervisor).json()
    assert after == before

    unknown_case = api.request("POST", f"/rules/{BILLING}/dry-run", api.world.admin,
                               json={"case_id": "01J00000000000000000000000"})
    assert unknown_case.status_code == 404
    not_a_case = api.request("POST", f"/rules/{BILLING}/dry-run", api.world.admin, json={"case_id": "nope"})
    assert not_a_case.status_code == 422
