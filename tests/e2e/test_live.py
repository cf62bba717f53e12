"""Live updates: a change made elsewhere shows in the open queue without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .desk import SUPERVISOR, case_rows, open_view, row_for, sign_in

# A new priority that keeps the row on the first page of a most-urgent-first queue, whatever the order.
OTHER = {"low": "urgent", "normal": "urgent", "high": "urgent", "urgent": "high"}


def test_a_change_made_through_the_api_updates_the_open_queue(page: Page, api_as) -> None:
    api = api_as(SUPERVISOR)
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads

    first = case_rows(table).first
    number = int(first.get_by_role("link", name=re.compile(r"^#\d+$")).inner_text().strip().lstrip("#"))
    case = api.get(f"/cases/by-number/{number}")
    target = OTHER[case["priority"]]
    api.update_case(case["id"], priority=target)

    expect(row_for(table, number).get_by_role("cell").filter(has_text=re.compile(f"^{target}$", re.I))).to_have_count(1)
    assert page.evaluate("() => window.__sameDocument === true")


def test_a_new_case_that_matches_appears_in_the_open_queue(page: Page, api_as) -> None:
    api = api_as(SUPERVISOR)
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true; }")

    case = api.open_case(subject="Arrived while you were looking", priority="urgent")
    expect(row_for(table, case["number"])).to_be_visible()
    expect(row_for(table, case["number"])).to_contain_text("Arrived while you were looking")
    assert page.evaluate("() => window.__sameDocument === true")
