"""Replies on email cases go out as email on one machine: reply → dispatcher → consumer → maildir file.

The consumer runs under the real outbox dispatcher (retries, give-up, markers) over SQLite, the message is
read back from the maildir with the stdlib parser, and the delivery state from the store."""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest
from caseline.adapters.embedded.mail_maildir import MaildirMailSender
from caseline.adapters.embedded.outbox_dispatcher import OutboxDispatcher
from caseline.consumers import Consumer
from caseline.consumers.outbound_email import NAME, deliver_with_retries, outbound_email_consumer
from caseline.domain.common import Channel
from caseline.domain.interaction import (
    AttachmentRef,
    Author,
    AuthorKind,
    DeliveryStatus,
    Direction,
    EmailMeta,
    Interaction,
)
from caseline.ports.mail import MailSender, MailSendError, OutgoingMail
from caseline.services import cases
from caseline.services.attachments import attachment_key
from caseline.services.commands import AddNote, AddReply, CustomerRef, OpenCase

from ..conftest import World


class Failing(MailSender):
    provider = "failing"

    def __init__(self, *, permanent: bool = False, failures: int = 10**6) -> None:
        self.permanent = permanent
        self.failures = failures
        self.calls = 0

    def _send(self, message: OutgoingMail) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise MailSendError("451 4.3.0 try later" if not self.permanent else "554 rejected",
                                permanent=self.permanent)
        return "accepted-1"


@pytest.fixture
def maildir(tmp_path: Path) -> MaildirMailSender:
    return MaildirMailSender(tmp_path / "mail" / "outbox")


def _dispatcher(platform, sender: MailSender) -> tuple[OutboxDispatcher, list[float]]:
    sleeps: list[float] = []
    dispatcher = OutboxDispatcher(platform.table, platform.deps, [outbound_email_consumer(sender)],
                                  max_attempts=4, sleep=sleeps.append)
    return dispatcher, sleeps


def _email_case(platform, world: World, *, channel: Channel = Channel.EMAIL):
    command = OpenCase(channel=channel, subject="Re: Printer stops after 10 pages", text="It stops again.",
                       requester=CustomerRef(customer_id=world.alice_id))
    return cases.open_case(platform.deps, world.staff(world.agent), command)


def _inbound_email(platform, case, message_id: str, references: list[str]) -> None:
    """What inbound ingestion stores for a customer's message: its identifiers in `email`."""
    ids = platform.deps.ids
    uow = platform.deps.store.begin()
    uow.put_interaction(Interaction(
        id=ids.new(platform.deps.clock.now()), case_id=case.id, customer_id=case.requester_id, channel=Channel.EMAIL,
        direction=Direction.INBOUND, author=Author(kind=AuthorKind.CUSTOMER, id=case.requester_id),
        text="Still broken", email=EmailMeta(message_id=message_id, references=references),
        created_at=platform.deps.clock.now()))
    uow.commit()


def _attachment(platform, case, data: bytes, filename: str, content_type: str) -> AttachmentRef:
    sha = hashlib.sha256(data).hexdigest()
    key = attachment_key(case.id, sha, filename)
    platform.deps.blobs.put(key, data, content_type=content_type)
    return AttachmentRef(key=key, filename=filename, content_type=content_type, size=len(data), sha256=sha)


def _read(maildir: MaildirMailSender) -> list[EmailMessage]:
    return [email.message_from_bytes(maildir.raw(m.key), policy=email.policy.default) for m in maildir.sent()]


