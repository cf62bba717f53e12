"""Merging duplicate cases and taking the merge back."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .desk import AGENT, SUPERVISOR, capture, sign_in


def test_merge_two_cases_then_undo_restores_both(page: Page, api_as) -> None:
    setup = api_as(SUPERVISOR)
    email = "morgan.merge@example.com"
    survivor = setup.open_case(subject="Printer offline", email=email, name="Morgan Merge", priority="high")
    duplicate = setup.open_case(subject="Printer still offline", email=email, name="Morgan Merge",
                                text="The printer on the second floor is offline too.")
    setup.update_case(duplicate["id"], status="pending")
    before = setup.case(duplicate["id"])

    sign_in(page, AGENT)
    page.goto(f"/desk/cases/{survivor['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{survivor['number']} Printer offline")
    page.get_by_role("button", name="Merge cases").click()
    dialog = page.get_by_role("dialog", name="Merge cases")
    dialog.get_by_role("textbox", name="Case numbers").fill(f"#{duplicate['number']}")
    dialog.get_by_role("button", name="Merge").click()

    merged = page.get_by_role("alert").or_(page.get_by_role("status")).filter(has_text="Merged")
    expect(merged).to_be_visible()
    undo = page.get_by_role("button", name="Undo merge")
    expect(undo).to_be_visible()
    capture(page, "merge")
    assert setup.case(duplicate["id"])["merged_into"] == survivor["id"]
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("The printer on the second floor is offline too.")

    other = page.context.new_page()  # a tab of its own: it signs in for itself
    sign_in(other, AGENT)
    other.goto(f"/desk/cases/{duplicate['id']}")
    notice = other.get_by_text(f"This case was merged into #{survivor['number']}")
    expect(notice).to_be_visible()
    link = notice.get_by_role("link", name=f"#{survivor['number']}", exact=True)
    expect(link).to_have_attribute("href", f"/desk/cases/{survivor['id']}")
    other.close()

    undo.click()
    expect(undo).to_have_count(0)
    restored = setup.case(duplicate["id"])
    assert restored["merged_into"] is None
    assert restored["status"] == before["status"] == "pending"
    assert restored["subject"] == "Printer still offline"
    assert setup.case(survivor["id"])["status"] == survivor["status"]
    page.goto(f"/desk/cases/{duplicate['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{duplicate['number']} Printer still offline")
    expect(page.get_by_text("This case was merged into")).to_have_count(0)
