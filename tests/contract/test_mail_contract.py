"""The MailSender port's contract (`caseline.ports.mail`): SES v2 on moto, an SMTP relay (a real aiosmtpd
server on a free local port, spoken to over TCP by smtplib) and a maildir. Each case sends through the port
and reads back what the carrier holds: the same bytes, the same envelope, an id for the message."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from caseline.adapters.aws.mail_ses import SesMailSender
from caseline.adapters.embedded.mail_maildir import MaildirMailSender
from caseline.adapters.embedded.mail_smtp import SmtpRelayMailSender
from caseline.ports.mail import MAX_RECIPIENTS, MailSender, MailSendError, OutgoingMail

from ..support.dev_server import free_port

REGION = "eu-west-1"
SUPPORT = "support@acme.example"


@dataclass(frozen=True)
class Carried:
    sender: str
    recipients: list[str]
    raw: bytes


@dataclass
class Carrier:
    sender: MailSender
    carried: Callable[[], list[Carried]]


class _Collect:
    def __init__(self) -> None:
        self.messages: list[Carried] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(Carried(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages):04d}"


@pytest.fixture
def smtp_relay() -> Iterator[tuple[_Collect, int]]:
    handler = _Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(params=["maildir", "smtp", pytest.param("ses", marks=pytest.mark.aws)])
def carrier(request: pytest.FixtureRequest, tmp_path: Path) -> Carrier:
    if request.param == "maildir":
        maildir = MaildirMailSender(tmp_path / "mail" / "outbox")

        def from_maildir() -> list[Carried]:
            found = []
            for sent in reversed(maildir.sent()):
                raw = maildir.raw(sent.key)
                # the two envelope headers sit above the message as delivered
                body = raw.split(b"\r\n", 2 + (1 if sent.case_id else 0))[-1]
                found.append(Carried(sent.sender, list(sent.recipients), body))
            return found

        return Carrier(maildir, from_maildir)
    if request.param == "smtp":
        handler, port = request.getfixturevalue("smtp_relay")
        return Carrier(SmtpRelayMailSender("127.0.0.1", port, starttls=False, timeout=5), lambda: handler.messages)
    request.getfixturevalue("aws")
    import boto3
    from moto.backends import get_backend

    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity="acme.example")
    client.create_configuration_set(ConfigurationSetName="caseline")
    backend = get_backend("ses")["123456789012"][REGION]

    def from_ses() -> list[Carried]:
        return [Carried(m.source, list(dict.fromkeys(m.destinations)), m.raw_data.encode()) for m in
                backend.sent_messages]

    return Carrier(SesMailSender("caseline", region=REGION, client=client), from_ses)


def _message(*recipients: str, subject: str = "Printer [#10234]", body: str = "Hello Jo") -> OutgoingMail:
    raw = (f"From: Support <{SUPPORT}>\r\nTo: {', '.join(recipients)}\r\nSubject: {subject}\r\n"
           f"Message-ID: <case-01A.01B@acme.example>\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    return OutgoingMail(raw=raw, sender=SUPPORT, recipients=tuple(recipients),
                        message_id="<case-01A.01B@acme.example>", subject=subject, case_id="01A",
                        interaction_id="01B")


def test_send_carries_the_bytes_and_envelope_and_answers_an_id(carrier: Carrier) -> None:
    provider_id = carrier.sender.send(_message("jo@customer.example", "cc@customer.example"))
    assert provider_id
    [carried] = carrier.carried()
    assert carried.sender == SUPPORT
    assert sorted(carried.recipients) == ["cc@customer.example", "jo@customer.example"]
    parsed = email.message_from_bytes(carried.raw, policy=email.policy.default)
    assert parsed["Message-ID"] == "<case-01A.01B@acme.example>"
    assert parsed["Subject"] == "Printer [#10234]"
    assert parsed.get_content().strip() == "Hello Jo"


def test_each_message_gets_its_own_id(carrier: Carrier) -> None:
    first = carrier.sender.send(_message("jo@customer.example", body="one"))
    second = carrier.sender.send(_message("jo@customer.example", body="two"))
    assert first != second
    assert [c.raw.rstrip().rsplit(b"\n", 1)[-1] for c in carrier.carried()] == [b"one", b"two"]


@pytest.mark.parametrize("broken", [
    lambda m: OutgoingMail(**{**m.__dict__, "recipients": ()}),
    lambda m: OutgoingMail(**{**m.__dict__, "recipients": ("not an address",)}),
    lambda m: OutgoingMail(**{**m.__dict__, "recipients": ("a@x.example\r\nRCPT TO:<b@y.example>",)}),
    lambda m: OutgoingMail(**{**m.__dict__, "recipients": tuple(f"p{i}@x.example" for i in range(MAX_RECIPIENTS + 1))}),
    lambda m: OutgoingMail(**{**m.__dict__, "sender": ""}),
    lambda m: OutgoingMail(**{**m.__dict__, "raw": b"no header block at all"}),
], ids=["no-recipient", "bad-recipient", "smtp-injection", "too-many", "no-sender", "no-headers"])
def test_bad_messages_are_refused_before_anything_is_sent(carrier: Carrier, broken: Callable) -> None:
    with pytest.raises(ValueError):
        carrier.sender.send(broken(_message("jo@customer.example")))
    assert carrier.carried() == []


def test_a_carrier_that_cannot_take_the_message_raises_mail_send_error(tmp_path: Path) -> None:
    unreachable = SmtpRelayMailSender("127.0.0.1", free_port(), starttls=False, timeout=2)
    with pytest.raises(MailSendError) as raised:
        unreachable.send(_message("jo@customer.example"))
    assert not raised.value.permanent  # worth retrying
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the maildir should be")
    with pytest.raises(MailSendError):
        MaildirMailSender(blocked / "outbox").send(_message("jo@customer.example"))


def test_smtp_relay_refusing_every_recipient_is_permanent(smtp_relay: tuple[_Collect, int]) -> None:
    handler, port = smtp_relay
    handler.refuse.add("gone@customer.example")
    with pytest.raises(MailSendError) as raised:
        SmtpRelayMailSender("127.0.0.1", port, starttls=False, timeout=5).send(_message("gone@customer.example"))
    assert raised.value.permanent
    assert handler.messages == []


def test_smtp_relay_answers_its_queue_id(smtp_relay: tuple[_Collect, int]) -> None:
    _, port = smtp_relay
    assert SmtpRelayMailSender("127.0.0.1", port, starttls=False).send(_message("jo@customer.example")) == "Q0001"


@pytest.mark.aws
def test_ses_refusal_is_a_mail_send_error(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("aws")
    import boto3

    client = boto3.client("sesv2", region_name=REGION)  # no verified identity: SES rejects the sender
    with pytest.raises(MailSendError) as raised:
        SesMailSender("caseline", client=client).send(_message("jo@customer.example"))
    assert raised.value.permanent


# --- the SMTP relay's transport security and login --------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made here."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[_Collect, int]]:
    import ssl

    from aiosmtpd.smtp import AuthResult

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == b"caseline" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # unhandled: the server answers 535 itself

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    handler = _Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=authenticate, auth_require_tls=True)
    controller.start()
    yield handler, port
    controller.stop()


def _client_tls(certificate: tuple[Path, Path]):
    import ssl

    return ssl.create_default_context(cafile=str(certificate[0]))


def test_smtp_relay_upgrades_with_starttls_and_logs_in(tls_relay, certificate) -> None:
    handler, port = tls_relay
    sender = SmtpRelayMailSender("127.0.0.1", port, username="caseline", password="s3cret",
                                 tls_context=_client_tls(certificate), timeout=5)
    assert sender.send(_message("jo@customer.example")) == "Q0001"
    assert [m.recipients for m in handler.messages] == [["jo@customer.example"]]


def test_smtp_relay_refuses_a_wrong_password_or_no_tls_for_good(tls_relay, certificate) -> None:
    handler, port = tls_relay
    wrong = SmtpRelayMailSender("127.0.0.1", port, username="caseline", password="guess",
                                tls_context=_client_tls(certificate), timeout=5)
    with pytest.raises(MailSendError) as raised:
        wrong.send(_message("jo@customer.example"))
    assert raised.value.permanent
    plain = SmtpRelayMailSender("127.0.0.1", port, starttls=False, timeout=5)
    with pytest.raises(MailSendError) as raised:
        plain.send(_message("jo@customer.example"))
    assert raised.value.permanent  # 530: STARTTLS first
    assert handler.messages == []


def test_smtp_relay_checks_the_certificate(tls_relay) -> None:
    _, port = tls_relay
    with pytest.raises(MailSendError) as raised:  # the system CAs do not know the relay's certificate
        SmtpRelayMailSender("127.0.0.1", port, timeout=5).send(_message("jo@customer.example"))
    assert not raised.value.permanent


# --- the maildir read back (the /mail/outbox page) ---------------------------------------------------------
def test_maildir_lists_newest_first_up_to_the_limit_reading_headers_only(tmp_path: Path) -> None:
    import os

    maildir = MaildirMailSender(tmp_path / "outbox")
    keys = [maildir.send(_message("jo@customer.example", subject=f"Reply {n}")) for n in range(5)]
    for n, key in enumerate(keys):  # sent one minute apart, in order
        path = next((tmp_path / "outbox").glob(f"*/{key}*"))
        os.utime(path, (1_800_000_000 + 60 * n, 1_800_000_000 + 60 * n))
    listed = maildir.sent(limit=3)
    assert [m.subject for m in listed] == ["Reply 4", "Reply 3", "Reply 2"]
    assert listed[0].case_id == "01A" and listed[0].recipients == ("jo@customer.example",)
    assert maildir.raw(keys[0]).endswith(b"Hello Jo\r\n")
    with pytest.raises(KeyError):
        maildir.raw("nope")