def test_an_agent_reply_is_sent_threaded_with_both_parts_and_its_attachment(
        sqlite_platform, sqlite_world, maildir, clock) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    clock.advance(seconds=60)
    _inbound_email(sqlite_platform, case, "abc@mail.customer.example", ["root@mail.customer.example"])
    clock.advance(seconds=60)
    pdf = b"%PDF-1.4 steps to fix"
    ref = _attachment(sqlite_platform, case, pdf, "steps.pdf", "application/pdf")
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hi Alice,\n\nplease update the driver <v2>.\nThanks", attachments=[ref]))
    assert reply.delivery_status is DeliveryStatus.QUEUED
    dispatcher, _ = _dispatcher(sqlite_platform, maildir)
    dispatcher.drain()

    [message] = _read(maildir)
    domain = sqlite_platform.settings.support_addresses[0].rpartition("@")[2]
    assert message["Message-ID"] == f"<case-{case.id}.{reply.id}@{domain}>"
    assert message["In-Reply-To"] == "<abc@mail.customer.example>"
    assert message["References"] == "<root@mail.customer.example> <abc@mail.customer.example>"
    assert message["Subject"] == f"Re: Printer stops after 10 pages [#{case.number}]"
    assert message["To"].addresses[0].addr_spec == "alice@example.com"
    assert message["Reply-To"].addresses[0].addr_spec == f"support+c{case.number}@{domain}"
    assert message["From"].addresses[0].display_name == "Ada Agent"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "please update the driver <v2>." in text and f"#{case.number}" in text
    assert "<p>please update the driver &lt;v2&gt;.<br>Thanks</p>" in html
    [attached] = list(message.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == (
        "steps.pdf", "application/pdf", pdf)

    stored = sqlite_platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.SENT
    assert stored.delivery.provider_id == maildir.sent()[0].key
    assert sqlite_platform.deps.store.provider_message("maildir", stored.delivery.provider_id) == (case.id, reply.id)
    assert dispatcher.stats.by_type["caseline.case.delivery_changed"] == 1  # queued → sent, for the live view


def test_the_customers_locale_picks_the_template(sqlite_platform, sqlite_world, maildir) -> None:
    from caseline.services.commands import UpdateCustomer
    from caseline.services.customers import update_customer

    update_customer(sqlite_platform.deps, sqlite_world.staff(sqlite_world.admin), sqlite_world.alice_id,
                    UpdateCustomer(locale="de-AT"), expected_version=1)
    case = _email_case(sqlite_platform, sqlite_world)
    cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id, AddReply(text="Hallo"))
    _dispatcher(sqlite_platform, maildir)[0].drain()
    [message] = _read(maildir)
    assert message["Content-Language"] == "de"
    assert f"Anfrage #{case.number}" in message.get_body(("plain",)).get_content()
    assert message["In-Reply-To"] is None  # no inbound email to answer: a new thread


def test_only_public_agent_replies_on_email_are_sent(sqlite_platform, sqlite_world, maildir) -> None:
    world, deps = sqlite_world, sqlite_platform.deps
    email_case = _email_case(sqlite_platform, world)
    chat_case = _email_case(sqlite_platform, world, channel=Channel.CHAT)
    cases.add_note(deps, world.staff(world.agent), email_case.id, AddNote(text="internal only"))
    cases.add_reply(deps, world.customer(world.alice_id), email_case.id, AddReply(text="customer writes"))
    cases.add_reply(deps, world.staff(world.agent), chat_case.id, AddReply(text="on chat"))
    switched = cases.add_reply(deps, world.staff(world.agent), chat_case.id,
                               AddReply(text="moving this to email", channel=Channel.EMAIL))
    _dispatcher(sqlite_platform, maildir)[0].drain()
    assert [m["Subject"] for m in _read(maildir)] == [f"Printer stops after 10 pages [#{chat_case.number}]"]
    assert deps.store.get_interaction(chat_case.id, switched.id).delivery_status is DeliveryStatus.SENT


def test_a_failing_sender_is_retried_with_backoff_then_the_reply_is_marked_failed(
        sqlite_platform, sqlite_world) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hello"))
    sender = Failing()
    dispatcher, sleeps = _dispatcher(sqlite_platform, sender)
    dispatcher.drain()
    assert sender.calls == 4
    assert sleeps == [dispatcher.base_delay * 2 ** n for n in range(3)]
    stored = sqlite_platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.FAILED
    assert "451 4.3.0 try later" in stored.delivery.detail
    [letter] = list(dispatcher.dead_letters())
    assert letter.consumer == NAME

    # the relay is back: replaying the dead letter sends it, and the status moves on to sent
    sender.failures = 0
    assert dispatcher.replay(NAME, letter.event.id)
    assert sqlite_platform.deps.store.get_interaction(case.id, reply.id).delivery_status is DeliveryStatus.SENT


