"""classify over the test messages: kinds, reasons, failed recipients and ties back to our notifications."""

from __future__ import annotations

import pytest
from caseline.mail import HeaderField, ParsedMessage, parse_message
from caseline.mail.classify import Classification, MessageKind, Recipient, classify
from caseline.mail.threading import OurMessageId

from .conftest import CASE_ID, INTERACTION_ID, OUR_MESSAGE_ID, OURS, parsed

OUR_NOTIFICATION = OurMessageId(case_id=CASE_ID, interaction_id=INTERACTION_ID, domain=OURS)


def kind_of(name: str) -> Classification:
    return classify(parsed(name), [OURS], [f"support@{OURS}"])


@pytest.mark.parametrize(
    "name",
    [
        "plain_utf8.eml",
        "alternative.eml",
        "html_only.eml",
        "reply_gmail.eml",
        "reply_outlook.eml",
        "reply_apple_mail.eml",
        "reply_thunderbird.eml",
        "charset_gb2312.eml",
        "normal_mentions_bounce_words.eml",
        "outlook_msg_body.eml",
    ],
)
def test_people_writing_are_normal(name: str) -> None:
    result = kind_of(name)
    assert result.kind is MessageKind.NORMAL
    assert not result.automated and not result.from_us
    assert result.bounce is None and result.receipt is None and result.abuse is None


def test_out_of_office_with_auto_submitted() -> None:
    result = kind_of("ooo_auto_submitted.eml")
    assert result.kind is MessageKind.AUTO_REPLY and result.automated
    assert result.reasons == [
        "Auto-Submitted: auto-replied",
        "auto-reply subject 'Out of Office: Re: Printer stops after two pages [#10234]'",
    ]


def test_exchange_automatic_reply_without_auto_submitted() -> None:
    result = kind_of("ooo_exchange.eml")
    assert result.kind is MessageKind.AUTO_REPLY
    assert result.reasons == ["auto-reply subject 'Automatic reply: Printer stops after two pages [#10234]'"]


def test_auto_response_suppress_with_an_out_of_office_subject() -> None:
    result = kind_of("ooo_suppress_only.eml")
    assert result.kind is MessageKind.AUTO_REPLY
    assert result.reasons == ["X-Auto-Response-Suppress with an out-of-office subject"]


@pytest.mark.parametrize("name", ["ooo_german.eml", "ooo_spanish.eml"])
def test_out_of_office_subjects_in_other_languages(name: str) -> None:
    assert kind_of(name).kind is MessageKind.AUTO_REPLY


def test_autoresponder_headers_and_precedence() -> None:
    result = kind_of("autoresponder_precedence.eml")
    assert result.kind is MessageKind.AUTO_REPLY
    assert result.reasons == ["x-autoreply header", "Precedence: bulk"]


def with_headers(message: ParsedMessage, **headers: str) -> ParsedMessage:
    extra = [HeaderField(name=name.replace("_", "-"), value=value) for name, value in headers.items()]
    return message.model_copy(update={"headers": [*message.headers, *extra]})


def test_auto_submitted_no_is_a_person() -> None:
    assert classify(with_headers(parsed("plain_utf8.eml"), Auto_Submitted="no")).kind is MessageKind.NORMAL


def test_list_mail_is_normal_but_automated() -> None:
    listed = with_headers(parsed("plain_utf8.eml"), List_Id="<users.example.org>")
    result = classify(listed)
    assert (result.kind, result.automated, result.reasons) == (MessageKind.NORMAL, True, ["list-id header"])
    auto = classify(with_headers(listed, X_Auto_Response_Suppress="All"))
    assert auto.kind is MessageKind.AUTO_REPLY
    assert auto.reasons == ["List-Id with an auto-response header"]


def test_postfix_dsn_of_our_notification() -> None:
    result = kind_of("bounce_postfix.eml")
    assert result.kind is MessageKind.BOUNCE and result.automated
    bounce = result.bounce
    assert bounce is not None and bounce.from_dsn and bounce.permanent
    assert bounce.reporting_mta == "mx.help.example.com"
    assert bounce.recipients == [
        Recipient(
            address="gone@example.org",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown",
        )
    ]
    assert bounce.failed_addresses == ["gone@example.org"]
    assert bounce.original_message_id == OUR_MESSAGE_ID
    assert bounce.our_message == OUR_NOTIFICATION


def test_exim_plain_text_bounce_without_dsn() -> None:
    result = kind_of("bounce_exim.eml")
    assert result.kind is MessageKind.BOUNCE
    assert result.reasons == [
        "sender Mailer-Daemon@mail.example.org is a mail system",
        "null Return-Path",
        "bounce subject 'Mail delivery failed: returning message to sender'",
        "bounce wording 'A message that you sent could not be delivered'",
    ]
    bounce = result.bounce
    assert bounce is not None and not bounce.from_dsn
    assert bounce.recipients == [
        Recipient(address="gone@example.org", action="failed", status="5.1.1", diagnostic="550 5.1.1 No such user here")
    ]
    assert bounce.our_message == OUR_NOTIFICATION


def test_exchange_bounce_with_the_returned_message_attached() -> None:
    bounce = kind_of("bounce_exchange.eml").bounce
    assert bounce is not None
    assert [(r.address, r.action, r.status) for r in bounce.recipients] == [("gone@example.org", "failed", "5.1.10")]
    assert bounce.reporting_mta == "EX1.example.org"
    assert bounce.our_message == OUR_NOTIFICATION


def test_gmail_bounce() -> None:
    bounce = kind_of("bounce_gmail.eml").bounce
    assert bounce is not None
    assert bounce.recipients == [
        Recipient(
            address="nobody.here@example.com",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 The email account that you tried to reach does not exist.",
        )
    ]
    assert bounce.our_message == OUR_NOTIFICATION


