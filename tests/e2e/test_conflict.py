"""Two people edit the same case: the second save meets "This case changed" and re-applies on top."""

from __future__ import annotations

from playwright.sync_api import Page, Response, expect

from .desk import AGENT, OTHER_AGENT, capture, choose, sign_in


def test_apply_my_changes_again_keeps_both_edits(page: Page, second_page: Page, api_as) -> None:
    setup = api_as(OTHER_AGENT)
    case = setup.open_case(subject="Two people, one case", priority="normal")
    sign_in(page, AGENT)
    sign_in(second_page, OTHER_AGENT)
    for desk in (page, second_page):
        desk.goto(f"/desk/cases/{case['id']}")
        expect(desk.get_by_role("heading", level=1)).to_have_text(f"#{case['number']} Two people, one case")

    # A starts editing: priority and tags.
    mine = page.get_by_role("form", name="Case properties")
    choose(mine.get_by_label("Priority"), "urgent")
    mine.get_by_role("textbox", name="Tags").fill("vip, callback")

    # B saves first: status and category.
    theirs = second_page.get_by_role("form", name="Case properties")
    choose(theirs.get_by_label("Status"), "pending")
    theirs.get_by_role("textbox", name="Category").fill("hardware")
    with second_page.expect_response(lambda r: _is_case_write(r, case["id"])) as saved:
        theirs.get_by_role("button", name="Save changes").click()
    assert saved.value.ok, f"the other desk's save failed: {saved.value.status}"
    assert setup.case(case["id"])["category"] == "hardware"

    # A's save now meets the newer version.
    mine.get_by_role("button", name="Save changes").click()
    conflict = page.get_by_role("alertdialog", name="This case changed")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Status")
    expect(conflict).to_contain_text("Category")
    expect(conflict).to_contain_text("hardware")
    capture(page, "conflict")
    conflict.get_by_role("button", name="Apply my changes again").click()
    expect(conflict).to_have_count(0)

    final = setup.case(case["id"])
    assert final["status"] == "pending"  # theirs
    assert final["category"] == "hardware"  # theirs
    assert final["priority"] == "urgent"  # mine
    assert sorted(final["tags"]) == ["callback", "vip"]  # mine
    expect(mine.get_by_label("Priority")).to_have_value("urgent")
    expect(mine.get_by_label("Status")).to_have_value("pending")


def test_use_their_version_discards_mine(page: Page, api_as) -> None:
    setup = api_as(OTHER_AGENT)
    case = setup.open_case(subject="Their version wins", priority="normal")
    sign_in(page, AGENT)
    page.goto(f"/desk/cases/{case['id']}")
    mine = page.get_by_role("form", name="Case properties")
    expect(mine.get_by_label("Priority")).to_have_value("normal")
    choose(mine.get_by_label("Priority"), "low")
    setup.update_case(case["id"], priority="high")

    mine.get_by_role("button", name="Save changes").click()
    conflict = page.get_by_role("alertdialog", name="This case changed")
    expect(conflict).to_contain_text("Priority")
    conflict.get_by_role("button", name="Use their version").click()
    expect(conflict).to_have_count(0)
    expect(mine.get_by_label("Priority")).to_have_value("high")
    assert setup.case(case["id"])["priority"] == "high"


def _is_case_write(response: Response, case_id: str) -> bool:
    return response.request.method in ("PATCH", "PUT") and response.url.endswith(f"/cases/{case_id}")
