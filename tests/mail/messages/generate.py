# ruff: noqa: RUF001 - the messages hold typographic dashes, quotes and CJK punctuation on purpose
"""Writes the test messages in this folder. Every message is made up here; none is copied from real mail.

Run `python tests/mail/messages/generate.py` after changing a message; tests/mail/test_corpus.py fails when the
committed .eml files and this script disagree. Messages are built as bytes (not with the `email` package's
generator) so they can be as broken as real senders make them.
"""

from __future__ import annotations

import base64
import quopri
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).parent
OURS = "help.example.com"
CASE_ID = "01JC2Q9W3S7K8M4N5P6R7T8V9X"
INTERACTION_ID = "01JC2QB4D6F8G0H2J4K6M8N0P2"
OUR_MESSAGE_ID = f"<case-{CASE_ID}.{INTERACTION_ID}@{OURS}>"
OUR_EARLIER_ID = f"<case-{CASE_ID}.01JC2Q0000000000000000000A@{OURS}>"
DATE = "Mon, 02 Nov 2026 10:15:00 +0100"


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def qp(data: bytes) -> bytes:
    return quopri.encodestring(data)


def png() -> bytes:
    """A real 1x1 red PNG."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def ole_blob() -> bytes:
    """Something shaped like an Outlook .msg: the OLE compound file signature, NULs, UTF-16 text."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    return header + b"\x00" * 40 + "Subject: Printer on fire".encode("utf-16-le") + b"\x00\xff" * 64


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def lines(*parts: str | bytes) -> bytes:
    return b"\n".join(p.encode("utf-8") if isinstance(p, str) else p for p in parts)


def standard(subject: str, *, sender: str = "Ann Example <ann@example.org>", extra: tuple[str, ...] = ()) -> bytes:
    return lines(
        f"From: {sender}",
        f"To: Caseline Support <support@{OURS}>",
        f"Subject: {subject}",
        f"Date: {DATE}",
        "Message-ID: <m1.20261102@mail.example.org>",
        "MIME-Version: 1.0",
        *extra,
    )


MESSAGES: dict[str, bytes] = {}

MESSAGES["plain_utf8.eml"] = crlf(
    lines(
        standard(
            "Printer stops after two pages",
            extra=("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"),
        ),
        "",
        "Hello,",
        "",
        "my printer stops after two pages. Grüße from Köln!",
        "",
        "Ann",
    )
)

MESSAGES["alternative.eml"] = lines(
    standard("Invoice question", extra=('Content-Type: multipart/alternative; boundary="alt-1"',)),
    "",
    "This is a multi-part message in MIME format.",
    "--alt-1",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    qp(
        "Why was I charged 19,99 € twice? This line is long enough that quoted-printable has to wrap it with a "
        "soft line break somewhere in the middle.".encode()
    ).decode(),
    "--alt-1",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    qp("<html><body><p>Why was I charged <b>19,99 €</b> twice?</p></body></html>".encode()).decode(),
    "--alt-1--",
    "",
)

MESSAGES["html_only.eml"] = lines(
    standard(
        "Screenshot of the error", extra=("Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64")
    ),
    "",
    b64(
        b"<html><head><title>t</title><style>p { color: red }</style><script>alert('head')</script></head>"
        b'<body onload="steal()"><p style="color: #333; background: url(https://tracker.example.net/bg.gif)">'
        b"Hello,<br>the export fails with <i>error 42</i>.</p>"
        b'<p><a href="https://status.example.org/incident/7" onclick="steal()">status page</a>'
        b' and <a href="javascript:alert(1)">this</a>.</p>'
        b'<img src="https://tracker.example.net/open.gif?u=ann" width="1" height="1" alt="">'
        b'<img src="cid:logo@example.org" alt="Logo">'
        b"<ul><li>Chrome</li><li>Firefox</li></ul>"
        b"<script>document.cookie</script>"
        b'<iframe src="https://evil.example.net/"></iframe>'
        b'<form action="https://evil.example.net/"><input name="password"></form>'
        b"</body></html>"
    ).rstrip(b"\n"),
    "",
)