def test_ses_bounce_with_fields_out_of_order() -> None:
    bounce = kind_of("bounce_ses.eml").bounce
    assert bounce is not None
    assert bounce.recipients == [
        Recipient(address="full-box@example.org", action="failed", status="5.2.2", diagnostic="552 5.2.2 Mailbox full")
    ]
    assert bounce.reporting_mta == "a1-2.smtp-out.eu-west-1.amazonses.com"
    assert bounce.our_message == OUR_NOTIFICATION


def test_dsn_with_broken_mime_is_still_read() -> None:
    result = kind_of("bounce_broken_dsn.eml")
    assert result.kind is MessageKind.BOUNCE
    bounce = result.bounce
    assert bounce is not None
    assert bounce.recipients == [Recipient(address="gone@example.org", action="failed", status="5.1.1")]
    assert bounce.reporting_mta == "mail.example.org"
    assert bounce.our_message == OUR_NOTIFICATION


def test_sendmail_plain_text_bounce() -> None:
    bounce = kind_of("bounce_plain_sendmail.eml").bounce
    assert bounce is not None and not bounce.from_dsn
    assert bounce.failed_addresses == ["left.company@example.net"]
    assert bounce.recipients[0].status == "5.1.1"
    assert bounce.our_message == OUR_NOTIFICATION


def test_a_delay_report_is_a_bounce_but_not_permanent() -> None:
    bounce = kind_of("bounce_delayed.eml").bounce
    assert bounce is not None
    assert bounce.recipients == [Recipient(address="slow@example.org", action="delayed", status="4.4.7")]
    assert not bounce.permanent
    assert bounce.failed_addresses == []


def test_a_bounce_of_mail_we_did_not_send_has_no_tie() -> None:
    bounce = classify(parsed("bounce_postfix.eml"), ["other.example.com"]).bounce
    assert bounce is not None
    assert bounce.original_message_id == OUR_MESSAGE_ID
    assert bounce.our_message is None


def test_read_receipt() -> None:
    result = kind_of("mdn.eml")
    assert result.kind is MessageKind.READ_RECEIPT and result.automated
    receipt = result.receipt
    assert receipt is not None
    assert receipt.disposition == "manual-action/MDN-sent-manually; displayed"
    assert receipt.final_recipient == "ann@example.org"
    assert receipt.original_message_id == OUR_MESSAGE_ID
    assert receipt.our_message == OUR_NOTIFICATION


def test_abuse_report() -> None:
    result = kind_of("arf.eml")
    assert result.kind is MessageKind.ABUSE_REPORT
    abuse = result.abuse
    assert abuse is not None
    assert abuse.feedback_type == "abuse"
    assert abuse.user_agent == "ExampleFBL/1.0"
    assert abuse.original_mail_from == f"bounces@{OURS}"
    assert abuse.original_rcpt_to == ["complainer@example.net"]
    assert abuse.reported_domain == OURS
    assert abuse.our_message == OUR_NOTIFICATION


def test_mail_from_our_own_addresses_is_flagged() -> None:
    assert kind_of("from_us_loop.eml").from_us
    assert classify(parsed("from_us_loop.eml"), [], [f"support@{OURS}"]).from_us
    assert classify(parsed("from_us_loop.eml"), ["example.org"]).from_us is False
    # A display name that merely looks like our address is not us.
    assert kind_of("tricky_names.eml").from_us is False


def test_bounce_wording_from_a_person_is_not_a_bounce() -> None:
    result = kind_of("normal_mentions_bounce_words.eml")
    assert result.kind is MessageKind.NORMAL


@pytest.mark.parametrize(
    ("name", "failed", "status", "tied"),
    [
        ("bounce_postfix.eml", "gone@example.org", "5.1.1", False),  # its returned headers were in the report
        ("bounce_exchange.eml", "gone@example.org", "5.1.10", True),
        ("bounce_gmail.eml", "nobody.here@example.com", "5.1.1", True),
        ("bounce_ses.eml", "full-box@example.org", None, True),
    ],
)
def test_text_heuristics_alone_recognise_each_mail_system(
    name: str, failed: str, status: str | None, tied: bool
) -> None:
    without_dsn = parsed(name).model_copy(update={"report": None, "content_type": "multipart/mixed"})
    result = classify(without_dsn, [OURS])
    assert result.kind is MessageKind.BOUNCE
    bounce = result.bounce
    assert bounce is not None and not bounce.from_dsn
    assert bounce.failed_addresses == [failed]
    assert bounce.recipients[0].status == status
    assert (bounce.our_message == OUR_NOTIFICATION) is tied


def test_a_plain_text_read_receipt_without_an_mdn_part() -> None:
    raw = (
        "From: Ann Example <ann@example.org>\nTo: support@help.example.com\n"
        f"Subject: Read: Your case #10234 was updated\nIn-Reply-To: <{OUR_MESSAGE_ID}>\n\n"
        "Your message\n\n  Subject: Your case #10234 was updated\n\nwas read on Monday, 2 November 2026 10:20.\n"
    ).encode()
    result = classify(parse_message(raw), [OURS])
    assert result.kind is MessageKind.READ_RECEIPT
    assert result.receipt is not None and result.receipt.our_message == OUR_NOTIFICATION
    # "Read:" alone is a person's subject line.
    person = parse_message(b"From: a@example.org\nSubject: Read: chapter 3 is missing\n\nThe book has no chapter 3.")
    assert classify(person, [OURS]).kind is MessageKind.NORMAL
