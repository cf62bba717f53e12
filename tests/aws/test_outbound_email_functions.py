"""The outbound-email and email-feedback functions on moto: a reply goes out through SES v2 in the
configuration set, and SES's SNS notifications (built here in the documented shape, wrapped as SNS delivers
them to Lambda) move the interaction to delivered or bounced and flag the customer."""

from __future__ import annotations

import email
import email.policy
import json
import uuid

import boto3
import pytest
from caseline import bootstrap
from caseline.domain.common import Channel
from caseline.domain.interaction import DeliveryStatus
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.services import cases
from caseline.services.commands import AddReply, CustomerRef, OpenCase
from caseline.services.publishing import envelope_from_item
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from ..conftest import REGION, _dynamodb_platform, make_world

pytestmark = pytest.mark.aws
TOPIC = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:caseline-email-feedback"


@pytest.fixture
def platform(aws, clock):
    ses = boto3.client("sesv2", region_name=REGION)
    ses.create_email_identity(EmailIdentity="caseline.localhost")
    ses.create_configuration_set(ConfigurationSetName="caseline")
    built = _dynamodb_platform(clock)
    bootstrap.use(built)
    yield built
    bootstrap.use(None)


def _context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()))


def _sent_reply(platform):
    world = make_world(platform)
    case = cases.open_case(platform.deps, world.staff(world.agent),
                           OpenCase(channel=Channel.EMAIL, subject="Invoice missing", text="Where is it?",
                                    requester=CustomerRef(customer_id=world.alice_id)))
    reply = cases.add_reply(platform.deps, world.staff(world.agent), case.id, AddReply(text="Attached soon."))
    [envelope] = [envelope_from_item(i) for i in platform.table.scan()
                  if i.get("entity") == "outbox" and i.get("event_type") == "caseline.case.reply_added"]
    bridge_event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type, "source": envelope.source,
                    "account": DEFAULT_ACCOUNT_ID, "time": "2026-11-02T09:00:00Z", "region": REGION,
                    "resources": [], "detail": envelope.model_dump(mode="json")}
    load_handler(FUNCTIONS_DIR, "outbound_email")(bridge_event, _context("outbound_email"))
    return world, case, reply


def _sns(notification: dict, message_id: str | None = None) -> dict:
    """An SNS → Lambda event carrying one SES notification."""
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": f"{TOPIC}:sub",
        "Sns": {"Type": "Notification", "MessageId": message_id or str(uuid.uuid4()), "TopicArn": TOPIC,
                "Subject": None, "Message": json.dumps(notification), "Timestamp": "2026-11-02T09:01:00.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://example.invalid/cert.pem",
                "UnsubscribeUrl": "https://example.invalid/unsub", "MessageAttributes": {}},
    }]}


def _ses_event(event_type: str, ses_message_id: str, **section: object) -> dict:
    mail = {"timestamp": "2026-11-02T09:00:00.000Z", "source": "support@caseline.localhost",
            "sourceArn": f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT_ID}:identity/caseline.localhost",
            "sendingAccountId": DEFAULT_ACCOUNT_ID, "messageId": ses_message_id,
            "destination": ["alice@example.com"], "headersTruncated": False,
            "tags": {"ses:configuration-set": ["caseline"]}}
    return {"eventType": event_type, "mail": mail, event_type.lower(): section}


def _feedback(event: dict) -> dict:
    return load_handler(FUNCTIONS_DIR, "email_feedback")(event, _context("email_feedback"))


def test_a_reply_goes_out_through_ses_in_the_configuration_set(platform) -> None:
    _, case, reply = _sent_reply(platform)
    backend = get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION]
    [sent] = backend.sent_messages
    assert sent.source == "support@caseline.localhost" and "alice@example.com" in sent.destinations
    message = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert message["Message-ID"] == f"<case-{case.id}.{reply.id}@caseline.localhost>"
    assert message["Subject"] == f"Invoice missing [#{case.number}]"
    stored = platform.deps.store.get_interaction(case.id, reply.id)
    assert (stored.delivery_status, stored.delivery.provider_id) == (DeliveryStatus.SENT, sent.id)
    assert platform.deps.store.provider_message("ses", sent.id) == (case.id, reply.id)