def test_a_transient_failure_that_clears_ends_sent(sqlite_platform, sqlite_world) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hello"))
    sender = Failing(failures=2)
    _dispatcher(sqlite_platform, sender)[0].drain()
    stored = sqlite_platform.deps.store.get_interaction(case.id, reply.id)
    assert (sender.calls, stored.delivery_status, stored.delivery.provider_id) == (3, DeliveryStatus.SENT,
                                                                                   "accepted-1")


def test_a_permanent_refusal_fails_at_once_without_retries(sqlite_platform, sqlite_world) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hello"))
    sender = Failing(permanent=True)
    dispatcher, sleeps = _dispatcher(sqlite_platform, sender)
    dispatcher.drain()
    assert (sender.calls, sleeps, list(dispatcher.dead_letters())) == (1, [], [])
    stored = sqlite_platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.FAILED and "554" in stored.delivery.detail


def test_the_same_event_twice_sends_one_message(sqlite_platform, sqlite_world, maildir) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id, AddReply(text="Once"))
    consumer = outbound_email_consumer(maildir)
    dispatcher = OutboxDispatcher(sqlite_platform.table, sqlite_platform.deps, [consumer])
    events: list = []
    original = dispatcher._dispatch
    dispatcher._dispatch = lambda event: (events.append(event), original(event))  # type: ignore[method-assign]
    dispatcher.drain()
    [reply_added] = [e for e in events if e.type == "caseline.case.reply_added"]
    sqlite_platform.deps.store.forget_consumed(NAME, reply_added.id)  # as if the marker write was lost
    consumer.handle(sqlite_platform.deps, reply_added)
    deliver_with_retries(consumer, sqlite_platform.deps, reply_added, attempts=2, sleep=lambda _: None)
    assert len(maildir.sent()) == 1


def test_lambda_style_retries_give_up_then_raise(sqlite_platform, sqlite_world) -> None:
    case = _email_case(sqlite_platform, sqlite_world)
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hello"))
    events: list = []
    capture = Consumer("capture", frozenset(), lambda _deps, event: events.append(event), marker=False)
    OutboxDispatcher(sqlite_platform.table, sqlite_platform.deps, [capture]).drain()
    [reply_added] = [e for e in events if e.type == "caseline.case.reply_added"]
    sleeps: list[float] = []
    with pytest.raises(MailSendError):
        deliver_with_retries(outbound_email_consumer(Failing()), sqlite_platform.deps, reply_added, attempts=3,
                             base_delay=0.5, sleep=sleeps.append)
    assert sleeps == [0.5, 1.0]
    assert sqlite_platform.deps.store.get_interaction(case.id, reply.id).delivery_status is DeliveryStatus.FAILED


@pytest.mark.parametrize(("steps", "final"), [
    (["sent", "delivered", "bounced"], "bounced"),
    (["sent", "bounced", "delivered"], "bounced"),  # a late delivery report does not undo a bounce
    (["failed", "sent"], "sent"),  # a replay after the give-up
    (["sent", "delivered", "sent"], "delivered"),  # a replayed send changes nothing
    (["sent", "failed"], "failed"),  # taken, then rejected by the provider
    (["delivered", "failed"], "delivered"),
])
def test_delivery_status_only_moves_forward(sqlite_platform, sqlite_world, steps, final) -> None:
    from caseline.services.delivery import mark_delivery

    case = _email_case(sqlite_platform, sqlite_world)
    reply = cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id,
                            AddReply(text="Hello"))
    for step in steps:
        mark_delivery(sqlite_platform.deps, case.id, reply.id, DeliveryStatus(step), f"step {step}")
    stored = sqlite_platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status.value == final == stored.delivery.status.value


