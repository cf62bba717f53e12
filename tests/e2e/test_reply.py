"""Answering a customer: the reply shows in the conversation and on the customer's timeline."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from .desk import AGENT, SUPERVISOR, selected_label, sign_in


def test_a_reply_shows_on_the_conversation_and_the_timeline(page: Page, api_as) -> None:
    setup = api_as(SUPERVISOR)
    case = setup.open_case(subject="Router keeps rebooting", channel="chat", name="Rita Reboot")
    sign_in(page, AGENT)
    page.goto(f"/desk/cases/{case['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{case['number']} Router keeps rebooting")
    reply_on = page.get_by_label("Reply on")
    expect(reply_on).to_have_value("chat")
    assert selected_label(reply_on)

    text = f"Please unplug it for ten seconds ({uuid.uuid4().hex[:6]})."
    page.get_by_role("textbox", name="Reply").fill(text)
    page.get_by_role("button", name="Send reply").click()

    conversation = page.get_by_role("list", name="Conversation")
    mine = conversation.get_by_role("listitem").filter(has_text=text)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Dev Raman")
    expect(page.get_by_role("textbox", name="Reply")).to_have_value("")

    panel = page.get_by_role("complementary", name="Customer")
    expect(panel.get_by_role("heading", name="Rita Reboot")).to_be_visible()
    timeline = panel.get_by_role("feed", name="Timeline").or_(panel.get_by_role("list", name="Timeline"))
    expect(timeline).to_contain_text(text)

    stored = setup.get(f"/cases/{case['id']}")["interactions"]
    replies = [i for i in stored if i["text"] == text]
    assert len(replies) == 1 and replies[0]["channel"] == "chat" and replies[0]["direction"] == "outbound"


def test_an_internal_note_is_labelled_and_kept_from_the_customer(page: Page, api_as) -> None:
    setup = api_as(SUPERVISOR)
    case = setup.open_case(subject="Invoice address wrong")
    sign_in(page, AGENT)
    page.goto(f"/desk/cases/{case['id']}")
    note = f"Checked with billing, fix tomorrow ({uuid.uuid4().hex[:6]})."
    page.get_by_role("textbox", name="Internal note").fill(note)
    page.get_by_role("button", name="Add note").click()
    item = page.get_by_role("list", name="Conversation").get_by_role("listitem").filter(has_text=note)
    expect(item).to_contain_text("Internal note")
    stored = [i for i in setup.get(f"/cases/{case['id']}")["interactions"] if i["text"] == note]
    assert stored and stored[0]["visibility"] == "internal"
