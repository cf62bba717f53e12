"""Signing in and out on the local runtime, and the app shell every screen shares."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .desk import AGENT, capture, sign_in

VIEW_LABELS = ["My cases", "My teams' unassigned", "All open", "Pending", "About to breach SLA"]


def test_the_sign_in_page_offers_staff_only(page: Page, api_as) -> None:
    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="Sign in to Caseline")).to_be_visible()
    staff = page.get_by_role("button", name=re.compile(r"^Sign in as .+@caseline\.dev$"))
    expect(staff.first).to_be_visible()
    assert staff.count() == 10  # the demo's admin, two supervisors and seven agents
    users = page.request.get("/auth/dev-users").json()["items"]
    customers = [u["email"] for u in users if u["role"] == "customer"]
    assert customers, "the demo seed signs in customers too; the agent SPA must not offer them"
    for email in customers:
        expect(page.get_by_role("button", name=f"Sign in as {email}")).to_have_count(0)
    capture(page, "sign-in")


def test_sign_in_shows_the_shell_and_sign_out_ends_it(page: Page) -> None:
    sign_in(page, AGENT)
    expect(page).to_have_url(re.compile(r"/desk/views/mine$"))
    expect(page.get_by_role("banner")).to_contain_text("Dev Raman")
    queues = page.get_by_role("navigation", name="Queues")
    for label in VIEW_LABELS:
        expect(queues.get_by_role("link", name=re.compile("^" + re.escape(label)))).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="My cases")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Caseline")).to_be_visible()
    page.goto("/desk/views/all_open")
    expect(page.get_by_role("heading", name="Sign in to Caseline")).to_be_visible()


def test_the_root_redirects_to_my_cases(page: Page) -> None:
    sign_in(page, AGENT)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/desk/views/mine$"))


def test_the_language_can_be_switched(page: Page) -> None:
    sign_in(page, AGENT)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("My cases")
    language = page.get_by_label("Language").element_handle()  # its own label changes with the language
    language.select_option(label="Deutsch")
    expect(heading).not_to_have_text("My cases")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^de"))
    language.select_option(label="English")
    expect(heading).to_have_text("My cases")