def test_staff_connections_hear_of_the_delivery_change(sqlite_platform, sqlite_world, maildir) -> None:
    """The live socket's case.changed for caseline.case.delivery_changed is what makes the agent app refetch."""
    from caseline.adapters.connections import TableConnectionRegistry
    from caseline.adapters.embedded.sqlite_table import SqliteTable
    from caseline.consumers.registry import local_consumers
    from caseline.services import realtime

    from .test_realtime import RecordingPusher

    table = SqliteTable.memory()
    live = realtime.LiveUpdates(TableConnectionRegistry(table, scope="test"), RecordingPusher())
    realtime.open_connection(live, sqlite_world.staff(sqlite_world.agent).principal, "a=",
                             now=int(sqlite_platform.deps.clock.now().timestamp()))
    case = _email_case(sqlite_platform, sqlite_world)
    cases.add_reply(sqlite_platform.deps, sqlite_world.staff(sqlite_world.agent), case.id, AddReply(text="Hi"))
    OutboxDispatcher(sqlite_platform.table, sqlite_platform.deps, local_consumers(live, maildir)).drain()
    event_types = [n["event_type"] for n in live.pusher.sent["a="] if n["case"]["id"] == case.id]
    assert event_types[-1] == "caseline.case.delivery_changed"
    assert "caseline.case.reply_added" in event_types
    table.close()


def test_collaborators_are_copied_and_bouncing_addresses_are_not_written_to(
        sqlite_platform, sqlite_world, maildir) -> None:
    deps, world = sqlite_platform.deps, sqlite_world
    case = _email_case(sqlite_platform, world)
    bob = deps.store.get_customer(world.bob_id)
    uow = deps.store.begin()
    uow.put_case(case.model_copy(update={"collaborator_ids": [world.bob_id], "version": case.version + 1}),
                 expected_version=case.version, error=lambda: AssertionError("stale"), previous=case)
    uow.commit()
    first = cases.add_reply(deps, world.staff(world.agent), case.id, AddReply(text="Copying Bob"))
    _dispatcher(sqlite_platform, maildir)[0].drain()
    [message] = _read(maildir)
    assert [a.addr_spec for a in message["Cc"].addresses] == [bob.primary_email]
    assert maildir.sent()[0].recipients == ("alice@example.com", bob.primary_email)
    assert deps.store.get_interaction(case.id, first.id).delivery_status is DeliveryStatus.SENT

    alice = deps.store.get_customer(world.alice_id)
    uow = deps.store.begin()
    uow.put_customer(alice.model_copy(update={"bouncing_emails": ["alice@example.com"], "version": alice.version + 1}),
                     expected_version=alice.version, error=lambda: AssertionError("stale"))
    uow.commit()
    second = cases.add_reply(deps, world.staff(world.agent), case.id, AddReply(text="Anyone there?"))
    _dispatcher(sqlite_platform, maildir)[0].drain()
    assert len(maildir.sent()) == 1
    stored = deps.store.get_interaction(case.id, second.id)
    assert stored.delivery_status is DeliveryStatus.FAILED and "bounced before" in stored.delivery.detail


def test_the_composition_root_picks_the_sender_from_settings(tmp_path: Path) -> None:
    from caseline import bootstrap
    from caseline.adapters.aws.mail_ses import SesMailSender
    from caseline.adapters.embedded.mail_smtp import SmtpRelayMailSender
    from caseline.settings import Settings

    local = bootstrap.mail_sender(Settings(data_dir=tmp_path))
    assert isinstance(local, MaildirMailSender) and local.directory == tmp_path / "mail" / "outbox"
    relay = bootstrap.mail_sender(Settings.from_env({
        "CASELINE_MAIL_SENDER": "smtp", "CASELINE_SMTP_RELAY_HOST": "smtp.example.net",
        "CASELINE_SMTP_RELAY_PORT": "2587", "CASELINE_SMTP_RELAY_STARTTLS": "false"}))
    assert isinstance(relay, SmtpRelayMailSender)
    assert (relay.host, relay.port, relay.starttls) == ("smtp.example.net", 2587, False)
    ses = bootstrap.mail_sender(Settings(adapters="aws", ses_configuration_set="support-mail", region="eu-west-1"))
    assert isinstance(ses, SesMailSender) and ses.configuration_set == "support-mail"
    assert ses._client is None  # no client is made until the first send
