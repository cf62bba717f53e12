"""Inbound mail ingestion on both table adapters: every outcome and rule of services/inbound_mail.py."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage
from email.utils import formataddr

import boto3
import pytest
from caseline.adapters.aws.s3_blobs import S3BlobStore
from caseline.domain.case import CaseStatus
from caseline.domain.errors import Forbidden
from caseline.domain.interaction import Channel, DeliveryStatus, Direction
from caseline.domain.mail import RejectionReason
from caseline.mail.threading import make_message_id
from caseline.services import cases, customers
from caseline.services.attachments import download_link
from caseline.services.commands import AddReply, UpdateCase
from caseline.services.context import Deps
from caseline.services.inbound_mail import MAX_TEXT, Outcome, ingest, source_id_for
from caseline.services.mail_rejections import list_rejections

from ..conftest import REGION, World
from ..mail.conftest import CASE_ID, INTERACTION_ID, MESSAGES, OURS

SUPPORT = f"support@{OURS}"


@pytest.fixture
def deps(platform, world: World) -> Deps:
    if isinstance(platform.deps.blobs, S3BlobStore):
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=platform.deps.blobs.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings = platform.deps.settings.model_copy(update={
        "support_addresses": [SUPPORT], "languages": ["en", "de", "es", "fr"], "language_low_accuracy": True,
    })
    return dataclasses.replace(platform.deps, settings=settings)


def message(sender: str = "carol@example.net", subject: str = "Printer stops after two pages",
            body: str = "Hello, my printer stops after two pages every time I print a report.",
            *, name: str = "Carol Customer", cc: list[str] = (), in_reply_to: str | None = None,
            headers: dict[str, str] | None = None, html: str | None = None,
            attachment: tuple[str, str, bytes] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((name, sender))
    msg["To"] = formataddr(("Support", SUPPORT))
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((sender, subject, body)))}@example.net>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        filename, content_type, data = attachment
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def send(deps: Deps, raw: bytes, *, source_id: str | None = None, recipients: list[str] | None = None, **kw):
    return ingest(deps, raw, recipients=recipients or [SUPPORT], source_id=source_id or source_id_for(raw), **kw)


def interactions(deps: Deps, world: World, case_id: str):
    return cases.get_case(deps, world.staff(world.admin), case_id, limit=100, cursor=None).interactions.items


def agent_reply(deps: Deps, world: World, case_id: str, status: CaseStatus | None = None):
    return cases.add_reply(deps, world.staff(world.agent), case_id, AddReply(text="Try this driver.", status=status))


def our_id(case_id: str, interaction_id: str) -> str:
    return make_message_id(case_id, interaction_id, OURS).strip("<>")


# --- new cases -------------------------------------------------------------------------------------------
def test_new_sender_opens_an_email_case_with_the_decoded_message(deps: Deps, world: World) -> None:
    raw = message(html="<p>Hello <b>there</b><script>alert(1)</script></p>",
                  attachment=("report.pdf", "application/pdf", b"%PDF-1.4 fake"))
    outcome = send(deps, raw)
    assert outcome.outcome is Outcome.CASE_OPENED
    case = deps.store.get_case(outcome.case_id)
    assert case.channel is Channel.EMAIL and case.subject == "Printer stops after two pages"
    assert case.status is CaseStatus.NEW and case.language == "en"
    assert case.sla is not None and case.due_at is not None and case.version == 1  # opened with its SLA clocks
    customer = deps.store.get_customer(case.requester_id)
    assert customer.name == "Carol Customer" and customer.emails == ["carol@example.net"]
    [first] = interactions(deps, world, case.id)
    assert first.direction is Direction.INBOUND and first.text.startswith("Hello, my printer stops")
    assert "<script" not in first.html and "<b>there</b>" in first.html
    assert first.email.message_id.endswith("@example.net")
    [pdf] = first.attachments
    assert (pdf.filename, pdf.content_type, pdf.size) == ("report.pdf", "application/pdf", 13)
    assert deps.blobs.get(pdf.key).data == b"%PDF-1.4 fake"
    assert first.raw_ref.content_type == "message/rfc822" and first.raw_ref.size == len(raw)
    assert deps.blobs.get(first.raw_ref.key).data == raw
    link = download_link(deps, world.staff(world.agent), case.id, first.raw_ref.sha256)
    assert link.filename == "message.eml"


def test_known_customer_gets_the_case_on_their_timeline(deps: Deps, world: World) -> None:
    outcome = send(deps, message("Alice@Example.com", name="Alice"))
    assert outcome.customer_id == world.alice_id
    timeline = customers.customer_timeline(deps, world.staff(world.agent), world.alice_id, limit=10, cursor=None,
                                           kind=None, channel="email")
    assert {entry.case_id for entry in timeline.items} == {outcome.case_id}


def test_language_is_detected_among_the_configured_ones(deps: Deps) -> None:
    body = "Guten Tag, mein Drucker hört nach zwei Seiten auf zu drucken. Können Sie mir bitte helfen?"
    outcome = send(deps, message(subject="Drucker", body=body))
    assert deps.store.get_case(outcome.case_id).language == "de"


def test_quoted_history_and_signature_are_kept_apart(deps: Deps, world: World) -> None:
    body = ("Still broken, see below.\n\n-- \nCarol\n\nOn Mon, 2 Nov 2026 at 10:00, Support <support@x> wrote:\n"
            "> Try the new driver.\n")
    outcome = send(deps, message(body=body))
    [first] = interactions(deps, world, outcome.case_id)
    assert first.text.strip() == "Still broken, see below."
    assert "Carol" in first.quoted_text


def test_corpus_messages_with_odd_encodings_still_open_cases(deps: Deps, world: World) -> None:
    for name in ("charset_unknown.eml", "bom_and_mbox.eml", "headers_8bit_latin1.eml", "outlook_msg_body.eml",
                 "inline_image_and_pdf.eml", "attached_message.eml"):
        raw = (MESSAGES / name).read_bytes()
        outcome = send(deps, raw)
        assert outcome.outcome is Outcome.CASE_OPENED, name
        [first] = interactions(deps, world, outcome.case_id)
        assert first.raw_ref is not None
    attached = interactions(deps, world, outcome.case_id)[0]
    assert any(a.filename.endswith(".eml") and a.content_type == "message/rfc822" for a in attached.attachments)


def test_mail_without_from_reaches_the_return_path_or_envelope_sender_or_is_rejected(deps: Deps, world: World) -> None:
    body = b"Subject: no from\r\nTo: " + SUPPORT.encode() + b"\r\n\r\nHello, who am I?\r\n"
    outcome = send(deps, b"Return-Path: <frank@example.net>\r\n" + body)
    assert outcome.outcome is Outcome.CASE_OPENED
    assert deps.store.get_customer(outcome.customer_id).emails == ["frank@example.net"]
    enveloped = send(deps, body + b"(sent again)\r\n", envelope_sender="gina@example.net")
    assert enveloped.outcome is Outcome.CASE_OPENED  # the SMTP MAIL FROM / SES source as the last resort
    assert deps.store.get_customer(enveloped.customer_id).emails == ["gina@example.net"]
    assert send(deps, body).reason == RejectionReason.NO_SENDER


def test_text_is_cut_at_200000_characters(deps: Deps, world: World) -> None:
    outcome = send(deps, message(body="word " * 60_000))
    [first] = interactions(deps, world, outcome.case_id)
    assert len(first.text) == MAX_TEXT


# --- idempotency -----------------------------------------------------------------------------------------
def test_the_same_source_twice_is_one_interaction(deps: Deps, world: World) -> None:
    raw = message()
    first = send(deps, raw, source_id="ses-0001")
    again = send(deps, raw, source_id="ses-0001")
    assert again.outcome is Outcome.DUPLICATE and again.first_outcome is Outcome.CASE_OPENED
    assert (again.case_id, again.interaction_id) == (first.case_id, first.interaction_id)
    assert len(interactions(deps, world, first.case_id)) == 1
    assert send(deps, raw, source_id="ses-0002").case_id != first.case_id  # another delivery: a new message


# --- threading -------------------------------------------------------------------------------------------
def _opened(deps: Deps, world: World, **kw):
    outcome = send(deps, message(**kw))
    reply = agent_reply(deps, world, outcome.case_id, CaseStatus.PENDING)
    return outcome, reply


def test_reply_to_our_message_id_joins_the_case_and_reopens_pending(deps: Deps, world: World) -> None:
    opened, ours = _opened(deps, world)
    answer = send(deps, message(subject="Re: something else", body="Thanks, that worked only once.",
                                in_reply_to=our_id(opened.case_id, ours.id)))
    assert answer.outcome is Outcome.REPLY_ADDED and answer.case_id == opened.case_id
    assert answer.thread_source == "message_id"
    assert deps.store.get_case(opened.case_id).status is CaseStatus.OPEN
    assert len(interactions(deps, world, opened.case_id)) == 3


def test_subject_token_threads_the_requester_but_not_a_stranger(deps: Deps, world: World) -> None:
    opened, _ = _opened(deps, world)
    token = f"Re: Printer [#{opened.case_number}]"
    assert send(deps, message(subject=token, body="Still there")).case_id == opened.case_id
    stranger = send(deps, message("mallory@example.com", subject=token, body="Let me in"))
    assert stranger.outcome is Outcome.CASE_OPENED and stranger.case_id != opened.case_id


def test_subject_text_alone_never_threads(deps: Deps) -> None:
    first = send(deps, message())
    again = send(deps, message(subject="Re: Printer stops after two pages", body="any news?"))
    assert again.outcome is Outcome.CASE_OPENED and again.case_id != first.case_id


def test_plus_address_threads(deps: Deps) -> None:
    first = send(deps, message())
    raw = message(body="more details")
    again = send(deps, raw, recipients=[f"support+c{first.case_number}@{OURS}"])
    assert again.outcome is Outcome.REPLY_ADDED and again.thread_source == "plus_address"


def _solve(deps: Deps, world: World, case_id: str) -> None:
    case = deps.store.get_case(case_id)
    cases.update_case(deps, world.staff(world.agent), case_id, UpdateCase(status=CaseStatus.SOLVED),
                      expected_version=case.version)


def test_reply_to_a_solved_case_reopens_it_within_the_window(deps: Deps, world: World, clock) -> None:
    opened, ours = _opened(deps, world)
    _solve(deps, world, opened.case_id)
    clock.advance(days=6)
    answer = send(deps, message(body="It broke again", in_reply_to=our_id(opened.case_id, ours.id)))
    assert answer.outcome is Outcome.REPLY_ADDED and answer.reopened
    assert deps.store.get_case(opened.case_id).status is CaseStatus.OPEN


def test_reply_after_the_window_opens_a_linked_follow_up(deps: Deps, world: World, clock) -> None:
    opened, ours = _opened(deps, world)
    _solve(deps, world, opened.case_id)
    clock.advance(days=8)
    answer = send(deps, message(body="It broke again", in_reply_to=our_id(opened.case_id, ours.id)))
    assert answer.outcome is Outcome.CASE_OPENED and answer.follow_up_of == opened.case_id
    assert deps.store.get_case(answer.case_id).follow_up_of == opened.case_id
    assert deps.store.get_case(opened.case_id).status is CaseStatus.SOLVED


def test_reply_to_a_closed_case_opens_a_follow_up(deps: Deps, world: World) -> None:
    opened, ours = _opened(deps, world)
    _solve(deps, world, opened.case_id)
    case = deps.store.get_case(opened.case_id)
    cases.update_case(deps, world.staff(world.agent), case.id, UpdateCase(status=CaseStatus.CLOSED),
                      expected_version=case.version)
    answer = send(deps, message(body="Hello again", in_reply_to=our_id(opened.case_id, ours.id)))
    assert answer.outcome is Outcome.CASE_OPENED and answer.follow_up_of == opened.case_id


def test_cc_becomes_collaborators_who_may_reply(deps: Deps, world: World) -> None:
    opened = send(deps, message(cc=["Bob <bob@example.org>", "dave@example.com", f"other@{OURS}"]))
    case = deps.store.get_case(opened.case_id)
    dave = deps.store.customer_for_identity("email", "dave@example.com")
    assert case.collaborator_ids == [world.bob_id, dave]
    ours = agent_reply(deps, world, case.id)
    answer = send(deps, message("bob@example.org", body="I see it too", in_reply_to=our_id(case.id, ours.id)))
    assert answer.outcome is Outcome.REPLY_ADDED and answer.case_id == case.id


# --- machines -------------------------------------------------------------------------------------------
def test_auto_reply_joins_the_case_without_reopening_or_answering(deps: Deps, world: World) -> None:
    opened, ours = _opened(deps, world)
    _solve(deps, world, opened.case_id)
    outcome = send(deps, message(subject="Automatic reply: Printer", body="I am out of the office until Monday.",
                                 in_reply_to=our_id(opened.case_id, ours.id),
                                 headers={"Auto-Submitted": "auto-replied"}))
    assert outcome.outcome is Outcome.AUTO_REPLY_RECORDED and outcome.case_id == opened.case_id
    assert deps.store.get_case(opened.case_id).status is CaseStatus.SOLVED
    recorded = interactions(deps, world, opened.case_id)[-1]
    assert recorded.author.kind.value == "system" and recorded.direction is Direction.INBOUND


def _corpus_about(name: str, case_id: str, interaction_id: str) -> bytes:
    raw = (MESSAGES / name).read_bytes()
    return raw.replace(CASE_ID.encode(), case_id.encode()).replace(INTERACTION_ID.encode(), interaction_id.encode())


def test_read_receipt_of_our_reply_joins_the_case_quietly(deps: Deps, world: World) -> None:
    opened, ours = _opened(deps, world)
    outcome = send(deps, _corpus_about("mdn.eml", opened.case_id, ours.id))
    assert outcome.outcome is Outcome.RECEIPT_RECORDED and outcome.case_id == opened.case_id
    assert deps.store.get_case(opened.case_id).status is CaseStatus.PENDING
    assert interactions(deps, world, opened.case_id)[-1].author.kind.value == "system"


def test_abuse_report_about_our_mail_is_an_internal_note(deps: Deps, world: World) -> None:
    opened, ours = _opened(deps, world)
    outcome = send(deps, _corpus_about("arf.eml", opened.case_id, ours.id))
    assert outcome.outcome is Outcome.COMPLAINT_RECORDED and outcome.case_id == opened.case_id
    note = deps.store.get_interaction(opened.case_id, outcome.interaction_id)
    assert note.visibility.value == "internal" and note.raw_ref is not None
    customer_view = cases.get_case(deps, world.customer(opened.customer_id), opened.case_id, limit=50, cursor=None)
    assert outcome.interaction_id not in {i.id for i in customer_view.interactions.items}


def test_auto_reply_without_a_case_is_a_recorded_rejection(deps: Deps, world: World) -> None:
    outcome = send(deps, (MESSAGES / "ooo_suppress_only.eml").read_bytes())
    assert outcome.outcome is Outcome.REJECTED and outcome.reason == RejectionReason.AUTO_REPLY_WITHOUT_CASE
    [rejection] = list_rejections(deps, world.staff(world.admin), limit=10, cursor=None).items
    assert rejection.id == outcome.rejection_id and rejection.kind == "auto_reply"
    assert deps.blobs.get(rejection.raw_key).data == (MESSAGES / "ooo_suppress_only.eml").read_bytes()


def test_bounce_of_our_message_marks_it_and_flags_the_address(deps: Deps, world: World) -> None:
    opened = send(deps, message("gone@example.org", name="Gone Person"))
    ours = agent_reply(deps, world, opened.case_id)
    assert ours.delivery_status is DeliveryStatus.QUEUED
    outcome = send(deps, _bounce_of(opened.case_id, ours.id))
    assert outcome.outcome is Outcome.BOUNCE_RECORDED and outcome.reason == "permanent"
    assert (outcome.case_id, outcome.interaction_id) == (opened.case_id, ours.id)
    bounced = deps.store.get_interaction(opened.case_id, ours.id)
    assert bounced.delivery_status is DeliveryStatus.BOUNCED and "5.1.1" in bounced.delivery.detail
    customer = deps.store.get_customer(opened.customer_id)
    assert customer.bouncing_emails == ["gone@example.org"]
    timeline = customers.customer_timeline(deps, world.staff(world.agent), customer.id, limit=20, cursor=None,
                                           kind=None, channel=None)
    assert any(e.payload.get("bounce") and e.summary.startswith("Mail bounced") for e in timeline.items)
    assert len(interactions(deps, world, opened.case_id)) == 2  # the bounce is no message on the case


def _bounce_of(case_id: str, interaction_id: str, *, delayed: bool = False) -> bytes:
    raw = (MESSAGES / "bounce_postfix.eml").read_bytes()
    raw = raw.replace(CASE_ID.encode(), case_id.encode()).replace(INTERACTION_ID.encode(), interaction_id.encode())
    if delayed:
        raw = raw.replace(b"Action: failed", b"Action: delayed").replace(b"Status: 5.1.1", b"Status: 4.4.7")
    return raw


def test_delay_report_leaves_the_message_queued_and_the_address_unflagged(deps: Deps, world: World) -> None:
    opened = send(deps, message("gone@example.org", name="Gone Person"))
    ours = agent_reply(deps, world, opened.case_id)
    outcome = send(deps, _bounce_of(opened.case_id, ours.id, delayed=True))
    assert outcome.outcome is Outcome.BOUNCE_RECORDED and outcome.reason == "delayed"
    assert deps.store.get_interaction(opened.case_id, ours.id).delivery_status is DeliveryStatus.QUEUED
    assert deps.store.get_customer(opened.customer_id).bouncing_emails == []
    timeline = customers.customer_timeline(deps, world.staff(world.agent), opened.customer_id, limit=20,
                                           cursor=None, kind=None, channel=None)
    assert any(e.summary.startswith("Mail delayed") for e in timeline.items)


def test_bounces_are_not_rate_limited(deps: Deps, world: World) -> None:
    deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"mail_rate_limit": 2}))
    opened = send(deps, message("gone@example.org", name="Gone Person"))
    replies = [agent_reply(deps, world, opened.case_id) for _ in range(4)]
    outcomes = [send(deps, _bounce_of(opened.case_id, reply.id)) for reply in replies]
    assert [o.outcome for o in outcomes] == [Outcome.BOUNCE_RECORDED] * 4
    assert all(deps.store.get_interaction(opened.case_id, r.id).delivery_status is DeliveryStatus.BOUNCED
               for r in replies)


def test_bounce_naming_nothing_of_ours_is_rejected(deps: Deps) -> None:
    outcome = send(deps, (MESSAGES / "bounce_exim.eml").read_bytes())
    assert outcome.outcome is Outcome.REJECTED and outcome.reason == RejectionReason.BOUNCE_NOT_OURS


def test_mail_from_our_own_address_is_a_loop(deps: Deps) -> None:
    outcome = send(deps, (MESSAGES / "from_us_loop.eml").read_bytes())
    assert outcome.reason == RejectionReason.LOOP


# --- limits ---------------------------------------------------------------------------------------------
def test_a_storm_from_one_sender_is_rate_limited(deps: Deps, clock) -> None:
    deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"mail_rate_limit": 3}))
    outcomes = [send(deps, message(body=f"message number {n} about the printer")) for n in range(5)]
    assert [o.outcome for o in outcomes] == [Outcome.CASE_OPENED] * 3 + [Outcome.REJECTED] * 2
    assert outcomes[-1].reason == RejectionReason.RATE_LIMITED
    assert send(deps, message("someone@example.com")).outcome is Outcome.CASE_OPENED  # per sender
    clock.advance(seconds=deps.settings.mail_rate_window_seconds)
    assert send(deps, message(body="after the window")).outcome is Outcome.CASE_OPENED


def test_a_message_delivered_twice_counts_once_towards_its_senders_limit(deps: Deps) -> None:
    deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"mail_rate_limit": 2}))
    first = message(body="the printer again")
    assert send(deps, first).outcome is Outcome.CASE_OPENED
    assert send(deps, first).outcome is Outcome.DUPLICATE  # the same delivery, retried by the relay
    assert send(deps, message(body="and the scanner")).outcome is Outcome.CASE_OPENED
    third = send(deps, message(body="and the fax"))
    assert third.reason == RejectionReason.RATE_LIMITED


def test_over_size_messages_are_refused(deps: Deps, world: World) -> None:
    deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"mail_max_bytes": 1000}))
    outcome = send(deps, message(body="x" * 2000))
    assert outcome.reason == RejectionReason.TOO_LARGE
    rejection = list_rejections(deps, world.staff(world.admin), limit=10, cursor=None).items[0]
    assert rejection.raw_key is None and rejection.size > 1000


def test_mail_for_someone_else_and_virus_verdicts_are_refused(deps: Deps) -> None:
    assert send(deps, message(), recipients=["info@elsewhere.example"]).reason == RejectionReason.NOT_FOR_US
    assert send(deps, message(body="with a virus"), verdicts={"virus": "FAIL"}).reason == RejectionReason.VIRUS


def test_rejections_page_newest_first_for_admins_only(deps: Deps, world: World) -> None:
    ids = [send(deps, (MESSAGES / "from_us_loop.eml").read_bytes(), source_id=f"s{n}").rejection_id
           for n in range(3)]
    admin = world.staff(world.admin)
    first = list_rejections(deps, admin, limit=2, cursor=None)
    rest = list_rejections(deps, admin, limit=2, cursor=first.cursor)
    assert [r.id for r in first.items + rest.items] == list(reversed(ids))
    with pytest.raises(Forbidden):
        list_rejections(deps, world.staff(world.supervisor), limit=2, cursor=None)


def test_reply_added_before_solved_and_after_keeps_one_interaction_per_message(deps: Deps, world: World,
                                                                               clock) -> None:
    opened, ours = _opened(deps, world)
    raw = message(body="Reply", in_reply_to=our_id(opened.case_id, ours.id))
    send(deps, raw, source_id="smtp-1")
    clock.advance(minutes=1)
    assert send(deps, raw, source_id="smtp-1").outcome is Outcome.DUPLICATE
    assert len(interactions(deps, world, opened.case_id)) == 3
