# ruff: noqa: RUF001 - expected texts hold typographic dashes and quotes on purpose
"""parse_message over the test messages: every decoded field asserted exactly."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from caseline.mail import Address, parse_message

from .conftest import OUR_MESSAGE_ID, OURS, parsed
from .messages import generate

CET = timezone(timedelta(hours=1))
SUPPORT = Address(address=f"support@{OURS}", name="Caseline Support")
ANN = Address(address="ann@example.org", name="Ann Example")


def test_plain_utf8_message_with_crlf_line_ends() -> None:
    m = parsed("plain_utf8.eml")
    assert m.subject == "Printer stops after two pages"
    assert m.sender == ANN
    assert m.to == [SUPPORT]
    assert m.cc == [] and m.reply_to == []
    assert m.date == datetime(2026, 11, 2, 10, 15, tzinfo=CET)
    assert m.message_id == "m1.20261102@mail.example.org"
    assert m.in_reply_to is None and m.references == []
    assert m.content_type == "text/plain"
    assert m.text == "Hello,\n\nmy printer stops after two pages. Grüße from Köln!\n\nAnn"
    assert m.html is None and not m.text_from_html
    assert m.attachments == [] and m.defects == []
    assert m.size == len(generate.MESSAGES["plain_utf8.eml"])


def test_multipart_alternative_prefers_the_text_part_and_keeps_sanitised_html() -> None:
    m = parsed("alternative.eml")
    assert m.text == (
        "Why was I charged 19,99 € twice? This line is long enough that quoted-printable has to wrap it with a "
        "soft line break somewhere in the middle."
    )
    assert not m.text_from_html
    assert m.html == "<p>Why was I charged <b>19,99 €</b> twice?</p>"
    assert m.defects == []


def test_html_only_message_is_rendered_to_text_and_sanitised() -> None:
    m = parsed("html_only.eml")
    assert m.text_from_html
    assert m.text == (
        "Hello,\nthe export fails with error 42.\n\n"
        "status page <https://status.example.org/incident/7> and this.\n\n[Logo]\n- Chrome\n- Firefox"
    )
    html = m.html or ""
    for forbidden in ("<script", "onload", "onclick", "javascript:", "<iframe", "<form", "<input", "url(", "<style"):
        assert forbidden not in html.lower(), forbidden
    assert '<img data-remote-src="https://tracker.example.net/open.gif?u=ann" width="1" height="1" alt="">' in html
    assert '<img src="cid:logo@example.org" alt="Logo">' in html
    assert '<p style="color:#333">' in html
    assert 'href="https://status.example.org/incident/7"' in html


def test_inline_image_and_pdf_attachment() -> None:
    m = parsed("inline_image_and_pdf.eml")
    assert m.text == "See the printout below and the attached order.\n\n[image: printout.png]"
    assert m.html == (
        '<div>See the printout below and the attached order.<br><img src="cid:printout@example.org" '
        'alt="printout"></div>'
    )
    image, order = m.attachments
    assert (image.filename, image.content_type, image.content_id, image.inline) == (
        "printout.png",
        "image/png",
        "printout@example.org",
        True,
    )
    assert image.data == generate.png()
    assert image.size == len(generate.png())
    assert image.sha256 == hashlib.sha256(generate.png()).hexdigest()
    assert (order.filename, order.content_type, order.content_id, order.inline) == (
        "order-5512.pdf",
        "application/pdf",
        None,
        False,
    )
    assert order.data == generate.pdf()


def test_attached_messages_are_kept_as_eml_files() -> None:
    m = parsed("attached_message.eml")
    assert m.text == "Is this mail really from you? It is attached."
    assert [(a.filename, a.content_type, a.inline) for a in m.attachments] == [
        ("Your payment failed.eml", "message/rfc822", False),
        ("original.eml", "message/rfc822", False),
    ]
    assert m.attached_messages == m.attachments
    inner = parse_message(m.attachments[0].data)
    assert inner.subject == "Your payment failed"
    assert inner.message_id == "pay-77@example.net"
    assert inner.text == "We could not charge your card."
    assert parse_message(m.attachments[1].data).message_id == "pay-78@example.net"


def test_file_names_rfc2231_split_mislabelled_encoded_words_8bit_and_paths() -> None:
    m = parsed("filenames.eml")
    assert [(a.filename, a.content_type) for a in m.attachments] == [
        ("Rechnung März 2026.pdf", "application/pdf"),
        ("Übersicht.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        # Declared application/octet-stream: the type comes from the name.
        ("報告書.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("Café menu.txt", "text/plain"),
        ("evil.bat", "application/x-bat"),
    ]
    assert m.attachments[0].data == generate.pdf()
    assert m.attachments[3].data == b"menu"
    assert m.text == "Five files attached."
    assert m.defects == [
        "file name: text declared as iso-8859-1 is UTF-8",
        "file name written as RFC 2047 encoded words inside a quoted parameter",
        "raw 8-bit bytes in content-disposition filename",
        "file name '..\\\\..\\\\Windows\\\\evil.bat' cleaned to 'evil.bat'",
    ]


def test_charsets() -> None:
    expected = {
        "charset_iso8859_1.eml": ("Latin-1", "Grüße aus Köln, café crème."),
        "charset_windows1252.eml": ("Windows-1252", "“Smart quotes” cost 5 € – really…"),
        "charset_iso2022jp.eml": ("お問い合わせ", "注文が届きません。"),
        "charset_shift_jis.eml": ("請求書", "請求書を再送してください。"),
        "charset_gb2312.eml": ("退款", "王喆：我的订单还没有到。"),
        "charset_euc_kr.eml": ("환불", "주문이 아직 도착하지 않았습니다."),
    }
    for name, (subject, text) in expected.items():
        m = parsed(name)
        assert (m.subject, m.text, m.defects) == (subject, text, []), name


def test_unknown_and_mislabelled_charsets_fall_back_and_say_so() -> None:
    unknown = parsed("charset_unknown.eml")
    assert unknown.text == "Qapla’ – success"
    assert unknown.defects == ["text/plain part: unknown charset 'x-klingon'; decoded as UTF-8"]
    mislabelled = parsed("charset_mislabelled.eml")
    assert mislabelled.text == "Grüße – schön"
    assert mislabelled.defects == ["text/plain part: text declared as iso-8859-1 is UTF-8"]
    broken = parsed("charset_utf8_with_cp1252.eml")
    assert broken.text == "Preis: 5 € netto"
    assert broken.defects == ["text/plain part: text is not valid utf-8; decoded as windows-1252"]


def test_rfc2047_subject_and_display_name() -> None:
    m = parsed("subject_rfc2047.eml")
    # The first two words split the bytes of "é"; whitespace between adjacent words is dropped.
    assert m.subject == "Résumé de la réclamation ✓ done"
    assert m.sender == Address(address="bjork@example.org", name="Björk Guðmundsdóttir")
    assert m.defects == []


def test_bom_and_mbox_from_line_before_the_headers() -> None:
    both = parsed("bom_and_mbox.eml")
    assert (both.subject, both.sender, both.text) == (
        "Exported from a mailbox file",
        Address(address="ann@example.org"),
        "Body after a BOM and an mbox From line.",
    )
    assert both.defects == [
        "UTF-8 byte order mark before the first header",
        "mbox 'From ' line before the first header",
    ]
    assert parsed("bom.eml").subject == "BOM first"
    assert parsed("bom.eml").defects == ["UTF-8 byte order mark before the first header"]
    assert parsed("mbox_from_line.eml").to == [Address(address=f"support@{OURS}")]


def test_raw_8bit_headers() -> None:
    utf8 = parsed("headers_8bit_utf8.eml")
    assert utf8.subject == "Größe der Lieferung – falsch"
    assert utf8.sender == Address(address="juergen@example.de", name="Jürgen Müller")
    assert utf8.to == [Address(address="soren@example.dk", name="Søren"), Address(address=f"support@{OURS}")]
    assert utf8.text == "Die Lieferung hat die falsche Größe."
    assert utf8.defects == [
        "raw 8-bit bytes in From header",
        "raw 8-bit bytes in To header",
        "raw 8-bit bytes in Subject header",
    ]
    latin1 = parsed("headers_8bit_latin1.eml")
    assert latin1.subject == "Réclamation reçue"
    assert latin1.sender == Address(address="rene@example.fr", name="René")


def test_huge_headers_are_read_and_references_capped() -> None:
    m = parsed("huge_header.eml")
    assert m.subject == "Huge headers" and m.text == "Small body."
    tracking = m.header("x-tracking-data") or ""
    assert len(tracking) > 200_000
    assert len(m.references) == 100
    assert m.references[0] == "r0@list.example.org"
    assert m.references[-1] == OUR_MESSAGE_ID
    assert "References header lists 3001 ids; the first and the last ones kept" in m.defects
    assert any(d.startswith("oversized X-Tracking-Data header") for d in m.defects)


def test_very_long_to_list() -> None:
    m = parsed("long_to_list.eml")
    assert len(m.to) == 2000
    assert m.to[0] == Address(address="person0@example.org", name="Person 0")
    assert m.to[1999] == Address(address="person1999@example.org", name="Person 1999")
    assert m.cc == [Address(address=f"support@{OURS}")]


def test_tricky_display_names_keep_the_angle_addr_as_the_address() -> None:
    m = parsed("tricky_names.eml")
    assert m.sender == Address(address="mallory@example.net", name=f"support@{OURS}")
    assert m.to == [
        Address(address="john@example.org", name="John Smith john@evil.example.net"),
        Address(address="jane@example.org", name="Doe, Jane"),
        Address(address="hans@example.org", name="Müller, Hans"),
        Address(address="bob@example.org", name="Bob Builder"),
        Address(address="carol@example.org"),
        Address(address="dave@example.org"),
        Address(address="eve@example.org", name="Eve"),
    ]
    assert m.cc == [Address(address="q@example.org", name='Quote "Q" Person')]
    assert m.reply_to == [Address(address="replies@example.org")]
    assert m.defects == ["To header: address without angle brackets after a display name"]


def test_non_mime_8bit_body() -> None:
    m = parsed("non_mime_latin1.eml")
    assert m.content_type == "text/plain"
    assert m.text == "Straße und Plätze, 8-bit without any MIME header."
    assert m.defects == ["text/plain part: text is not valid us-ascii; decoded as windows-1252"]


def test_outlook_msg_blob_as_non_mime_body_becomes_an_attachment() -> None:
    m = parsed("outlook_msg_body.eml")
    assert m.text == ""
    [blob] = m.attachments
    assert (blob.filename, blob.content_type) == ("message.msg", "application/vnd.ms-outlook")
    assert blob.data.startswith(b"\xd0\xcf\x11\xe0")
    assert m.defects == ["binary data in a text/plain body; kept as an attachment"]


def test_reply_headers() -> None:
    m = parsed("reply_outlook.eml")
    assert m.in_reply_to == OUR_MESSAGE_ID
    assert m.references == [f"case-{generate.CASE_ID}.01JC2Q0000000000000000000A@{OURS}", OUR_MESSAGE_ID]
    assert m.subject == "RE: Printer stops after two pages [#10234]"
    assert m.text.startswith("It still stops – after three pages now.\n\nRegards,")


def test_delivery_status_report_parts() -> None:
    m = parsed("bounce_postfix.eml")
    assert m.content_type == "multipart/report"
    assert m.report is not None
    assert m.report.report_type == "delivery-status"
    assert m.report.content_type == "message/delivery-status"
    per_message, per_recipient = m.report.fields
    assert (per_message[0].name, per_message[0].value) == ("Reporting-MTA", "dns; mx.help.example.com")
    assert [(f.name, f.value) for f in per_recipient][:4] == [
        ("Final-Recipient", "rfc822; gone@example.org"),
        ("Original-Recipient", "rfc822;gone@example.org"),
        ("Action", "failed"),
        ("Status", "5.1.1"),
    ]
    returned = {f.name: f.value for f in m.report.returned_headers}
    assert returned["Message-ID"] == f"<{OUR_MESSAGE_ID}>"
    assert m.text.startswith("This is the mail system at host mx.help.example.com.")


def test_a_date_without_zone_is_utc_and_a_bad_date_is_none() -> None:
    m = parse_message(b"From: a@example.org\nDate: Mon, 02 Nov 2026 10:15:00 -0000\n\nx")
    assert m.date == datetime(2026, 11, 2, 10, 15, tzinfo=UTC)
    bad = parse_message(b"From: a@example.org\nDate: yesterday-ish\n\nx")
    assert bad.date is None
    assert bad.defects == ["Date header unparseable: 'yesterday-ish'"]


def test_message_ids_are_kept_without_brackets_and_bare_ones_accepted() -> None:
    m = parse_message(
        b"Message-ID: bare-id@example.org\nIn-Reply-To: <a@x> <b@x>\nReferences: <r1@x>\n\tjunk <r2@x>\n\nx"
    )
    assert m.message_id == "bare-id@example.org"
    assert m.in_reply_to == "a@x"
    assert m.references == ["r1@x", "r2@x"]
    assert "Message-ID header: message id without angle brackets" in m.defects


def test_headers_are_kept_decoded_in_order() -> None:
    m = parsed("ooo_exchange.eml")
    assert m.header("X-Auto-Response-Suppress") == "All"
    assert m.header("x-auto-response-suppress") == "All"
    assert m.header_values("References") == [
        f"<case-{generate.CASE_ID}.01JC2Q0000000000000000000A@{OURS}> <{OUR_MESSAGE_ID}>"
    ]
    assert m.headers[0].name == "From"


def test_empty_and_header_only_input() -> None:
    assert parse_message(b"").text == ""
    only = parse_message(b"Subject: =?utf-8?q?hi?=\r\n")
    assert only.subject == "hi"
    assert only.text == ""


def test_the_parsed_message_round_trips_through_json() -> None:
    m = parsed("inline_image_and_pdf.eml")
    again = type(m).model_validate_json(m.model_dump_json())
    assert again == m


def test_a_tree_the_default_policy_cannot_walk_is_read_again_with_compat32(monkeypatch) -> None:
    from email import policy

    from caseline.mail import parse as parse_module

    real_walk = parse_module._Body.walk

    def walk_failing_on_default_policy(self, part, depth):
        if part.policy is not policy.compat32:
            raise ValueError("header the default policy cannot parse")
        return real_walk(self, part, depth)

    monkeypatch.setattr(parse_module._Body, "walk", walk_failing_on_default_policy)
    m = parsed("inline_image_and_pdf.eml")
    assert m.text == "See the printout below and the attached order.\n\n[image: printout.png]"
    assert [a.filename for a in m.attachments] == ["printout.png", "order-5512.pdf"]
    assert m.defects == ["MIME read with compat32 after ValueError"]


def test_a_message_nothing_can_be_made_of_still_comes_back(monkeypatch) -> None:
    from caseline.mail import parse as parse_module

    def broken(raw: bytes):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(parse_module, "_parse", broken)
    raw = b"From: a@example.org\n\nx"
    m = parse_message(raw)
    assert m.size == len(raw)
    assert m.defects == ["message unreadable: RecursionError: maximum recursion depth exceeded"]


def test_broken_base64_and_qp_bodies_decode_what_they_can() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: base64\n\nSGVsbG8gd29ybGQ\n--b\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n\nsoft=\nbreak =C3=A9 =ZZ\n--b--\n"
    )
    m = parse_message(raw)
    assert m.text == "Hello world\nsoftbreak é =ZZ"
    assert "InvalidBase64PaddingDefect" in " ".join(m.defects)


def test_deeply_nested_multiparts_stop_at_a_limit() -> None:
    depth = 60
    head = b"".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n".encode() for i in range(depth))
    raw = head + b"Content-Type: text/plain\n\ndeep\n"
    m = parse_message(raw)
    assert "MIME parts nested deeper than 40; the rest ignored" in m.defects
    assert m.text == ""


def test_format_flowed_text_is_unflowed() -> None:
    raw = (
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=no\n\n"
        b"This paragraph was wrapped by the \nsender's client at a \nspace.\n\n"
        b"> A quoted line that also \n> wraps.\n>> Deeper.\n \n-- \nAnn\n"
    )
    assert parse_message(raw).text == (
        "This paragraph was wrapped by the sender's client at a space.\n\n"
        "> A quoted line that also wraps.\n> > Deeper.\n\n-- \nAnn"
    )
    delsp = b"Content-Type: text/plain; format=flowed; delsp=yes\n\nLong word split: Donau \ndampf \nschiff\n"
    assert parse_message(delsp).text == "Long word split: Donaudampfschiff"


def test_parsed_headers_are_reused_and_read_as_the_default_policy_reads_them() -> None:
    from email import policy
    from email.parser import BytesParser

    from caseline.mail import parse as parse_module

    raw = (b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n"
           b"Content-Type: text/plain; charset=\"iso-8859-1\"; format=flowed\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 \r\nau lait\r\n--b1\r\n"
           b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Caf\xc3\xa9</p>\r\n--b1--\r\n")
    reusing = BytesParser(policy=parse_module._DEFAULT).parsebytes(raw)
    default = BytesParser(policy=policy.default).parsebytes(raw)
    for mine, theirs in zip(reusing.walk(), default.walk(), strict=True):
        assert mine.get_content_type() == theirs.get_content_type()
        assert mine.get_params() == theirs.get_params()
        assert mine.get_content_charset() == theirs.get_content_charset()
        assert mine["content-type"].params == theirs["content-type"].params
        assert mine.get_payload(decode=True) == theirs.get_payload(decode=True)
    first = reusing.get_payload()[0]
    assert first["content-type"] is first["content-type"]  # parsed once, then reused
    assert parse_message(raw).text == "Café au lait"
    # a value too long to keep around is parsed on every read, as the stdlib does
    long_value = "text/plain; name=\"" + "x" * parse_module.CACHED_HEADER_CHARS + "\""
    holder = BytesParser(policy=parse_module._DEFAULT).parsebytes(f"Content-Type: {long_value}\r\n\r\n".encode())
    assert holder["content-type"] is not holder["content-type"]
    assert holder.get_param("name") == "x" * parse_module.CACHED_HEADER_CHARS
