"""The customer beside a case: the timeline pages in as it scrolls, and filters by kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from .desk import AGENT, SUPERVISOR, choose, sign_in

ORDERS = 45
PAYMENTS = 4


def test_the_timeline_loads_older_pages_on_scroll_and_filters_by_kind(page: Page, api_as) -> None:
    setup = api_as(SUPERVISOR)
    email = f"tina-{uuid.uuid4().hex[:6]}@example.com"
    case = setup.open_case(subject="Where is my order?", email=email, name="Tina Timeline")
    now = datetime.now(UTC)
    for i in range(ORDERS):
        setup.post("/customers/timeline-events", {
            "customer": {"email": email}, "kind": "order", "source": "shop", "external_id": f"order-{i}",
            "occurred_at": (now - timedelta(hours=i + 1)).isoformat(), "summary": f"Order E2E-{i:03d} delivered"})
    for i in range(PAYMENTS):
        setup.post("/customers/timeline-events", {
            "customer": {"email": email}, "kind": "payment", "source": "billing", "external_id": f"pay-{i}",
            "occurred_at": (now - timedelta(days=3, hours=i)).isoformat(), "summary": f"Payment P-{i} received"})
    total = ORDERS + PAYMENTS + 2  # and the case's "opened" and its first message

    sign_in(page, AGENT)
    page.goto(f"/desk/cases/{case['id']}")
    panel = page.get_by_role("complementary", name="Customer")
    expect(panel.get_by_role("heading", name="Tina Timeline")).to_be_visible()
    timeline = panel.get_by_role("list", name="Timeline")
    items = timeline.get_by_role("listitem")
    expect(items.first).to_be_visible()
    first_page = items.count()
    assert 0 < first_page < total

    while items.count() < total:
        before = items.count()
        items.last.scroll_into_view_if_needed()
        expect(items).not_to_have_count(before)
    expect(timeline).to_contain_text("Order E2E-044 delivered")  # the oldest order, on the last page
    expect(items).to_have_count(total)

    choose(panel.get_by_label("Kind"), "payment")
    expect(items).to_have_count(PAYMENTS)
    for i in range(PAYMENTS):
        expect(timeline).to_contain_text(f"Payment P-{i} received")