MESSAGES["inline_image_and_pdf.eml"] = lines(
    standard("Label printer output", extra=('Content-Type: multipart/mixed; boundary="mix"',)),
    "",
    "--mix",
    'Content-Type: multipart/alternative; boundary="alt"',
    "",
    "--alt",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "See the printout below and the attached order.",
    "",
    "[image: printout.png]",
    "--alt",
    'Content-Type: multipart/related; boundary="rel"; type="text/html"',
    "",
    "--rel",
    "Content-Type: text/html; charset=us-ascii",
    "",
    '<div>See the printout below and the attached order.<br><img src="cid:printout@example.org" alt="printout"></div>',
    "--rel",
    'Content-Type: image/png; name="printout.png"',
    "Content-ID: <printout@example.org>",
    'Content-Disposition: inline; filename="printout.png"',
    "Content-Transfer-Encoding: base64",
    "",
    b64(png()).rstrip(b"\n"),
    "--rel--",
    "--alt--",
    "--mix",
    'Content-Type: application/pdf; name="order-5512.pdf"',
    'Content-Disposition: attachment; filename="order-5512.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    b64(pdf()).rstrip(b"\n"),
    "--mix--",
    "",
)

INNER_MESSAGE = lines(
    "From: Billing <billing@example.net>",
    "To: ann@example.org",
    "Subject: Your payment failed",
    "Date: Sun, 01 Nov 2026 08:00:00 +0000",
    "Message-ID: <pay-77@example.net>",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "We could not charge your card.",
    "",
)

MESSAGES["attached_message.eml"] = lines(
    standard("Fwd: this mail looks like phishing", extra=('Content-Type: multipart/mixed; boundary="b1"',)),
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Is this mail really from you? It is attached.",
    "--b1",
    "Content-Type: message/rfc822",
    "Content-Disposition: attachment",
    "",
    INNER_MESSAGE,
    "--b1",
    'Content-Type: message/rfc822; name="original.eml"',
    'Content-Disposition: attachment; filename="original.eml"',
    "",
    INNER_MESSAGE.replace(b"<pay-77@", b"<pay-78@"),
    "--b1--",
    "",
)


def attachment_part(disposition: str, content_type: str, data: bytes) -> bytes:
    return lines(
        "--files",
        f"Content-Type: {content_type}",
        disposition,
        "Content-Transfer-Encoding: base64",
        "",
        b64(data).rstrip(b"\n"),
    )


MESSAGES["filenames.eml"] = lines(
    standard("Documents", extra=('Content-Type: multipart/mixed; boundary="files"',)),
    "",
    "--files",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Five files attached.",
    # RFC 2231 split over two segments, percent-encoded UTF-8.
    attachment_part(
        "Content-Disposition: attachment;\n filename*0*=utf-8''Rechnung%20M%C3%A4rz;\n filename*1*=%202026.pdf",
        "application/pdf",
        pdf(),
    ),
    # RFC 2231 labelled ISO-8859-1 while the bytes are UTF-8.
    attachment_part(
        "Content-Disposition: attachment; filename*=iso-8859-1''%C3%9Cbersicht.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04sheet",
    ),
    # RFC 2047 inside a quoted parameter (not allowed, common), and only on Content-Type's name.
    attachment_part(
        "Content-Disposition: attachment",
        'application/octet-stream; name="=?UTF-8?B?5aCx5ZGK5pu4LmRvY3g=?="',
        b"PK\x03\x04doc",
    ),
    # Raw 8-bit UTF-8 in the file name.
    attachment_part('Content-Disposition: attachment; filename="Café menu.txt"', "text/plain", b"menu"),
    # A path in the name, which must not survive.
    attachment_part(
        'Content-Disposition: attachment; filename="..\\\\..\\\\Windows\\\\evil.bat"', "application/x-bat", b"@echo"
    ),
    "--files--",
    "",
)


def charset_message(name: str, subject: str, charset: str, body: bytes, cte: str = "8bit") -> None:
    MESSAGES[name] = lines(
        standard(subject, extra=(f"Content-Type: text/plain; charset={charset}", f"Content-Transfer-Encoding: {cte}")),
        "",
        body,
        "",
    )


