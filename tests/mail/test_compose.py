"""mail/compose.py: the reply's headers, parts and templates, read back with the stdlib parser and with our
own inbound parser (what a customer's reply to it will be threaded by)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from importlib import resources

import pytest
from caseline.mail import find_thread, parse_message
from caseline.mail.compose import (
    LOCALES,
    MAX_REFERENCES,
    FilePart,
    Mailbox,
    Reply,
    compose_reply,
    pick_locale,
    reply_subject,
)

CASE, INTERACTION = "01J9ZCASE0000000000000000A", "01J9ZMSG00000000000000000B"


def _reply(**changes) -> Reply:
    return Reply(**{"case_id": CASE, "case_number": 10234, "case_subject": "Printer stops",
                    "interaction_id": INTERACTION, "text": "Hello", "sent_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                    "support_address": "support@acme.example", "to": Mailbox("jo@customer.example", "Jo"),
                    **changes})


def _parsed(reply: Reply):
    return email.message_from_bytes(compose_reply(reply).raw, policy=email.policy.default)


@pytest.mark.parametrize(("subject", "answering", "expected"), [
    ("Printer stops", False, "Printer stops [#10234]"),
    ("Printer stops", True, "Re: Printer stops [#10234]"),
    ("RE: Re: AW: Printer stops", True, "Re: Printer stops [#10234]"),
    ("Re: Printer stops [#10234]", True, "Re: Printer stops [#10234]"),
    ("Re:", True, "Re: Re: [#10234]"),
])
def test_reply_subject_has_one_re_and_one_token(subject, answering, expected) -> None:
    assert reply_subject(subject, 10234, answering=answering) == expected


def test_a_customers_reply_to_our_message_threads_back_to_the_case_and_interaction() -> None:
    sent = compose_reply(_reply(in_reply_to=("m1@customer.example",)))
    customer_reply = (b"From: Jo <jo@customer.example>\r\nTo: support+c10234@acme.example\r\n"
                      b"Subject: Re: Printer stops [#10234]\r\nMessage-ID: <m2@customer.example>\r\n"
                      b"In-Reply-To: " + sent.message_id.encode() + b"\r\n\r\nStill broken\r\n")
    hint = find_thread(parse_message(customer_reply), ["acme.example"])
    assert (hint.case_id, hint.interaction_id) == (CASE, INTERACTION)


def test_references_keep_the_first_and_newest_and_drop_junk() -> None:
    chain = tuple(f"m{i}@customer.example" for i in range(40))
    parsed = _parsed(_reply(in_reply_to=("<m40@customer.example>",), references=(*chain, "bad id", "<>")))
    refs = parsed["References"].split()
    assert len(refs) == MAX_REFERENCES
    assert refs[0] == "<m0@customer.example>" and refs[-1] == "<m40@customer.example>"
    assert parsed["In-Reply-To"] == "<m40@customer.example>"


def test_display_names_cannot_inject_headers() -> None:
    parsed = _parsed(_reply(to=Mailbox("jo@customer.example", "Jo\r\nBcc: victim@evil.example"),
                            author_name="Ada\nX-Evil: 1"))
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["To"].addresses[0].addr_spec == "jo@customer.example"


def test_html_part_is_the_escaped_text_in_paragraphs() -> None:
    parsed = _parsed(_reply(text="<script>alert(1)</script>\n\nline one\nline two"))
    html = parsed.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<p>line one<br>line two</p>" in html


def test_attachments_keep_name_type_and_bytes() -> None:
    data = bytes(range(256))
    parsed = _parsed(_reply(attachments=(FilePart("Größe.bin", "application/octet-stream", data),
                                         FilePart("noext", "bogus", b"x"))))
    first, second = parsed.iter_attachments()
    assert (first.get_filename(), first.get_content()) == ("Größe.bin", data)
    assert second.get_content_type() == "application/octet-stream"
    assert "Größe.bin" in parsed.get_body(("plain",)).get_content()


def test_cc_goes_to_the_envelope_once() -> None:
    sent = compose_reply(_reply(cc=(Mailbox("ann@customer.example"), Mailbox("JO@customer.example"))))
    assert sent.recipients == ("jo@customer.example", "ann@customer.example")


@pytest.mark.parametrize(("candidates", "expected"), [
    (("de-AT",), "de"), (("fr", "es"), "es"), ((None, "pt"), "en"), (("ES",), "es")])
def test_pick_locale(candidates, expected) -> None:
    assert pick_locale(*candidates) == expected


def test_every_locale_has_the_same_template_keys_and_names_the_case() -> None:
    keys = None
    for locale in LOCALES:
        words = json.loads(resources.files("caseline.mail").joinpath("templates", f"{locale}.json").read_text())
        keys = keys or set(words)
        assert set(words) == keys
        assert all("$case_number" in words[k] for k in ("header", "footer")) and "$token" in words["footer"]
        parsed = _parsed(_reply(locale=locale))
        assert parsed["Content-Language"] == locale
        assert "#10234" in parsed.get_body(("plain",)).get_content()
