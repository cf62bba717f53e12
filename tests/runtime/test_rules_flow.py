"""The shipped rules in `caseline dev`, over HTTP: a case mentioning billing lands in the Billing team."""

from __future__ import annotations

import time

import httpx

from ..support.dev_server import DevServer


def _until(read, done, *, within: float = 30.0):
    """Read until `done(value)`; the dispatcher applies rules after the request that opened the case returned."""
    deadline = time.monotonic() + within
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def test_a_case_mentioning_billing_lands_in_the_billing_team_with_the_rule_on_its_audit_trail(
        dev_server: DevServer) -> None:
    dev_server.start(seed=True, timeout=180)
    client = httpx.Client(base_url=dev_server.url, headers={"Authorization": f"Bearer {dev_server.token()}"})
    rules = client.get("/rules").json()["items"]
    assert [r["id"] for r in rules] == ["billing-to-billing-team", "big-spender-high-priority",
                                        "no-agent-response-escalate"]
    billing = next(t for t in client.get("/teams").json()["items"] if t["name"] == "Billing")

    opened = client.post("/cases", json={
        "channel": "email", "subject": "Question about my last invoice",
        "text": "Hello, the billing address on my invoice is wrong.",
        "requester": {"email": "rules.flow@example.com", "name": "Rosa Rules"}})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    case = _until(lambda: client.get(f"/cases/{case_id}").json()["case"], lambda c: c["team_id"] is not None)
    assert case["team_id"] == billing["id"]
    assert "billing" in case["tags"]

    trail = client.get(f"/cases/{case_id}/audit").json()["items"]
    evaluated = [r for r in trail if r["action"] == "rules.evaluated"]
    assert len(evaluated) == 1
    explanation = evaluated[0]["changes"]["rules"]["after"]
    assert explanation["matched"] == ["billing-to-billing-team"]
    assert explanation["event"]["type"] == "caseline.case.opened"
    assigned = next(r for r in trail if r["action"] == "case.assigned")
    assert assigned["actor_id"] == "rules"
    assert assigned["changes"]["team_id"] == {"before": None, "after": billing["id"]}

    seeded_case = client.get("/queues/teams/" + billing["id"] + "/open").json()["items"]
    assert seeded_case, "the demo data is still there"
    dry = client.post("/rules/billing-to-billing-team/dry-run", json={"case_id": case_id}).json()
    assert dry["matched"] is True and dry["case_changes"] == {}  # already in Billing: nothing left to change
