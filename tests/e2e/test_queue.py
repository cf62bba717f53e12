"""Working a queue: opening a case from it, the customer beside the case, and the keyboard."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .desk import SUPERVISOR, capture, case_id_from_url, case_rows, choose, open_view, sign_in

COLUMNS = ["Number", "Subject", "Customer", "Priority", "Status", "Assignee", "Channel", "SLA due", "Updated"]


def test_open_a_case_from_a_queue_with_its_customer(page: Page, api_as) -> None:
    api = api_as(SUPERVISOR)
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    for column in COLUMNS:
        expect(table.get_by_role("columnheader", name=re.compile("^" + column))).to_be_visible()
    expect(page.get_by_label("Rows per page")).to_have_value("25")
    rows = case_rows(table)
    expect(rows.first).to_be_visible()
    assert rows.count() == min(25, api.view_count("all_open"))
    capture(page, "queue")

    first = rows.first
    number = first.get_by_role("link", name=re.compile(r"^#\d+$")).inner_text().strip()
    first.get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(r"/desk/cases/"))
    case = api.case(case_id_from_url(page.url))
    assert f"#{case['number']}" == number
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{case['number']} {case['subject']}")

    customer = api.get(f"/customers/{case['requester_id']}")
    panel = page.get_by_role("complementary", name="Customer")
    expect(panel.get_by_role("heading", name=customer["name"])).to_be_visible()
    expect(panel.get_by_role("list", name="Other open cases")).to_be_attached()
    timeline = panel.get_by_role("feed", name="Timeline").or_(panel.get_by_role("list", name="Timeline"))
    expect(timeline).to_be_visible()
    expect(panel.get_by_label("Kind")).to_be_visible()
    expect(panel.get_by_label("Channel")).to_be_visible()
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_role("listitem").first).to_be_visible()
    expect(page.get_by_role("tab", name="Conversation")).to_be_visible()
    expect(page.get_by_role("tab", name="Audit trail")).to_be_visible()  # a supervisor sees the audit trail
    capture(page, "case")


def test_keyboard_moves_through_the_queue_and_opens_a_case(page: Page) -> None:
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    rows = case_rows(table)
    expect(rows.nth(2)).to_be_visible()
    numbers = [rows.nth(i).get_by_role("link", name=re.compile(r"^#\d+$")).inner_text().strip() for i in range(3)]

    page.keyboard.press("j")
    expect_focused_row(page, numbers[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect_focused_row(page, numbers[2])
    page.keyboard.press("k")
    expect_focused_row(page, numbers[1])

    page.keyboard.press("x")
    expect(table.get_by_role("checkbox", name=f"Select case {numbers[1]}")).to_be_checked()
    expect(page.get_by_role("region", name="Bulk actions")).to_contain_text("1 selected")
    page.keyboard.press("x")
    expect(table.get_by_role("checkbox", name=f"Select case {numbers[1]}")).not_to_be_checked()

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^" + re.escape(numbers[1]) + " "))


def test_r_opens_the_case_with_the_reply_box_focused(page: Page) -> None:
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    expect(case_rows(table).first).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Reply")).to_be_focused()


FOCUSED_ROW_NUMBER = """() => {
    const row = document.activeElement && document.activeElement.closest('[role=row], tr');
    if (!row) return '';
    const link = Array.from(row.querySelectorAll('a')).find(a => /^#\\d+$/.test(a.textContent.trim()));
    return link ? link.textContent.trim() : '';
}"""


def expect_focused_row(page: Page, number: str) -> None:
    """The row showing `number` gets DOM focus (the row itself or something inside it)."""
    try:
        page.wait_for_function(f"(n) => ({FOCUSED_ROW_NUMBER})() === n", arg=number, timeout=10_000)
    except PlaywrightTimeout as exc:
        raise AssertionError(f"row {number} never got focus; focus is on row {page.evaluate(FOCUSED_ROW_NUMBER)!r}"
                             ) from exc


def test_a_filtered_queue_saved_as_a_view(page: Page, api_as) -> None:
    sign_in(page, SUPERVISOR)
    table = open_view(page, "All open")
    choose(page.get_by_label("Channel"), "chat")
    rows = case_rows(table)
    expect(rows.first).to_contain_text("Chat")
    expect(table.get_by_role("cell", name="Email", exact=True)).to_have_count(0)

    name = f"Chats {uuid.uuid4().hex[:4]}"
    page.get_by_role("button", name="Save view").click()
    dialog = page.get_by_role("dialog", name="Save view")
    dialog.get_by_role("textbox", name="Name").fill(name)
    dialog.get_by_role("button", name="Save").click()
    saved = page.get_by_role("navigation", name="Saved views").get_by_role("link", name=re.compile("^" + name))
    expect(saved).to_be_visible()

    stored = [v for v in api_as(SUPERVISOR).get("/saved-views")["items"] if v["name"] == name]
    assert len(stored) == 1 and stored[0]["view_id"] == "all_open" and stored[0]["filters"]["channel"] == "chat"
    open_view(page, "Pending")
    saved.click()
    expect(page).to_have_url(re.compile(f"/desk/saved/{stored[0]['id']}$"))
    expect(case_rows(page.get_by_role("table")).first).to_be_visible()
    expect(page.get_by_role("table").get_by_role("cell", name="Email", exact=True)).to_have_count(0)
