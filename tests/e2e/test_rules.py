"""Automation rules in the browser: an admin reorders the shipped rules and tries one on a case; agents see no link."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from .desk import ADMIN, AGENT, capture, sign_in

DEFAULT_ORDER = ["billing-to-billing-team", "big-spender-high-priority", "no-agent-response-escalate"]


def _order(api) -> list[str]:
    return [rule["id"] for rule in api.get("/rules")["items"]]


def test_an_admin_reorders_the_rules_and_tries_one_on_a_case(page: Page, api_as) -> None:
    admin = api_as(ADMIN)
    assert _order(admin) == DEFAULT_ORDER  # installed on the server's first start
    case = admin.open_case(subject="Question about my last invoice")
    deadline = time.monotonic() + 30
    while admin.case(case["id"])["team_id"] is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the rules run after the request that opened the case returned

    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Rules").click()
    expect(page.get_by_role("heading", level=1, name="Automation rules")).to_be_visible()
    table = page.get_by_role("table", name="Automation rules")
    billing = table.get_by_role("row", name="Billing questions go to the Billing team")
    expect(billing).to_contain_text("Case opened")

    billing.get_by_role("button", name="Move down").click()
    expect(table.get_by_role("row").nth(2)).to_have_accessible_name("Billing questions go to the Billing team")
    assert _order(admin) == [DEFAULT_ORDER[1], DEFAULT_ORDER[0], DEFAULT_ORDER[2]]
    billing.get_by_role("button", name="Move up").click()
    expect(table.get_by_role("row").nth(1)).to_have_accessible_name("Billing questions go to the Billing team")
    assert _order(admin) == DEFAULT_ORDER

    billing.get_by_role("button", name="Dry run").click()
    dialog = page.get_by_role("dialog", name="Dry run of Billing questions go to the Billing team")
    dialog.get_by_role("textbox", name="Case number").fill(f"#{case['number']}")
    dialog.get_by_role("button", name="Try on this case").click()
    expect(dialog.get_by_text("Matches: it would act")).to_be_visible()
    expect(dialog).to_contain_text("case.subject mentions 'invoice'")
    expect(dialog).to_contain_text("No field of the case would change.")  # the rule already moved it to Billing
    capture(page, "rules")


def test_agents_get_no_rules_link(page: Page) -> None:
    sign_in(page, AGENT)
    expect(page.get_by_role("navigation", name="Queues")).to_be_visible()
    expect(page.get_by_role("navigation", name="Administration")).to_have_count(0)
