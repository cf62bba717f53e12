"""Bulk updates from a queue: a hundred cases at once, and what the workspace says when some fail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from .desk import SUPERVISOR, Api, capture, case_id_from_url, case_rows, choose, new_tag, open_view, sign_in

PAGE = 100


@pytest.fixture(scope="module")
def full_queue(api_as) -> Api:
    """"All open" with more than a page of 100 (the demo seed has about 50 open cases)."""
    api = api_as(SUPERVISOR)
    missing = PAGE + 10 - api.view_count("all_open")
    for i in range(max(0, missing)):
        api.open_case(subject=f"Bulk filler {i}", priority="low", email=f"bulk-filler-{i % 7}@example.com")
    return api


def test_a_hundred_cases_get_a_tag_at_once(page: Page, full_queue: Api) -> None:
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    choose(page.get_by_label("Rows per page"), str(PAGE))
    rows = case_rows(table)
    expect(rows).to_have_count(PAGE)

    table.get_by_role("checkbox", name="Select all cases on this page").check()
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk).to_contain_text(f"{PAGE} selected")
    tag = new_tag("e2e-bulk")
    bulk.get_by_role("textbox", name="Add tags").fill(tag)
    with page.expect_response(_is_bulk_call, timeout=60_000) as call:
        bulk.get_by_role("button", name=f"Apply to {PAGE} cases").click()
    assert call.value.status == 200, call.value.text()

    results = page.get_by_role("dialog", name="Bulk update results")
    expect(results).to_contain_text(f"{PAGE} updated, 0 failed")
    capture(page, "bulk-results")
    hrefs = table.get_by_role("link", name=re.compile(r"^#\d+$")).evaluate_all(
        "(links) => links.map(a => a.getAttribute('href'))")
    results.get_by_role("button", name="Close").click()
    expect(results).to_have_count(0)

    ids = {case_id_from_url(href) for href in hrefs}
    assert len(ids) == PAGE
    untagged = [i for i in ids if tag not in full_queue.case(i)["tags"]]
    assert untagged == []


def test_failures_are_listed_by_case_with_the_reason(page: Page, full_queue: Api) -> None:
    fresh = full_queue.open_case(subject="Bulk stays new", priority="urgent")
    worked = full_queue.open_case(subject="Bulk already open", priority="urgent")
    full_queue.update_case(worked["id"], status="open")
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    choose(page.get_by_label("Rows per page"), "200")
    for case in (fresh, worked):
        table.get_by_role("checkbox", name=f"Select case #{case['number']}").check()
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk).to_contain_text("2 selected")
    choose(bulk.get_by_label("Set status"), "new")  # an open case cannot go back to new
    with page.expect_response(_is_bulk_call) as call:
        bulk.get_by_role("button", name="Apply to 2 cases").click()
    assert call.value.status == 200, call.value.text()

    results = page.get_by_role("dialog", name="Bulk update results")
    expect(results).to_contain_text("1 updated, 1 failed")
    expect(results).to_contain_text(f"#{worked['number']}")
    expect(results).to_contain_text("cannot become new")
    expect(results).not_to_contain_text(f"#{fresh['number']}")
    assert full_queue.case(worked["id"])["status"] == "open"


def _is_bulk_call(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/cases/bulk")