charset_message(
    "charset_iso8859_1.eml",
    "Latin-1",
    "iso-8859-1",
    qp("Grüße aus Köln, café crème.".encode("latin-1")),
    "quoted-printable",
)
charset_message(
    "charset_windows1252.eml",
    "Windows-1252",
    "windows-1252",
    "“Smart quotes” cost 5 € – really…".encode("cp1252"),
)
charset_message(
    "charset_iso2022jp.eml",
    "=?ISO-2022-JP?B?" + base64.b64encode("お問い合わせ".encode("iso2022_jp")).decode() + "?=",
    "ISO-2022-JP",
    "注文が届きません。".encode("iso2022_jp"),
    "7bit",
)
charset_message(
    "charset_shift_jis.eml",
    "=?shift_jis?B?" + base64.b64encode("請求書".encode("shift_jis")).decode() + "?=",
    "Shift_JIS",
    "請求書を再送してください。".encode("cp932"),
)
# 喆 is in GBK but not in GB2312: senders label GBK text GB2312 all the time.
charset_message(
    "charset_gb2312.eml",
    "=?gb2312?B?" + base64.b64encode("退款".encode("gb2312")).decode() + "?=",
    "gb2312",
    b64("王喆：我的订单还没有到。".encode("gbk")).rstrip(b"\n"),
    "base64",
)
charset_message(
    "charset_euc_kr.eml",
    "=?euc-kr?Q?" + "".join(f"={b:02X}" for b in "환불".encode("euc-kr")) + "?=",
    "euc-kr",
    "주문이 아직 도착하지 않았습니다.".encode("euc-kr"),
)
charset_message("charset_unknown.eml", "Unknown charset", "x-klingon", "Qapla’ – success".encode())
charset_message("charset_mislabelled.eml", "Mislabelled", "iso-8859-1", "Grüße – schön".encode())
charset_message("charset_utf8_with_cp1252.eml", "Broken UTF-8", "utf-8", "Preis: 5 € netto".encode("cp1252"))

_resume = "Résumé".encode()
MESSAGES["subject_rfc2047.eml"] = lines(
    "From: =?utf-8?q?Bj=C3=B6rk_Gu=C3=B0mundsd=C3=B3ttir?= <bjork@example.org>",
    f"To: support@{OURS}",
    # Two B words splitting the UTF-8 bytes of "é" between them; a Q word in Latin-1; plain text between.
    "Subject: =?utf-8?B?"
    + base64.b64encode(_resume[:2]).decode()
    + "?= =?utf-8?B?"
    + base64.b64encode(_resume[2:]).decode()
    + "?= de la =?iso-8859-1?q?r=E9clamation?=",
    " =?utf-8?q?_=E2=9C=93?= done",
    f"Date: {DATE}",
    "Content-Type: text/plain",
    "",
    "Body.",
    "",
)

MESSAGES["bom_and_mbox.eml"] = b"\xef\xbb\xbf" + lines(
    "From ann@example.org Mon Nov  2 09:15:00 2026",
    "From: ann@example.org",
    f"To: support@{OURS}",
    "Subject: Exported from a mailbox file",
    "",
    "Body after a BOM and an mbox From line.",
    "",
)
MESSAGES["mbox_from_line.eml"] = lines(
    "From ann@example.org Mon Nov  2 09:15:00 2026",
    "From: ann@example.org",
    f"To: support@{OURS}",
    "Subject: mbox",
    "",
    "Body.",
    "",
)
MESSAGES["bom.eml"] = b"\xef\xbb\xbf" + crlf(
    lines("From: ann@example.org", f"To: support@{OURS}", "Subject: BOM first", "", "Body.", "")
)

MESSAGES["headers_8bit_utf8.eml"] = lines(
    "From: Jürgen Müller <juergen@example.de>",
    "To: Søren <soren@example.dk>, support@" + OURS,
    "Subject: Größe der Lieferung – falsch",
    f"Date: {DATE}",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Die Lieferung hat die falsche Größe.",
    "",
)
MESSAGES["headers_8bit_latin1.eml"] = lines(
    "From: Ren\xe9 <rene@example.fr>".encode("latin-1"),
    f"To: support@{OURS}",
    "Subject: R\xe9clamation re\xe7ue".encode("latin-1"),
    "Content-Type: text/plain; charset=iso-8859-1",
    "",
    "Merci.".encode("latin-1"),
    "",
)