def test_delivery_then_a_late_duplicate_leave_the_reply_delivered(platform) -> None:
    _, case, reply = _sent_reply(platform)
    ses_id = platform.deps.store.get_interaction(case.id, reply.id).delivery.provider_id
    delivered = _ses_event("Delivery", ses_id, timestamp="2026-11-02T09:00:02.000Z", processingTimeMillis=900,
                           recipients=["alice@example.com"], smtpResponse="250 2.0.0 OK 1700000000",
                           reportingMTA="a8-1.smtp-out.amazonses.com")
    assert _feedback(_sns(delivered)) == {"applied": 1, "skipped": 0}
    assert _feedback(_sns(delivered)) == {"applied": 1, "skipped": 0}
    stored = platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.DELIVERED
    assert stored.delivery.detail == "250 2.0.0 OK 1700000000"


def test_a_permanent_bounce_marks_the_reply_and_the_address_once(platform) -> None:
    world, case, reply = _sent_reply(platform)
    ses_id = platform.deps.store.get_interaction(case.id, reply.id).delivery.provider_id
    bounce = _ses_event("Bounce", ses_id, bounceType="Permanent", bounceSubType="General",
                        feedbackId="0102017f-bounce-1", timestamp="2026-11-02T09:00:03.000Z",
                        bouncedRecipients=[{"emailAddress": "alice@example.com", "action": "failed",
                                            "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}])
    sns_id = str(uuid.uuid4())
    _feedback(_sns(bounce, sns_id))
    _feedback(_sns(bounce, sns_id))  # SNS delivers at least once
    stored = platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.BOUNCED
    assert "550 5.1.1 user unknown" in stored.delivery.detail
    customer = platform.deps.store.get_customer(world.alice_id)
    assert customer.bouncing_emails == ["alice@example.com"]
    timeline = platform.deps.store.timeline(world.alice_id, limit=50, cursor=None).items
    bounced = [e for e in timeline if e.payload.get("feedback") == "bounce"]
    assert len(bounced) == 1 and bounced[0].case_id == case.id and "Mail bounced" in bounced[0].summary
    # a delivery report arriving after the bounce does not move the reply back
    _feedback(_sns(_ses_event("Delivery", ses_id, recipients=["alice@example.com"], smtpResponse="250 ok")))
    assert platform.deps.store.get_interaction(case.id, reply.id).delivery_status is DeliveryStatus.BOUNCED


def test_a_complaint_flags_the_customer_and_goes_on_the_timeline(platform) -> None:
    world, case, reply = _sent_reply(platform)
    ses_id = platform.deps.store.get_interaction(case.id, reply.id).delivery.provider_id
    complaint = _ses_event("Complaint", ses_id, complaintFeedbackType="abuse", feedbackId="0102-complaint-1",
                           complainedRecipients=[{"emailAddress": "alice@example.com"}],
                           timestamp="2026-11-02T09:05:00.000Z", userAgent="Mail-Provider/1.0")
    _feedback(_sns(complaint))
    customer = platform.deps.store.get_customer(world.alice_id)
    assert customer.email_complaint_at is not None
    timeline = platform.deps.store.timeline(world.alice_id, limit=50, cursor=None).items
    assert any(e.payload.get("feedback") == "complaint" and "spam" in e.summary for e in timeline)
    # a complaint says nothing about delivery: the reply stays sent
    assert platform.deps.store.get_interaction(case.id, reply.id).delivery_status is DeliveryStatus.SENT


def test_reject_fails_the_reply_and_unknown_or_other_notifications_change_nothing(platform) -> None:
    _, case, reply = _sent_reply(platform)
    ses_id = platform.deps.store.get_interaction(case.id, reply.id).delivery.provider_id
    assert _feedback(_sns(_ses_event("Send", ses_id))) == {"applied": 0, "skipped": 1}
    _feedback(_sns(_ses_event("Bounce", "not-one-of-ours", bounceType="Permanent", bouncedRecipients=[])))
    assert platform.deps.store.get_interaction(case.id, reply.id).delivery_status is DeliveryStatus.SENT
    _feedback(_sns({"notificationType": "Reject", "mail": {"messageId": ses_id}, "reject": {"reason": "Bad content"}}))
    stored = platform.deps.store.get_interaction(case.id, reply.id)
    assert stored.delivery_status is DeliveryStatus.FAILED  # SES took it, then refused to send it
    assert stored.delivery.detail == "rejected by SES: Bad content"
    unreadable = _sns({})
    unreadable["Records"][0]["Sns"]["Message"] = "not json"
    with pytest.raises(ValueError):  # fails the invocation: Lambda retries, then the dead-letter queue
        _feedback(unreadable)
