"""The whole test corpus through the SMTP server of a real `caseline dev`, checked through its HTTP API.

Every message must end in a case, an interaction, or a recorded rejection an admin can list; a
representative subset is checked field by field, and a reply chain from two mail clients threads.
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from caseline.domain.auth import Role

from ..mail.conftest import CASE_ID, INTERACTION_ID, MESSAGES
from ..support.dev_server import DevServer, free_port

SUPPORT = "support@help.example.com"
CORPUS = sorted(MESSAGES.glob("*.eml"))
MAX_BYTES = 2_000_000
KNOWN = {  # what these messages must become
    "from_us_loop.eml": ("rejected", "loop"),
    "ooo_auto_submitted.eml": ("rejected", "auto_reply_without_case"),
    "ooo_suppress_only.eml": ("rejected", "auto_reply_without_case"),
    "bounce_postfix.eml": ("rejected", "bounce_not_ours"),
    "mdn.eml": ("rejected", "receipt_without_case"),
    "arf.eml": ("rejected", "abuse_report"),
    "normal_mentions_bounce_words.eml": ("case_opened", None),
    "outlook_msg_body.eml": ("case_opened", None),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"SUPPORT_ADDRESSES": SUPPORT, "MAIL_RATE_LIMIT": "100000", "LANGUAGES": "en,de,es,fr",
                            "LANGUAGE_LOW_ACCURACY": "true", "MAIL_MAX_BYTES": str(MAX_BYTES)}.items():
            env.setenv(f"CASELINE_{name}", value)
        dev = DevServer(tmp_path_factory.mktemp("smtp") / "data", free_port())
        dev.start()
    yield dev
    assert dev.stop() == 0
    assert "Caseline stopped." in dev.output[-1]


def on_the_wire(raw: bytes) -> bytes:
    """Lines end in CRLF on the wire (smtplib sends bytes as given; a real client converts)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def deliver(dev: DevServer, raw: bytes, rcpt: str = SUPPORT) -> tuple[int, list[str]]:
    raw = on_the_wire(raw)
    with smtplib.SMTP("127.0.0.1", dev.smtp_port, timeout=60) as client:
        client.ehlo("client.example.net")
        client.mail("sender@example.net")
        code, _ = client.rcpt(rcpt)
        assert code == 250
        code, reply = client.data(raw)
    return code, reply.decode().split()


def api(dev: DevServer) -> httpx.Client:
    return httpx.Client(base_url=dev.url, timeout=30,
                        headers={"Authorization": f"Bearer {dev.token(Role.ADMIN)}"})


def all_rejections(client: httpx.Client) -> dict[str, dict]:
    found: dict[str, dict] = {}
    cursor = None
    while True:
        page = client.get("/mail/rejections", params={"limit": 20, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        found.update({r["id"]: r for r in body["items"]})
        cursor = body["next_cursor"]
        if not cursor:
            return found


def test_every_corpus_message_ends_in_a_case_an_interaction_or_a_rejection(server: DevServer) -> None:
    results: dict[str, list[str]] = {}
    for path in CORPUS:
        code, words = deliver(server, path.read_bytes())
        assert code == 250, (path.name, words)
        results[path.name] = words[2:]
    with api(server) as client:
        rejections = all_rejections(client)
        for name, (outcome, target, *_) in results.items():
            if outcome == "rejected":
                assert target in rejections, name
                if name in KNOWN:
                    assert (outcome, rejections[target]["reason"]) == KNOWN[name], name
                continue
            assert outcome in {"case_opened", "reply_added"}, (name, outcome)
            if name in KNOWN:
                assert outcome == KNOWN[name][0], name
            shown = client.get(f"/cases/{target}")
            assert shown.status_code == 200, (name, shown.text)
            assert shown.json()["interactions"][-1]["raw_ref"]["content_type"] == "message/rfc822", name

        subject_case = client.get(f"/cases/{results['subject_rfc2047.eml'][1]}").json()
        assert subject_case["case"]["subject"] == "Résumé de la réclamation ✓ done"
        assert subject_case["case"]["requester_name"] == "Björk Guðmundsdóttir"
        assert subject_case["case"]["channel"] == "email"

        japanese = client.get(f"/cases/{results['charset_iso2022jp.eml'][1]}").json()
        assert japanese["interactions"][0]["text"].strip()
        assert "\ufffd" not in japanese["case"]["subject"]

        image_case = client.get(f"/cases/{results['inline_image_and_pdf.eml'][1]}").json()
        first = image_case["interactions"][0]
        assert [a["filename"] for a in first["attachments"]] == ["printout.png", "order-5512.pdf"]
        pdf = first["attachments"][1]
        link = client.get(f"/cases/{image_case['case']['id']}/attachments/{pdf['sha256']}")
        assert link.status_code == 200, link.text
        data = httpx.get(server.url + link.json()["url"]).content
        assert hashlib.sha256(data).hexdigest() == pdf["sha256"] and len(data) == pdf["size"]

        raw_link = client.get(f"/cases/{image_case['case']['id']}/attachments/{first['raw_ref']['sha256']}")
        raw = httpx.get(server.url + raw_link.json()["url"]).content
        sent = (MESSAGES / "inline_image_and_pdf.eml").read_bytes()
        assert raw.replace(b"\r\n", b"\n") == sent.replace(b"\r\n", b"\n")

        attached = client.get(f"/cases/{results['attached_message.eml'][1]}").json()["interactions"][0]
        assert any(a["content_type"] == "message/rfc822" for a in attached["attachments"])


def test_a_reply_chain_from_two_mail_clients_threads_into_one_case(server: DevServer) -> None:
    first = EmailMessage()
    first["From"] = "Ann Example <ann@example.org>"
    first["To"] = SUPPORT
    first["Subject"] = "Printer stops after two pages"
    first.set_content("My printer stops after two pages, every time, since the last update.")
    _, words = deliver(server, first.as_bytes())
    assert words[2] == "case_opened"
    case_id = words[3]
    with api(server) as client:
        ours = client.post(f"/cases/{case_id}/replies", json={"text": "Please try the new driver."})
        assert ours.status_code == 201, ours.text
        interaction_id = ours.json()["id"]
        for name in ("reply_gmail.eml", "reply_outlook.eml"):
            raw = (MESSAGES / name).read_bytes()
            raw = raw.replace(CASE_ID.encode(), case_id.encode()).replace(INTERACTION_ID.encode(),
                                                                           interaction_id.encode())
            _, words = deliver(server, raw)
            assert words[2:4] == ["reply_added", case_id], name
        shown = client.get(f"/cases/{case_id}").json()
        assert shown["case"]["status"] == "open"
        inbound = [i for i in shown["interactions"] if i["direction"] == "inbound"]
        assert len(inbound) == 3
        for reply in inbound[1:]:
            assert reply["quoted_text"] and "wrote:" not in reply["text"] and "Original Message" not in reply["text"]


def test_unknown_recipients_and_over_size_mail_are_refused_over_smtp(server: DevServer) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as client:
        client.ehlo("client.example.net")
        client.mail("sender@example.net")
        assert client.rcpt("sales@help.example.com")[0] == 550
        assert client.rcpt(SUPPORT)[0] == 250
        code, _ = client.data(b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * (MAX_BYTES // 78 + 10))
        assert code == 552