_tracking = "X-Tracking-Data: " + "\n ".join("t" * 70 + f"{i:06d}" for i in range(200_000 // 77 + 1))
_references = "References: " + "\n ".join(f"<r{i}@list.example.org>" for i in range(3000)) + f"\n {OUR_MESSAGE_ID}"
MESSAGES["huge_header.eml"] = lines(
    "From: ann@example.org",
    f"To: support@{OURS}",
    "Subject: Huge headers",
    _tracking,
    _references,
    "Content-Type: text/plain",
    "",
    "Small body.",
    "",
)

_to = ",\n ".join(f'"Person {i}" <person{i}@example.org>' for i in range(2000))
MESSAGES["long_to_list.eml"] = lines(
    "From: ann@example.org",
    f"To: {_to}",
    f"Cc: support@{OURS}",
    "Subject: Everyone",
    "",
    "Hello all.",
    "",
)

MESSAGES["tricky_names.eml"] = lines(
    '"support@help.example.com" <mallory@example.net>'.join(["From: ", ""]),
    'To: John Smith john@evil.example.net <john@example.org>, "Doe, Jane" <jane@example.org>,',
    " =?utf-8?q?M=C3=BCller=2C_Hans?= <hans@example.org>, bob@example.org (Bob Builder),",
    " Team: carol@example.org, dave@example.org;, Eve eve@example.org",
    'Cc: "Quote \\"Q\\" Person" <q@EXAMPLE.ORG>, undisclosed-recipients:;',
    "Reply-To: <replies@example.org>",
    "Subject: Names",
    "",
    "Body.",
    "",
)

MESSAGES["non_mime_latin1.eml"] = lines(
    "From: old@example.org",
    f"To: support@{OURS}",
    "Subject: No MIME at all",
    "",
    "Stra\xdfe und Pl\xe4tze, 8-bit without any MIME header.".encode("latin-1"),
    "",
)

MESSAGES["outlook_msg_body.eml"] = lines(
    "From: Ann Example <ann@example.org>",
    f"To: support@{OURS}",
    "Subject: Forwarded as .msg",
    "",
    ole_blob(),
    "",
)

# Replies in the styles of common clients, each answering one of our notifications.
REPLY_HEADERS = (f"In-Reply-To: {OUR_MESSAGE_ID}", f"References: {OUR_EARLIER_ID} {OUR_MESSAGE_ID}")

MESSAGES["reply_gmail.eml"] = lines(
    standard(
        "Re: Printer stops after two pages [#10234]",
        extra=(*REPLY_HEADERS, 'Content-Type: multipart/alternative; boundary="000000gm"'),
    ),
    "",
    "--000000gm",
    'Content-Type: text/plain; charset="UTF-8"',
    "",
    "Thanks, the new driver fixed it.",
    "",
    "Ann",
    "",
    "On Mon, 2 Nov 2026 at 10:15, Caseline Support <support@help.example.com>",
    "wrote:",
    "",
    "> Hello Ann,",
    ">",
    "> please install driver 4.2.",
    ">",
    "--000000gm",
    'Content-Type: text/html; charset="UTF-8"',
    "",
    '<div dir="ltr">Thanks, the new driver fixed it.<div><br></div><div>Ann</div></div><br><div class="gmail_quote">'
    '<div dir="ltr" class="gmail_attr">On Mon, 2 Nov 2026 at 10:15, Caseline Support &lt;<a href="mailto:'
    'support@help.example.com">support@help.example.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote">'
    "Hello Ann,<br><br>please install driver 4.2.</blockquote></div>",
    "--000000gm--",
    "",
)

MESSAGES["reply_outlook.eml"] = crlf(
    lines(
        standard(
            "RE: Printer stops after two pages [#10234]",
            extra=(
                *REPLY_HEADERS,
                "Content-Type: text/plain; charset=windows-1252",
                "Content-Transfer-Encoding: quoted-printable",
            ),
        ),
        "",
        qp(
            "It still stops – after three pages now.\n\nRegards,\nAnn Example\nHead of Operations\n\n"
            "________________________________\n"
            "From: Caseline Support <support@help.example.com>\n"
            "Sent: Monday, November 2, 2026 10:15 AM\n"
            "To: Ann Example <ann@example.org>\n"
            "Subject: Printer stops after two pages [#10234]\n\n"
            "Hello Ann,\n\nplease install driver 4.2.\n".encode("cp1252")
        ),
        "",
    )
)

MESSAGES["reply_apple_mail.eml"] = lines(
    standard(
        "Re: Printer stops after two pages [#10234]",
        extra=(
            *REPLY_HEADERS,
            "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
            "Content-Transfer-Encoding: 8bit",
        ),
    ),
    "",
    "Works now, thank you!",
    "",
    "Sent from my iPhone",
    "",
    "> On 2 Nov 2026, at 10:15, Caseline Support <support@help.example.com> wrote:",
    ">",
    "> Hello Ann,",
    "> please install driver 4.2.",
    "",
)

MESSAGES["reply_thunderbird.eml"] = lines(
    standard(
        "Re: Drucker stoppt [#10234]",
        extra=(
            *REPLY_HEADERS,
            "Content-Type: text/plain; charset=UTF-8; format=flowed",
            "Content-Language: de-DE",
            "Content-Transfer-Encoding: 8bit",
        ),
    ),
    "",
    "Hallo,",
    "",
    "leider druckt er immer noch nur zwei Seiten. Ich habe den Treiber neu installiert.",
    "",
    "Am 02.11.26 um 10:15 schrieb Caseline Support:",
    "> Hallo Ann,",
    ">",
    "> bitte installieren Sie Treiber 4.2.",
    "",
    "-- ",
    "Ann Beispiel",
    "Musterfirma GmbH",
    "",
)

MESSAGES["reply_spanish.eml"] = lines(
    standard(
        "Re: Pedido retrasado [#10234]",
        extra=(*REPLY_HEADERS, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"),
    ),
    "",
    "Hola, el pedido todavía no ha llegado a mi casa.",
    "",
    "Enviado desde mi iPhone",
    "",
    "El lun, 2 nov 2026 a las 10:15, Soporte (<support@help.example.com>) escribió:",
    "> Hola Ana,",
    "> su pedido está en camino.",
    "",
)

MESSAGES["reply_inline_answers.eml"] = lines(
    standard("Re: A few questions [#10234]", extra=(*REPLY_HEADERS, "Content-Type: text/plain; charset=utf-8")),
    "",
    "> Which model do you have?",
    "LX-200",
    "",
    "> Which firmware?",
    "1.0.4",
    "",
)

MESSAGES["plus_address.eml"] = lines(
    "From: ann@example.org",
    f"To: Caseline Support <support+c10234@{OURS}>",
    "Subject: A reply without references",
    "",
    "Replying from another client.",
    "",
)

# Auto-replies.
MESSAGES["ooo_auto_submitted.eml"] = lines(
    standard(
        "Out of Office: Re: Printer stops after two pages [#10234]",
        extra=(*REPLY_HEADERS, "Auto-Submitted: auto-replied", "Content-Type: text/plain"),
    ),
    "",
    "I am out of the office until 9 November.",
    "",
)
MESSAGES["ooo_exchange.eml"] = crlf(
    lines(
        standard(
            "Automatic reply: Printer stops after two pages [#10234]",
            extra=(
                *REPLY_HEADERS,
                "X-Auto-Response-Suppress: All",
                "X-MS-Exchange-Inbox-Rules-Loop: ann@example.org",
                "Content-Type: text/plain; charset=us-ascii",
            ),
        ),
        "",
        "I am on leave and will answer on my return.",
        "",
    )
)
MESSAGES["ooo_suppress_only.eml"] = lines(
    standard(
        "Re: Printer stops after two pages [#10234] - I am on vacation",
        extra=(*REPLY_HEADERS, "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply", "Content-Type: text/plain"),
    ),
    "",
    "I am away until Monday.",
    "",
)
MESSAGES["ooo_german.eml"] = lines(
    standard("Abwesenheitsnotiz: Drucker stoppt [#10234]", extra=("Content-Type: text/plain; charset=utf-8",)),
    "",
    "Ich bin bis zum 9. November nicht im Büro.",
    "",
)
MESSAGES["ooo_spanish.eml"] = lines(
    standard("=?utf-8?q?Respuesta_autom=C3=A1tica=3A_Pedido_retrasado?=", extra=("Content-Type: text/plain",)),
    "",
    "Estoy fuera de la oficina.",
    "",
)
MESSAGES["autoresponder_precedence.eml"] = lines(
    standard(
        "Thank you for your message",
        sender="Shop <noreply@shop.example.net>",
        extra=("Precedence: bulk", "X-Autoreply: yes", "Content-Type: text/plain"),
    ),
    "",
    "We received your message and will answer within two days.",
    "",
)
MESSAGES["normal_mentions_bounce_words.eml"] = lines(
    standard("Your newsletter was undeliverable?", extra=("Content-Type: text/plain",)),
    "",
    "Hi, I got a message saying the mail could not be delivered to one or more recipients. Why?",
    "",
)

# Bounces.
NOTIFICATION_HEADERS = lines(
    f"From: Caseline Support <support@{OURS}>",
    "To: Gone Person <gone@example.org>",
    "Subject: Your case #10234 was updated [#10234]",
    f"Date: {DATE}",
    f"Message-ID: {OUR_MESSAGE_ID}",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
)

MESSAGES["bounce_postfix.eml"] = lines(
    "Return-Path: <>",
    "From: MAILER-DAEMON@mx.help.example.com (Mail Delivery System)",
    f"To: support@{OURS}",
    "Subject: Undelivered Mail Returned to Sender",
    "Auto-Submitted: auto-replied",
    f"Date: {DATE}",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="PFX.1"',
    "",
    "This is a MIME-encapsulated message.",
    "",
    "--PFX.1",
    "Content-Description: Notification",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is the mail system at host mx.help.example.com.",
    "",
    "I'm sorry to have to inform you that your message could not",
    "be delivered to one or more recipients. It's attached below.",
    "",
    "                   The mail system",
    "",
    "<gone@example.org>: host mx.example.org[192.0.2.10] said: 550 5.1.1",
    "    <gone@example.org>: Recipient address rejected: User unknown (in reply to",
    "    RCPT TO command)",
    "",
    "--PFX.1",
    "Content-Description: Delivery report",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.help.example.com",
    "X-Postfix-Queue-ID: 4ABC123",
    "Arrival-Date: Mon,  2 Nov 2026 10:15:01 +0100 (CET)",
    "",
    "Final-Recipient: rfc822; gone@example.org",
    "Original-Recipient: rfc822;gone@example.org",
    "Action: failed",
    "Status: 5.1.1",
    "Remote-MTA: dns; mx.example.org",
    "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected:",
    "    User unknown",
    "",
    "--PFX.1",
    "Content-Description: Undelivered Message Headers",
    "Content-Type: text/rfc822-headers",
    "",
    NOTIFICATION_HEADERS,
    "",
    "--PFX.1--",
    "",
)

MESSAGES["bounce_exim.eml"] = lines(
    "Return-path: <>",
    "From: Mail Delivery System <Mailer-Daemon@mail.example.org>",
    f"To: support@{OURS}",
    "Subject: Mail delivery failed: returning message to sender",
    "Auto-Submitted: auto-replied",
    "X-Failed-Recipients: gone@example.org",
    "",
    "This message was created automatically by mail delivery software.",
    "",
    "A message that you sent could not be delivered to one or more of its",
    "recipients. This is a permanent error. The following address(es) failed:",
    "",
    "  gone@example.org",
    "    host mx.example.org [192.0.2.10]",
    "    SMTP error from remote mail server after RCPT TO:<gone@example.org>:",
    "    550 5.1.1 No such user here",
    "",
    "------ This is a copy of the message, including all the headers. ------",
    "",
    NOTIFICATION_HEADERS,
    "",
    "Hello, your case was updated.",
    "",
)

MESSAGES["bounce_exchange.eml"] = crlf(
    lines(
        "From: Microsoft Outlook <postmaster@example.org>",
        f"To: <support@{OURS}>",
        "Subject: Undeliverable: Your case #10234 was updated [#10234]",
        f"Date: {DATE}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="_000_ex_"',
        "",
        "--_000_ex_",
        'Content-Type: multipart/alternative; boundary="_001_ex_"',
        "",
        "--_001_ex_",
        'Content-Type: text/plain; charset="us-ascii"',
        "",
        "Your message to gone@example.org couldn't be delivered.",
        "gone wasn't found at example.org.",
        "",
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP lookup'",
        "",
        "--_001_ex_",
        'Content-Type: text/html; charset="us-ascii"',
        "",
        "<html><body><p>Your message to <b>gone@example.org</b> couldn't be delivered.</p></body></html>",
        "--_001_ex_--",
        "",
        "--_000_ex_",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns;EX1.example.org",
        "Received-From-MTA: dns;mx.help.example.com",
        "",
        "Final-Recipient: rfc822;gone@example.org",
        "Action: failed",
        "Status: 5.1.10",
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found",
        "",
        "--_000_ex_",
        "Content-Type: message/rfc822",
        "",
        NOTIFICATION_HEADERS,
        "",
        "Hello, your case was updated.",
        "",
        "--_000_ex_--",
        "",
    )
)

MESSAGES["bounce_gmail.eml"] = lines(
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    f"To: support@{OURS}",
    "Auto-Submitted: auto-replied",
    "Subject: Delivery Status Notification (Failure)",
    f"References: {OUR_MESSAGE_ID}",
    f"In-Reply-To: {OUR_MESSAGE_ID}",
    'Content-Type: multipart/report; boundary="g1"; report-type=delivery-status',
    "",
    "--g1",
    'Content-Type: multipart/related; boundary="g2"',
    "",
    "--g2",
    'Content-Type: multipart/alternative; boundary="g3"',
    "",
    "--g3",
    'Content-Type: text/plain; charset="UTF-8"',
    "",
    "** Address not found **",
    "",
    "Your message wasn't delivered to nobody.here@example.com because the address couldn't be found, or is "
    "unable to receive mail.",
    "",
    "The response from the remote server was:",
    "550 5.1.1 The email account that you tried to reach does not exist.",
    "",
    "--g3--",
    "--g2--",
    "--g1",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; googlemail.com",
    "Arrival-Date: Mon, 02 Nov 2026 01:15:02 -0800 (PST)",
    "",
    "Final-Recipient: rfc822; nobody.here@example.com",
    "Action: failed",
    "Status: 5.1.1",
    "Remote-MTA: dns; mx.example.com. (192.0.2.20, the server for the domain example.com.)",
    "Diagnostic-Code: smtp; 550 5.1.1 The email account that you tried to reach does not exist.",
    "Last-Attempt-Date: Mon, 02 Nov 2026 01:15:03 -0800 (PST)",
    "",
    "--g1",
    "Content-Type: message/rfc822",
    "",
    NOTIFICATION_HEADERS.replace(b"gone@example.org", b"nobody.here@example.com"),
    "",
    "Hello, your case was updated.",
    "--g1--",
    "",
)

MESSAGES["bounce_ses.eml"] = lines(
    "From: MAILER-DAEMON@amazonses.com",
    f"To: support@{OURS}",
    "Subject: Delivery Status Notification (Failure)",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="ses-b"',
    "",
    "--ses-b",
    "content-type: text/plain;",
    "    charset=UTF-8",
    "",
    "An error occurred while trying to deliver the mail to the following recipients:",
    "full-box@example.org",
    "",
    "--ses-b",
    "content-type: message/delivery-status",
    "",
    "Reporting-MTA: dns; a1-2.smtp-out.eu-west-1.amazonses.com",
    "",
    "Action: failed",
    "Final-Recipient: rfc822; full-box@example.org",
    "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
    "Status: 5.2.2",
    "",
    "--ses-b",
    "content-type: message/rfc822",
    "",
    NOTIFICATION_HEADERS.replace(b"gone@example.org", b"full-box@example.org"),
    "",
    "Hello, your case was updated.",
    "--ses-b--",
    "",
)

MESSAGES["bounce_delayed.eml"] = lines(
    "From: MAILER-DAEMON@mx.help.example.com (Mail Delivery System)",
    f"To: support@{OURS}",
    "Subject: Delayed Mail (still being retried)",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="d1"',
    "",
    "--d1",
    "Content-Type: text/plain",
    "",
    "Your message has not been delivered yet; the mail system will keep trying.",
    "--d1",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.help.example.com",
    "",
    "Final-Recipient: rfc822; slow@example.org",
    "Action: delayed",
    "Status: 4.4.7",
    "",
    "--d1--",
    "",
)

# A DSN whose MIME is broken: no report-type, the status part base64-encoded without blank lines between
# blocks, and the closing boundary missing.
MESSAGES["bounce_broken_dsn.eml"] = lines(
    "From: postmaster@mail.example.org",
    f"To: support@{OURS}",
    "Subject: failure notice",
    'Content-Type: multipart/report; boundary="brk"',
    "",
    "--brk",
    "Content-Type: text/plain",
    "",
    "Sorry, we were unable to deliver your message to the following address.",
    "",
    "<gone@example.org>:",
    "550 5.1.1 user unknown",
    "",
    "--brk",
    "Content-Type: message/delivery-status",
    "Content-Transfer-Encoding: base64",
    "",
    b64(
        b"Reporting-MTA: dns; mail.example.org\nFinal-Recipient: rfc822; gone@example.org\n"
        b"Action: failed\nStatus: 5.1.1\n"
    ).rstrip(b"\n"),
    "",
    "--brk",
    "Content-Type: text/rfc822-headers",
    "",
    NOTIFICATION_HEADERS,
    "",
)

MESSAGES["bounce_plain_sendmail.eml"] = lines(
    "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>",
    f"To: <support@{OURS}>",
    "Subject: Returned mail: see transcript for details",
    "Auto-Submitted: auto-generated (failure)",
    "",
    "The original message was received at Mon, 2 Nov 2026 10:15:00 +0100",
    "from mx.help.example.com [192.0.2.1]",
    "",
    "   ----- The following addresses had permanent fatal errors -----",
    "<left.company@example.net>",
    "    (reason: 550 5.1.1 <left.company@example.net>... User unknown)",
    "",
    "   ----- Original message follows -----",
    "",
    NOTIFICATION_HEADERS.replace(b"gone@example.org", b"left.company@example.net"),
    "",
    "Hello, your case was updated.",
    "",
)

MESSAGES["mdn.eml"] = lines(
    "From: Ann Example <ann@example.org>",
    f"To: support@{OURS}",
    "Subject: Read: Your case #10234 was updated [#10234]",
    f"Date: {DATE}",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn1"',
    "",
    "--mdn1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The message sent on 02.11.2026 10:15 to Ann Example was displayed.",
    "--mdn1",
    "Content-Type: message/disposition-notification",
    "",
    "Reporting-UA: mail.example.org; ExampleMail 3.1",
    "Final-Recipient: rfc822;ann@example.org",
    f"Original-Message-ID: {OUR_MESSAGE_ID}",
    "Disposition: manual-action/MDN-sent-manually; displayed",
    "",
    "--mdn1--",
    "",
)

MESSAGES["arf.eml"] = lines(
    "From: <feedback@fbl.example.net>",
    f"To: <abuse@{OURS}>",
    "Subject: FW: Your case #10234 was updated",
    f"Date: {DATE}",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="arf_b"',
    "",
    "--arf_b",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is an email abuse report for an email message received from IP 192.0.2.1.",
    "",
    "--arf_b",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: ExampleFBL/1.0",
    "Version: 1",
    f"Original-Mail-From: <bounces@{OURS}>",
    "Original-Rcpt-To: <complainer@example.net>",
    "Arrival-Date: Mon, 02 Nov 2026 10:15:05 +0100",
    "Source-IP: 192.0.2.1",
    f"Reported-Domain: {OURS}",
    "",
    "--arf_b",
    "Content-Type: message/rfc822",
    "Content-Disposition: inline",
    "",
    NOTIFICATION_HEADERS.replace(b"gone@example.org", b"complainer@example.net"),
    "",
    "Hello, your case was updated.",
    "--arf_b--",
    "",
)

MESSAGES["from_us_loop.eml"] = lines(
    f"From: Caseline Support <support@{OURS}>",
    f"To: support@{OURS}",
    "Subject: Your case #10234 was updated [#10234]",
    "",
    "Looped back to ourselves.",
    "",
)


def write(folder: Path = HERE) -> list[Path]:
    written = []
    for name, data in sorted(MESSAGES.items()):
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in write(target):
        print(f"{path.name}: {path.stat().st_size} bytes")
