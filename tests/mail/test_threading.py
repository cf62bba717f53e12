"""Our identifiers on outgoing mail, read back from replies; the case is never guessed from subject text."""

from __future__ import annotations

import pytest
from caseline.mail import Address, ParsedMessage
from caseline.mail.threading import (
    OurMessageId,
    ThreadHint,
    ThreadSource,
    find_subject_token,
    find_thread,
    make_message_id,
    read_message_id,
    read_reply_address,
    reply_address,
    subject_token,
    with_subject_token,
)

from .conftest import CASE_ID, INTERACTION_ID, OURS, parsed


def test_message_id_format_round_trips() -> None:
    made = make_message_id(CASE_ID, INTERACTION_ID, "Help.Example.com")
    assert made == f"<case-{CASE_ID}.{INTERACTION_ID}@help.example.com>"
    assert read_message_id(made, [OURS]) == OurMessageId(case_id=CASE_ID, interaction_id=INTERACTION_ID, domain=OURS)
    assert read_message_id(made.strip("<>"), ["HELP.EXAMPLE.COM"]) is not None


@pytest.mark.parametrize(
    "value",
    [
        f"<case-{CASE_ID}.{INTERACTION_ID}@evil.example.net>",  # not our domain
        f"<case-{CASE_ID}@{OURS}>",  # no interaction id
        f"<ticket-{CASE_ID}.{INTERACTION_ID}@{OURS}>",
        f"<xcase-{CASE_ID}.{INTERACTION_ID}@{OURS}>",
        "",
    ],
)
def test_other_message_ids_are_not_ours(value: str) -> None:
    assert read_message_id(value, [OURS]) is None


def test_make_message_id_rejects_what_would_break_the_header() -> None:
    with pytest.raises(ValueError):
        make_message_id("abc>def", INTERACTION_ID, OURS)
    with pytest.raises(ValueError):
        make_message_id(CASE_ID, INTERACTION_ID, "a@b")


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: Printer [#10234]", 10234),
        ("[#10234] Printer", 10234),
        ("Re:[#7] x", 7),
        ("AW: WG: Printer ([#10234])", 10234),
        ("Printer [#10234] and [#99]", 10234),
        ("order#[#10234]", None),  # inside another word
        ("abc[#10234]def", None),
        ("Printer #10234", None),  # the bare number is no token
        ("Printer [# 10234]", None),
        ("Printer [[#10234]]", None),
        ("Printer stops after two pages", None),
    ],
)
def test_subject_token(subject: str, number: int | None) -> None:
    assert find_subject_token(subject) == number


def test_subject_token_is_added_once() -> None:
    assert subject_token(10234) == "[#10234]"
    assert with_subject_token("Printer", 10234) == "Printer [#10234]"
    assert with_subject_token("Re: Printer [#10234]", 10234) == "Re: Printer [#10234]"


def test_plus_addresses() -> None:
    assert reply_address(f"support@{OURS}", 10234) == f"support+c10234@{OURS}"
    assert reply_address(f"support+old@{OURS}", 5) == f"support+c5@{OURS}"
    assert read_reply_address(f"support+c10234@{OURS}", [OURS]) == 10234
    assert read_reply_address("Support+C10234@HELP.example.com", [OURS]) == 10234
    assert read_reply_address("support+c10234@example.net", [OURS]) is None
    assert read_reply_address(f"support+x10234@{OURS}", [OURS]) is None
    assert read_reply_address(f"support@{OURS}", [OURS]) is None
    with pytest.raises(ValueError):
        reply_address("not-an-address", 1)


def test_replies_are_threaded_by_our_message_id_first() -> None:
    for name in ("reply_gmail.eml", "reply_outlook.eml", "reply_apple_mail.eml", "reply_thunderbird.eml"):
        assert find_thread(parsed(name), [OURS]) == ThreadHint(
            case_id=CASE_ID, interaction_id=INTERACTION_ID, source=ThreadSource.MESSAGE_ID
        ), name


def test_the_newest_of_our_references_wins_when_in_reply_to_is_foreign() -> None:
    message = ParsedMessage(
        in_reply_to="someone-else@example.org",
        references=[f"case-{CASE_ID}.01JC2Q0000000000000000000A@{OURS}", f"case-{CASE_ID}.{INTERACTION_ID}@{OURS}"],
        subject="Re: [#1] wrong token",
    )
    hint = find_thread(message, [OURS])
    assert (hint.case_id, hint.interaction_id, hint.source) == (CASE_ID, INTERACTION_ID, ThreadSource.MESSAGE_ID)


def test_plus_address_then_subject_token() -> None:
    assert find_thread(parsed("plus_address.eml"), [OURS]) == ThreadHint(
        case_number=10234, source=ThreadSource.PLUS_ADDRESS
    )
    assert find_thread(parsed("ooo_german.eml"), [OURS]) == ThreadHint(
        case_number=10234, source=ThreadSource.SUBJECT_TOKEN
    )
    bcc = ParsedMessage(subject="Re: [#5] hello", to=[Address(address="someone@example.org")])
    hint = find_thread(bcc, [OURS], envelope_recipients=[f"support+c77@{OURS}"])
    assert (hint.case_number, hint.source) == (77, ThreadSource.PLUS_ADDRESS)


def test_a_message_without_our_identifiers_has_no_thread() -> None:
    # Same subject text as an existing case, but no id, token or plus address: a new case.
    hint = find_thread(parsed("plain_utf8.eml"), [OURS])
    assert hint == ThreadHint() and not hint.found
    foreign = find_thread(parsed("reply_gmail.eml"), ["another.example.com"])
    assert (foreign.source, foreign.case_number) == (ThreadSource.SUBJECT_TOKEN, 10234)
