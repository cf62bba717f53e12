"""The SMTP server on its own (in-process, real sockets, smtplib): recipients, size limit, hand-over to ingest."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from caseline.domain.case import CaseStatus
from caseline.runtime.smtp import SmtpServer, is_support_address

from ..support.dev_server import free_port

SUPPORT = "support@help.example.com"


@pytest.fixture
def smtp(sqlite_platform) -> Iterator[tuple[SmtpServer, object]]:
    settings = sqlite_platform.deps.settings.model_copy(update={
        "support_addresses": [SUPPORT], "mail_max_bytes": 20_000, "languages": ["en"]})
    deps = dataclasses.replace(sqlite_platform.deps, settings=settings)
    server = SmtpServer(deps, host="127.0.0.1", port=free_port())
    server.start()
    yield server, deps
    server.stop()


def _message(body: str = "My invoice is wrong.", subject: str = "Invoice") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Erin <erin@example.net>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg.set_content(body)
    return msg.as_bytes()


def _client(server: SmtpServer) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=30)
    client.ehlo("client.example.net")
    return client


def test_support_addresses_and_their_plus_variants_are_ours() -> None:
    assert is_support_address("Support+c10234@Help.Example.com", [SUPPORT])
    assert not is_support_address("sales@help.example.com", [SUPPORT])
    assert not is_support_address("support", [SUPPORT])


def test_unknown_recipient_gets_550(smtp) -> None:
    server, _ = smtp
    with _client(server) as client:
        client.mail("erin@example.net")
        code, text = client.rcpt("nobody@help.example.com")
        assert code == 550 and b"5.1.1" in text
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("erin@example.net", ["nobody@help.example.com"], _message())


def test_message_over_the_limit_gets_552(smtp) -> None:
    server, _ = smtp
    with _client(server) as client:
        assert client.has_extn("size") and int(client.esmtp_features["size"]) == 20_000
        client.mail("erin@example.net")  # no SIZE parameter: the limit is enforced on the data itself
        client.rcpt(SUPPORT)
        code, _ = client.data(_message(body="x" * 30_000))
        assert code == 552


def test_accepted_mail_becomes_a_case_once(smtp) -> None:
    server, deps = smtp
    raw = _message()
    with _client(server) as client:
        client.mail("erin@example.net")
        assert client.rcpt("support+c99999@help.example.com")[0] == 250
        code, reply = client.data(raw)
    assert code == 250
    outcome, case_id, number = reply.decode().split()[2:5]
    assert outcome == "case_opened"
    case = deps.store.get_case(case_id)
    assert case.subject == "Invoice" and case.status is CaseStatus.NEW and f"#{case.number}" == number
    with _client(server) as client:  # the client lost our 250 and sends the same bytes again
        client.mail("erin@example.net")
        client.rcpt(SUPPORT)
        code, reply = client.data(raw)
    assert code == 250 and reply.decode().split()[2:4] == ["duplicate", case_id]
